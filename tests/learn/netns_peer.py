#!/usr/bin/python3
"""The guest and server sides of the learning integration test. Run inside
a test namespace (ip netns exec NS netns_peer.py CMD ...); every command
sends on eth0 only. Times printed are CLOCK_MONOTONIC seconds, the clock
learn-probe prints (in microseconds)."""
import argparse
import socket
import sys
import time

from scapy.all import (ARP, BOOTP, DHCP, DHCP6_Reply, DHCP6OptIA_NA, DHCP6OptIAAddress,
                       Ether, IP, IPv6, UDP, conf, get_if_hwaddr, raw, sendp, sniff)

IFACE = "eth0"
conf.verb = 0


def mac():
    return get_if_hwaddr(IFACE)


def chaddr(m):
    return bytes.fromhex(m.replace(":", "")) + bytes(10)


def out(*args):
    print(*args, flush=True)


def raw_socket():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((IFACE, 0))
    return s


def cmd_send_ip(a):
    """Frames are built and the socket opened first, so the printed time is
    the moment of the send itself (the flood test measures from it)."""
    s = raw_socket()
    for src in a.src:
        frame = raw(Ether(src=a.src_mac or mac(), dst=a.dst_mac) / IP(src=src, dst=a.dst) /
                    UDP(sport=4000, dport=4000) / b"learn")
        out(f"sent {time.monotonic():.6f}")
        s.send(frame)


def cmd_send_ip6(a):
    for src in a.src:
        sendp(Ether(src=mac(), dst=a.dst_mac) / IPv6(src=src, dst=a.dst) / UDP(sport=4000, dport=4000) / b"learn",
              iface=IFACE)


def cmd_sniff(a):
    """Print the source address of every UDP datagram to port 4000 seen
    between "listening" and a line on stdin."""
    from scapy.all import AsyncSniffer
    sn = AsyncSniffer(iface=IFACE, store=True,
                      lfilter=lambda p: p.haslayer(UDP) and p[UDP].dport == 4000)
    sn.start()
    time.sleep(0.5)
    out("listening")
    sys.stdin.readline()
    time.sleep(0.3)
    sn.stop()
    for p in sn.results:
        src = p[IP].src if p.haslayer(IP) else p[IPv6].src
        out(f"got {src}")


def cmd_send_arp(a):
    sendp(Ether(src=mac(), dst="ff:ff:ff:ff:ff:ff") /
          ARP(op=a.op, hwsrc=mac(), psrc=a.src, pdst="10.0.0.1"), iface=IFACE)


def dhcp_client_frame(mtype, xid, options=(), ciaddr="0.0.0.0", src="0.0.0.0"):
    m = mac()
    return (Ether(src=m, dst="ff:ff:ff:ff:ff:ff") / IP(src=src, dst="255.255.255.255") /
            UDP(sport=68, dport=67) /
            BOOTP(op=1, chaddr=chaddr(m), xid=xid, ciaddr=ciaddr, flags=0x8000) /
            DHCP(options=[("message-type", mtype)] + list(options) + ["end"]))


def exchange(frame, want_type, xid, timeout=3):
    """Send FRAME and return the DHCP reply of type WANT_TYPE for XID."""
    def match(p):
        return (p.haslayer(BOOTP) and p[BOOTP].op == 2 and p[BOOTP].xid == xid and
                ("message-type", want_type) in [o for o in p[DHCP].options if isinstance(o, tuple)])
    from scapy.all import AsyncSniffer
    sn = AsyncSniffer(iface=IFACE, lfilter=match, count=1, timeout=timeout)
    sn.start()
    time.sleep(0.2)
    sendp(frame, iface=IFACE)
    sn.join()
    res = sn.results
    return res[0] if res else None


def cmd_dora(a):
    xid = a.xid
    offer = exchange(dhcp_client_frame("discover", xid), 2, xid)
    if offer is None:
        out("no offer")
        sys.exit(1)
    addr = offer[BOOTP].yiaddr
    ack = exchange(dhcp_client_frame("request", xid, [("requested_addr", addr),
                                                      ("server_id", a.server)]), 5, xid)
    if ack is None:
        out("no ack")
        sys.exit(1)
    out(f"leased {ack[BOOTP].yiaddr}")


def cmd_request(a):
    ack = exchange(dhcp_client_frame("request", a.xid, [("requested_addr", a.addr)]), 5, a.xid)
    if ack is None:
        out("no ack")
        sys.exit(1)
    out(f"leased {ack[BOOTP].yiaddr}")


def cmd_release(a):
    m = mac()
    sendp(Ether(src=m, dst=a.server_mac) / IP(src=a.addr, dst=a.server) / UDP(sport=68, dport=67) /
          BOOTP(op=1, chaddr=chaddr(m), xid=a.xid, ciaddr=a.addr) /
          DHCP(options=[("message-type", "release"), ("server_id", a.server), "end"]), iface=IFACE)


def cmd_decline(a):
    sendp(dhcp_client_frame("decline", a.xid, [("requested_addr", a.addr)]), iface=IFACE)


