#!/usr/bin/python3
"""The guests' and the server's side of the learning integration tests:
frames sent and received on eth0 of a test namespace.

The tests use it in their own process: a Peer opens its packet sockets
inside the namespace it names (setns on the calling thread, then straight
back), so a probe costs no interpreter start and no scapy import. Every
socket is bound to eth0 (or the fence link) of that namespace; nothing is
sent anywhere else.

The flood runs as a process of its own (ip netns exec NS netns_peer.py
flood ...), so that its pace does not share an interpreter with the
harness. Times are CLOCK_MONOTONIC seconds, the clock learn-probe prints
(in microseconds)."""
import argparse
import contextlib
import ctypes
import os
import select
import socket
import threading
import time

from scapy.compat import raw
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import DHCP6_Reply, DHCP6OptIA_NA, DHCP6OptIAAddress
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether

IFACE = "eth0"
# A guest's second link to the bridge, on a port without filters: a fence
# frame sent there after a guest's frames reaches the server after them.
FENCE_IFACE = "fence"
FENCE_TYPE = 0x88b5     # IEEE local experimental EtherType
BROADCAST = "ff:ff:ff:ff:ff:ff"
ETH_P_ALL = 0x0003
CLONE_NEWNET = 0x40000000
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33     # not in Python's socket module

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _bound(proto, iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
    try:
        s.bind((iface, proto))
        if proto:
            # Room for everything a case sends while nobody reads.
            s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    except OSError:
        s.close()
        raise
    return s


def chaddr(m):
    return bytes.fromhex(m.replace(":", "")) + bytes(10)


def receive(s, timeout):
    """The next frame eth0 received on S (scapy Ether), None after TIMEOUT
    seconds (0: only what is queued already)."""
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None
        data, addr = s.recvfrom(65535)
        # Before bind() the socket heard every interface; our own sends
        # come back as outgoing.
        if addr[0] == IFACE and addr[2] != PACKET_OUTGOING:
            return Ether(data)


def dhcp_type(p):
    for o in p[DHCP].options:
        if isinstance(o, tuple) and o[0] == "message-type":
            return o[1]
    return None


class Sniffer:
    """Listens on eth0 from its creation until the with-block ends."""

    def __init__(self, sock):
        self.sock = sock

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
        return False

    def sources_before(self, token, timeout=10):
        """The source addresses of the UDP datagrams to port 4000 received
        before the fence frame TOKEN, in order."""
        sources = []
        deadline = time.monotonic() + timeout
        while (p := receive(self.sock, deadline - time.monotonic())) is not None:
            if p.type == FENCE_TYPE and raw(p.payload)[:len(token)] == token:
                return sources
            if p.haslayer(UDP) and p[UDP].dport == 4000:
                sources.append(p[IP].src if p.haslayer(IP) else p[IPv6].src)
        raise RuntimeError(f"the fence frame did not arrive within {timeout} s")


@contextlib.contextmanager
def one_cpu():
    """This thread on one CPU for the block. A frame sent on a veth waits
    in the sending CPU's backlog, and a frame the bridge forwards joins the
    backlog of the CPU forwarding it: so frames sent from one CPU over the
    same number of hops reach their end in the order they were sent."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


class DhcpServer:
    """Answers DISCOVER with the next pool address and REQUEST with the
    requested address (a NAK for transaction NAK_XID), from a thread of
    its own; lease time per address from LEASES {addr: secs}. Serving once
    the constructor returns. .acked: {addr: the time of the latest ACK}."""

    def __init__(self, sock, ip, pool, leases, default_lease, nak_xid):
        self.sock, self.ip, self.pool = sock, ip, iter(pool)
        self.leases, self.default_lease, self.nak_xid = leases, default_lease, nak_xid
        self.mac = sock.getsockname()[4].hex(":")
        self.acked = {}
        self.errors = []
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _reply(self, p, mtype, addr):
        secs = int(self.leases.get(addr, self.default_lease))
        self.sock.send(raw(
            Ether(src=self.mac, dst=BROADCAST) / IP(src=self.ip, dst="255.255.255.255") /
            UDP(sport=67, dport=68) /
            BOOTP(op=2, xid=p[BOOTP].xid, yiaddr=addr, siaddr=self.ip, chaddr=p[BOOTP].chaddr,
                  flags=0x8000) /
            DHCP(options=[("message-type", mtype), ("server_id", self.ip), ("lease_time", secs),
                          ("subnet_mask", "255.255.255.0"), "end"])))

    def _handle(self, p):
        if not (p.haslayer(DHCP) and p[UDP].dport == 67 and p[BOOTP].op == 1):
            return
        mtype = dhcp_type(p)
        if mtype == 1:
            addr = next(self.pool, None)
            if addr is not None:    # an exhausted pool offers nothing
                self._reply(p, "offer", addr)
        elif mtype == 3 and p[BOOTP].xid == self.nak_xid:
            self._reply(p, "nak", "0.0.0.0")
        elif mtype == 3:
            opts = dict(o for o in p[DHCP].options if isinstance(o, tuple) and len(o) == 2)
            addr = opts.get("requested_addr", p[BOOTP].ciaddr)
            self.acked[addr] = time.monotonic()
            self._reply(p, "ack", addr)

    def _serve(self):
        while True:
            ready, _, _ = select.select([self.sock, self.stop_r], [], [])
            if self.stop_r in ready:
                return
            p = receive(self.sock, 0)
            try:
                if p is not None:
                    self._handle(p)
            except Exception as e:   # reported by stop(), the server goes on
                self.errors.append(f"{type(e).__name__}: {e}")

    def stop(self):
        """Stops serving; what went wrong while serving (a list)."""
        os.write(self.stop_w, b"x")
        self.thread.join(10)
        for fd in (self.stop_r, self.stop_w):
            os.close(fd)
        self.sock.close()
        return self.errors


class Peer:
    """Sends and receives on eth0 of network namespace NS (None: the one
    this thread is in)."""

    def __init__(self, ns=None):
        self.ns = ns

    def socket(self, receive_all=False, iface=IFACE):
        """A packet socket bound to IFACE of the namespace; it sends, and
        with RECEIVE_ALL receives every frame too."""
        proto = ETH_P_ALL if receive_all else 0
        if self.ns is None:
            return _bound(proto, iface)
        target = os.open(f"/run/netns/{self.ns}", os.O_RDONLY)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            _setns(target)
            try:
                if os.stat("/proc/thread-self/ns/net").st_ino != os.fstat(target).st_ino:
                    raise OSError(f"setns did not enter {self.ns}")
                return _bound(proto, iface)
            finally:
                _setns(home)
        finally:
            os.close(target)
            os.close(home)

    def _send(self, *frames):
        with self.socket() as s:
            mac = s.getsockname()[4].hex(":")
            for f in frames:
                s.send(raw(f(mac)))

    def send_ip(self, sources, dst=None, dst_mac=BROADCAST, src_mac=None):
        """A UDP datagram to port 4000 from each of SOURCES (IPv4, or IPv6
        when the first is) to DST (by default the server's address); the
        time of each send. Frames are built and the
        socket opened first, so a time is the moment of the send itself
        (the flood case measures learning from it)."""
        with self.socket() as s:
            src_mac = src_mac or s.getsockname()[4].hex(":")
            ip, dst = (IPv6, dst or "2001:db8::1") if ":" in sources[0] else (IP, dst or "10.0.0.1")
            frames = [raw(Ether(src=src_mac, dst=dst_mac) / ip(src=src, dst=dst) /
                          UDP(sport=4000, dport=4000) / b"learn") for src in sources]
            times = []
            for frame in frames:
                times.append(time.monotonic())
                s.send(frame)
        return times

    def sniff(self):
        """A Sniffer on eth0: listening when this returns."""
        return Sniffer(self.socket(receive_all=True))

    def send_fence(self, dst_mac):
        """A fence frame to DST_MAC from the fence link; its token."""
        token = os.urandom(8)
        with self.socket(iface=FENCE_IFACE) as s:
            s.send(raw(Ether(src=s.getsockname()[4].hex(":"), dst=dst_mac, type=FENCE_TYPE) /
                       token))
        return token

    def send_arp(self, src, op=1):
        self._send(lambda m: Ether(src=m, dst=BROADCAST) /
                   ARP(op=op, hwsrc=m, psrc=src, pdst="10.0.0.1"))

    @staticmethod
    def _dhcp_client(m, mtype, xid, options=()):
        return (Ether(src=m, dst=BROADCAST) / IP(src="0.0.0.0", dst="255.255.255.255") /
                UDP(sport=68, dport=67) /
                BOOTP(op=1, chaddr=chaddr(m), xid=xid, flags=0x8000) /
                DHCP(options=[("message-type", mtype)] + list(options) + ["end"]))

    def _exchange(self, mtype, xid, options, want_type, timeout=3):
        """Send a client message and return the server's reply of type
        WANT_TYPE for XID, None after TIMEOUT s. The socket listens before
        the message leaves, so no reply can be missed."""
        with self.socket(receive_all=True) as s:
            s.send(raw(self._dhcp_client(s.getsockname()[4].hex(":"), mtype, xid, options)))
            deadline = time.monotonic() + timeout
            while (p := receive(s, deadline - time.monotonic())) is not None:
                if (p.haslayer(DHCP) and p[BOOTP].op == 2 and p[BOOTP].xid == xid and
                        dhcp_type(p) == want_type):
                    return p
        return None

    def dora(self, server, xid=1):
        """DISCOVER, OFFER, REQUEST, ACK: "leased ADDR", or what was missing."""
        offer = self._exchange("discover", xid, (), 2)
        if offer is None:
            return "no offer"
        ack = self._exchange("request", xid, [("requested_addr", offer[BOOTP].yiaddr),
                                              ("server_id", server)], 5)
        return "no ack" if ack is None else f"leased {ack[BOOTP].yiaddr}"

    def request(self, addr, xid=2):
        """A REQUEST for ADDR: "leased ADDR", or "no ack" (a NAK, or no answer)."""
        ack = self._exchange("request", xid, [("requested_addr", addr)], 5)
        return "no ack" if ack is None else f"leased {ack[BOOTP].yiaddr}"

    def release(self, addr, server, server_mac, xid=3):
        """A RELEASE with the address in ciaddr, as real clients send it."""
        self._send(lambda m: Ether(src=m, dst=server_mac) / IP(src=addr, dst=server) /
                   UDP(sport=68, dport=67) / BOOTP(op=1, chaddr=chaddr(m), xid=xid, ciaddr=addr) /
                   DHCP(options=[("message-type", "release"), ("server_id", server), "end"]))

    def decline(self, addr, xid=4):
        self._send(lambda m: self._dhcp_client(m, "decline", xid, [("requested_addr", addr)]))

    def dhcp_server(self, ip, pool, leases=None, default_lease=3600, nak_xid=-1):
        return DhcpServer(self.socket(receive_all=True), ip, pool, leases or {}, default_lease,
                          nak_xid)

    def rogue_ack(self, addr, ip, vm_mac):
        self._send(lambda m: Ether(src=m, dst=vm_mac) / IP(src=ip, dst=addr) /
                   UDP(sport=67, dport=68) /
                   BOOTP(op=2, xid=99, yiaddr=addr, siaddr=ip, chaddr=chaddr(vm_mac)) /
                   DHCP(options=[("message-type", "ack"), ("server_id", ip),
                                 ("lease_time", 3600), "end"]))

    def dhcp6_reply(self, addr, src, vm_mac, valid=3600):
        self._send(lambda m: Ether(src=m, dst=vm_mac) / IPv6(src=src, dst="fe80::1:1") /
                   UDP(sport=547, dport=546) / DHCP6_Reply(trid=0x1234) /
                   DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(
                       addr=addr, preflft=valid, validlft=valid)]))

    def flood(self, rate, seconds):
        """DHCP DISCOVERs at RATE frames/s for SECONDS, paced in 10 ms
        slices; prints when it starts and what it sent."""
        with self.socket() as s:
            frame = raw(self._dhcp_client(s.getsockname()[4].hex(":"), "discover", 0x42))
            per_slice = rate // 100
            sent = 0
            start = time.monotonic()
            print(f"flooding {start:.6f}", flush=True)
            for i in range(int(seconds * 100)):
                for _ in range(per_slice):
                    s.send(frame)
                sent += per_slice
                delay = start + (i + 1) / 100 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            print(f"flooded {sent} {time.monotonic() - start:.3f}", flush=True)


def main():
    p = argparse.ArgumentParser(description="run inside a test namespace")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("flood")
    c.add_argument("--rate", type=int, default=10000)
    c.add_argument("--seconds", type=float, default=3)
    a = p.parse_args()
    Peer().flood(a.rate, a.seconds)


if __name__ == "__main__":
    main()
