#!/usr/bin/env python3
"""Timed probe streams for the firewalld test, on raw packet sockets (no
scapy: a sender must keep a steady few milliseconds between rounds).

  probe_stream.py send IFACE NAME SRC_MAC DST_MAC SRC_IP DST_IP GAP
      every GAP seconds, three frames from SRC to DST: NAME-spoof (UDP from
      10.0.0.77, which clean-traffic drops), NAME-telnet (TCP SYN to port
      2323, which the test filter drops) and NAME-legit (UDP, must pass).
      Each carries "NWFT:<tag>:<seq>:<send time>". On SIGTERM prints the
      number of rounds sent.
  probe_stream.py recv IFACE OUT
      writes "<tag> <seq> <send time> <receive time>" to the file OUT for
      each probe that arrives on IFACE, until SIGTERM; prints "ready" once
      it listens.

Times are CLOCK_REALTIME seconds, the clock every network namespace
shares."""

import re
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SPOOF_IP = "10.0.0.77"
PROBE_RE = re.compile(rb"NWFT:([A-Za-z0-9_-]+):(\d+):(\d+\.\d+)")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def frame(src_mac, dst_mac, src_ip, dst_ip, proto, sport, dport, payload):
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    if proto == socket.IPPROTO_UDP:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    else:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 100, 0, 5 << 4, 0x02, 64240, 0, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(l4))
    csum = checksum(pseudo + l4)
    at = 6 if proto == socket.IPPROTO_UDP else 16
    l4 = l4[:at] + struct.pack("!H", csum or 0xFFFF) + l4[at + 2:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + b"\x08\x00" + ip + l4


def stop_on_term():
    state = {"stop": False}

    def handler(*_):
        state["stop"] = True
    signal.signal(signal.SIGTERM, handler)
    return state


def send(iface, name, src_mac, dst_mac, src_ip, dst_ip, gap):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    state = stop_on_term()
    kinds = (("spoof", SPOOF_IP, socket.IPPROTO_UDP, 5000),
             ("telnet", src_ip, socket.IPPROTO_TCP, 2323),
             ("legit", src_ip, socket.IPPROTO_UDP, 5000))
    seq = 0
    while not state["stop"]:
        for kind, source, proto, dport in kinds:
            payload = b"NWFT:%s-%s:%d:%.6f" % (name.encode(), kind.encode(), seq, time.time())
            # fixed ports: each kind stays one conntrack entry (a new one per
            # probe would fill the table, which then drops everything)
            try:
                sock.send(frame(src_mac, dst_mac, source, dst_ip, proto, 4000, dport, payload))
            except OSError:
                pass    # a full queue loses a probe, which only thins the stream
        seq += 1
        time.sleep(gap)
    print(seq, flush=True)


def recv(iface, out):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    sock.settimeout(0.2)
    state = stop_on_term()
    print("ready", flush=True)
    log = open(out, "w")
    while not state["stop"]:
        try:
            data, addr = sock.recvfrom(65535)
        except (socket.timeout, InterruptedError):
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        m = PROBE_RE.search(data)
        if m:
            log.write("%s %s %s %.6f\n" % (m.group(1).decode(), m.group(2).decode(),
                                            m.group(3).decode(), time.time()))
    log.close()


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(*sys.argv[2:8], float(sys.argv[8]))
    else:
        recv(sys.argv[2], sys.argv[3])