def cmd_dhcp_server(a):
    """Answers DISCOVER with the next pool address and REQUEST with the
    requested address (a NAK for transaction --nak-xid); lease time per
    address from --lease ADDR=SECS."""
    m = mac()
    leases = dict(x.split("=") for x in a.lease)
    pool = iter(a.pool)

    def reply(p, mtype, addr):
        secs = int(leases.get(addr, a.default_lease))
        sendp(Ether(src=m, dst="ff:ff:ff:ff:ff:ff") / IP(src=a.ip, dst="255.255.255.255") /
              UDP(sport=67, dport=68) /
              BOOTP(op=2, xid=p[BOOTP].xid, yiaddr=addr, siaddr=a.ip, chaddr=p[BOOTP].chaddr, flags=0x8000) /
              DHCP(options=[("message-type", mtype), ("server_id", a.ip), ("lease_time", secs),
                            ("subnet_mask", "255.255.255.0"), "end"]), iface=IFACE)

    def handle(p):
        if not p.haslayer(DHCP) or p[BOOTP].op != 1:
            return
        opts = dict(o for o in p[DHCP].options if isinstance(o, tuple) and len(o) == 2)
        if opts.get("message-type") == 1:
            reply(p, "offer", next(pool))
        elif opts.get("message-type") == 3 and p[BOOTP].xid == a.nak_xid:
            reply(p, "nak", "0.0.0.0")
        elif opts.get("message-type") == 3:
            reply(p, "ack", opts.get("requested_addr", p[BOOTP].ciaddr))

    out("serving")
    sniff(iface=IFACE, lfilter=lambda p: p.haslayer(UDP) and p[UDP].dport == 67, prn=handle,
          store=False)


def cmd_rogue_ack(a):
    sendp(Ether(src=mac(), dst=a.vm_mac) / IP(src=a.ip, dst=a.addr) / UDP(sport=67, dport=68) /
          BOOTP(op=2, xid=99, yiaddr=a.addr, siaddr=a.ip, chaddr=chaddr(a.vm_mac)) /
          DHCP(options=[("message-type", "ack"), ("server_id", a.ip), ("lease_time", 3600), "end"]),
          iface=IFACE)


def cmd_dhcp6_reply(a):
    sendp(Ether(src=mac(), dst=a.vm_mac) / IPv6(src=a.src, dst="fe80::1:1") / UDP(sport=547, dport=546) /
          DHCP6_Reply(trid=0x1234) /
          DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=a.addr, preflft=a.valid, validlft=a.valid)]),
          iface=IFACE)


def cmd_flood(a):
    """DHCP DISCOVERs at --rate frames/s for --seconds, paced in 10 ms slices."""
    frame = raw(dhcp_client_frame("discover", 0x42))
    s = raw_socket()
    per_slice = a.rate // 100
    sent = 0
    start = time.monotonic()
    out(f"flooding {start:.6f}")
    for i in range(int(a.seconds * 100)):
        for _ in range(per_slice):
            s.send(frame)
        sent += per_slice
        delay = start + (i + 1) / 100 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    elapsed = time.monotonic() - start
    out(f"flooded {sent} {elapsed:.3f}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("send-ip"); c.add_argument("src", nargs="+"); c.add_argument("--dst", default="10.0.0.1")
    c.add_argument("--dst-mac", default="ff:ff:ff:ff:ff:ff"); c.add_argument("--src-mac")
    c.set_defaults(f=cmd_send_ip)
    c = sub.add_parser("send-ip6"); c.add_argument("src", nargs="+"); c.add_argument("--dst", default="2001:db8::1")
    c.add_argument("--dst-mac", default="33:33:00:00:00:01"); c.set_defaults(f=cmd_send_ip6)
    c = sub.add_parser("sniff"); c.set_defaults(f=cmd_sniff)
    c = sub.add_parser("send-arp"); c.add_argument("src"); c.add_argument("--op", type=int, default=1)
    c.set_defaults(f=cmd_send_arp)
    c = sub.add_parser("dora"); c.add_argument("--xid", type=int, default=1); c.add_argument("--server")
    c.set_defaults(f=cmd_dora)
    c = sub.add_parser("request"); c.add_argument("addr"); c.add_argument("--xid", type=int, default=2)
    c.set_defaults(f=cmd_request)
    c = sub.add_parser("release"); c.add_argument("addr"); c.add_argument("--server")
    c.add_argument("--server-mac"); c.add_argument("--xid", type=int, default=3); c.set_defaults(f=cmd_release)
    c = sub.add_parser("decline"); c.add_argument("addr"); c.add_argument("--xid", type=int, default=4)
    c.set_defaults(f=cmd_decline)
    c = sub.add_parser("dhcp-server"); c.add_argument("--ip"); c.add_argument("--pool", nargs="+")
    c.add_argument("--lease", nargs="*", default=[]); c.add_argument("--default-lease", type=int, default=3600)
    c.add_argument("--nak-xid", type=int, default=-1)
    c.set_defaults(f=cmd_dhcp_server)
    c = sub.add_parser("rogue-ack"); c.add_argument("addr"); c.add_argument("--ip"); c.add_argument("--vm-mac")
    c.set_defaults(f=cmd_rogue_ack)
    c = sub.add_parser("dhcp6-reply"); c.add_argument("addr"); c.add_argument("--src"); c.add_argument("--vm-mac")
    c.add_argument("--valid", type=int, default=3600); c.set_defaults(f=cmd_dhcp6_reply)
    c = sub.add_parser("flood"); c.add_argument("--rate", type=int, default=10000)
    c.add_argument("--seconds", type=float, default=3); c.set_defaults(f=cmd_flood)
    a = p.parse_args()
    a.f(a)


if __name__ == "__main__":
    main()
