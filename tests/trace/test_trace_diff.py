#!/usr/bin/env python3
"""Differential test: nwfilter trace's verdict against the kernel's, packet
by packet.

For every stock filter and the custom filters in data/, random frames are
generated around the values the filter tree uses (its addresses, their
neighbours and far ones, ports at range edges, broadcast and multicast
MACs, VLAN tags, ARP variants, BPDUs...). The tracer judges each one
(nwfilter trace --batch). The kernel judges the same frames: the binding
is applied by each backend (nwfilter apply --backend) in a bridge inside
network namespaces made here, frames the VM sends go from the VM
namespace through the bridge to a peer namespace and frames to the VM the
other way, and a frame counts as accepted when it arrives. Every packet
must get the same verdict from both. Runs as root only, and only in the
namespaces it creates (nwf-trace-<pid>-*), which are always deleted.

Conntrack: the table is flushed before each filter's packets, every flow
is unique (no packet is the reply of another), and the conntrack state
the kernel gives each first packet (new, invalid for ICMP errors and
unsolicited replies, untracked for neighbour discovery) is passed to the
tracer with --state.

Environment: NWF_TRACE_DIFF_PACKETS (default 5000 per filter),
NWF_TRACE_DIFF_FILTERS (comma list, default all), NWF_TRACE_DIFF_BACKENDS
(default "ebiptables,nft"), NWF_TRACE_DIFF_SEED.
"""
import ctypes
import ipaddress
import itertools
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_tap import finish, ok, todo  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NWF_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("NWF_BUILD_ROOT", "")
TOOL = os.path.join(BUILD, "tools", "nwfilter")
DATA = os.path.join(HERE, "data")
STOCK = os.path.join(SOURCE, "src", "nwfilter", "xml")

PER_FILTER = int(os.environ.get("NWF_TRACE_DIFF_PACKETS", "5000"))
SEED = int(os.environ.get("NWF_TRACE_DIFF_SEED", "20261124"))
BACKENDS = os.environ.get("NWF_TRACE_DIFF_BACKENDS", "ebiptables,nft").split(",")

VM_MAC = "52:54:00:00:00:01"
PEER_MAC = "52:54:00:00:00:77"
BRIDGE_MACS = ("02:00:00:00:ee:00", "02:00:00:00:ee:01", "02:00:00:00:ee:02")
HOST_IP = "10.0.0.254"           # br0's address: frames to it go to TO_HOST
HOST_PROTOCOLS = (1, 2, 6, 17, 50, 132, 253)
MAGIC = b"NWFT"

PARAMS = [("IP", "10.0.0.9"), ("IP", "10.0.0.10"), ("IPV6", "fd00::9"),
          ("DHCPSERVER", "10.0.0.1"), ("GATEWAY_MAC", "52:54:00:00:00:fe"),
          ("SRCS", "10.0.0.9"), ("SRCS", "10.0.0.20"), ("PORTS", "22"), ("PORTS", "443"),
          ("MACS", VM_MAC), ("MACS", "52:54:00:00:00:02")]
CUSTOM = ["trace-diff-l4", "trace-diff-icmp", "trace-diff-eth", "trace-diff-iter",
          "trace-diff-stp"]


def note(text):
    print("# " + text)
    sys.stdout.flush()


def run(*argv, ns=None, check=True, **kw):
    if ns:
        argv = ("ip", "netns", "exec", ns) + tuple(argv)
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), proc.stderr.strip()))
    return proc


# --- network namespaces ------------------------------------------------------

CLONE_NEWNET = 0x40000000
SO_RCVBUFFORCE = 33
ETH_P_ALL = 3
PACKET_OUTGOING = 4
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class Bed:
    """br (bridge br0, ports vnet0 = the filtered VM port, vpeer), vm, peer."""

    def __init__(self):
        base = "nwf-trace-%d" % os.getpid()
        self.br, self.vm, self.peer = base + "-br", base + "-vm", base + "-peer"
        self.made = []

    def up(self):
        for ns in (self.br, self.vm, self.peer):
            run("ip", "netns", "add", ns)
            self.made.append(ns)
            run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        br = self.br
        run("ip", "-n", br, "link", "add", "br0", "address", BRIDGE_MACS[0], "type", "bridge",
            "stp_state", "0", "mcast_snooping", "0")
        run("ip", "-n", br, "link", "add", "vnet0", "address", BRIDGE_MACS[1], "type", "veth",
            "peer", "name", "eth0", "netns", self.vm)
        run("ip", "-n", br, "link", "add", "vpeer", "address", BRIDGE_MACS[2], "type", "veth",
            "peer", "name", "eth0", "netns", self.peer)
        for port in ("vnet0", "vpeer"):
            run("ip", "-n", br, "link", "set", port, "master", "br0", "up")
            # no learning: every frame is flooded to the other port, whatever
            # source MACs went by before
            run("bridge", "link", "set", "dev", port, "learning", "off", ns=br)
        run("ip", "-n", br, "link", "set", "br0", "up")
        run("ip", "-n", br, "addr", "add", HOST_IP + "/24", "dev", "br0")
        run("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.br0.rp_filter=0",
            ns=br)
        for ns in (self.vm, self.peer):
            run("ip", "-n", ns, "link", "set", "eth0", "up", "promisc", "on")
        run("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1",
            "net.bridge.bridge-nf-call-ip6tables=1", ns=br)

    def down(self):
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made = []

    def sockets(self, ns, packet=True):
        """Sockets that stay in NS: an AF_PACKET one on eth0, or raw IPv4
        ones that get what the host accepts for each HOST_PROTOCOLS."""
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/" + ns, os.O_RDONLY)
        made = []
        try:
            setns(target)
            if packet:
                made.append(socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                          socket.htons(ETH_P_ALL)))
                made[0].bind(("eth0", 0))
            else:
                made = [socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
                        for proto in HOST_PROTOCOLS]
            for s in made:
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
                s.setblocking(False)
        finally:
            setns(home)
            os.close(home)
            os.close(target)
        return made


# --- frames ------------------------------------------------------------------

def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


CRC32C = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82f63b78 if _c & 1 else 0)
    CRC32C.append(_c)


def crc32c(data):
    c = 0xffffffff
    for b in data:
        c = CRC32C[(c ^ b) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


def l4_with_csum(l4, at, src, dst, proto):
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(l4))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(l4), proto)
    value = csum(pseudo + l4)
    if proto == 17 and value == 0:
        value = 0xffff
    return l4[:at] + struct.pack("!H", value) + l4[at + 2:]


def build_ip(v6, src, dst, proto, l4, tos):
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if proto == 6:
        l4 = l4_with_csum(l4, 16, s, d, 6)
    elif proto == 17:
        l4 = l4_with_csum(l4, 6, s, d, 17)
    elif proto == 58:
        l4 = l4_with_csum(l4, 2, s, d, 58)
    elif proto in (1, 2):
        l4 = l4[:2] + struct.pack("!H", csum(l4[:2] + b"\0\0" + l4[4:])) + l4[4:]
    elif proto == 132:
        l4 = l4[:8] + struct.pack("<I", crc32c(l4[:8] + b"\0\0\0\0" + l4[12:])) + l4[12:]
    if v6:
        return struct.pack("!IHBB", 0x60000000 | (tos << 20), len(l4), proto, 64) + s + d + l4
    head = struct.pack("!BBHHHBBH", 0x45, tos, 20 + len(l4), 1, 0, 64, proto, 0) + s + d
    head = head[:10] + struct.pack("!H", csum(head)) + head[12:]
    return head + l4


def build_eth(dst, src, etype, body, vlan=None):
    head = mac_bytes(dst) + mac_bytes(src)
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    return head + struct.pack("!H", etype) + body


# --- value pools from the filter tree ----------------------------------------

def tree_attrs(name, seen=None):
    """(element, attribute, value) of every rule attribute in NAME's filter
    tree (filters looked up as nwfilter trace --filter-dir DATA does)."""
    seen = set() if seen is None else seen
    if name in seen:
        return []
    seen.add(name)
    for d in (DATA, STOCK):
        path = os.path.join(d, name + ".xml")
        if os.path.exists(path):
            break
    else:
        return []
    with open(path) as f:
        text = f.read()
    found = []
    for elem in re.findall(r"<([a-z0-9-]+)\s([^>]*)/?>", text):
        attrs = dict(re.findall(r"([a-z-]+)=['\"]([^'\"]*)['\"]", elem[1]))
        if elem[0] == "filterref":
            found += tree_attrs(attrs.get("filter", ""), seen)
        elif elem[0] not in ("filter", "rule", "parameter"):
            found += [(elem[0], k, v) for k, v in attrs.items() if k not in ("match", "comment")]
    return found


class Pools:
    def __init__(self, name):
        self.ip4, self.ip6, self.mac, self.num = set(), set(), set(), set()
        values = [v for _, _, v in tree_attrs(name)] + [v for _, v in PARAMS]
        for v in values:
            try:
                addr = ipaddress.ip_address(v)
            except ValueError:
                addr = None
            if addr is not None:
                (self.ip4 if addr.version == 4 else self.ip6).add(v)
            elif re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", v):
                self.mac.add(v)
            elif re.fullmatch(r"[0-9]+|0x[0-9a-f]+", v) and int(v, 0) < 65536:
                self.num.add(int(v, 0))
        self.ip4 |= {"10.0.0.1", "10.0.0.9", "0.0.0.0", "255.255.255.255", "224.0.0.1"}
        self.ip6 |= {"fd00::1", "fd00::9", "fe80::1", "ff02::1", "ff02::1:2", "::"}
        self.mac |= {VM_MAC, PEER_MAC, "ff:ff:ff:ff:ff:ff"}
        self.num |= {0, 22, 53, 67, 68, 80, 546, 547, 1000, 65535}
        self.ip4, self.ip6 = sorted(self.ip4), sorted(self.ip6)
        self.mac, self.num = sorted(self.mac), sorted(self.num)


def near_ip(rng, pools, v6):
    base = ipaddress.ip_address(rng.choice(pools.ip6 if v6 else pools.ip4))
    r = rng.random()
    top = 2 ** (128 if v6 else 32) - 1
    if r < 0.4:
        value = int(base)
    elif r < 0.7:
        value = int(base) + rng.choice((-1, 1, -2, 2, 15, 16, 17))
    elif r < 0.85:
        value = (int(base) & ~0xff) | rng.randrange(256)
    else:
        value = rng.randrange(top)
        if v6 and rng.random() < 0.5:
            value = (0xfe80 << 112) | rng.randrange(2 ** 64)
    value = max(0, min(top, value))
    return str(ipaddress.ip_address(value) if not v6 else ipaddress.IPv6Address(value))


def near_num(rng, pools, top=65535):
    r = rng.random()
    if r < 0.6:
        v = rng.choice(pools.num) + rng.choice((-1, 0, 0, 1))
    else:
        v = rng.randrange(top + 1)
    return max(0, min(top, v))


def rand_unicast(rng):
    b = [rng.randrange(256) for _ in range(6)]
    b[0] &= 0xfe
    if b == [0] * 6:
        b[5] = 1
    return ":".join("%02x" % x for x in b)


def near_mac(rng, pools, unicast):
    r = rng.random()
    if r < 0.55:
        mac = rng.choice(pools.mac)
    elif r < 0.8:
        b = mac_bytes(rng.choice(pools.mac))
        mac = ":".join("%02x" % x for x in b[:5] + bytes([(b[5] + rng.choice((1, 255))) % 256]))
    elif not unicast and r < 0.9:
        mac = rng.choice(("33:33:00:00:00:01", "33:33:ff:00:00:09", "01:00:5e:00:00:01",
                          "01:80:c2:00:00:00"))
    else:
        mac = rand_unicast(rng)
    if mac in BRIDGE_MACS or (unicast and (mac_bytes(mac)[0] & 1 or mac == "00:00:00:00:00:00")):
        return rand_unicast(rng)
    if mac.startswith("01:80:c2:00:00:") and mac != "01:80:c2:00:00:00":
        return "ff:ff:ff:ff:ff:ff"
    return mac


class Generator:
    """Random frames with unique flows; each ends in MAGIC + id."""

    def __init__(self, rng, pools, ids):
        self.rng, self.pools = rng, pools
        self.flows = set()
        self.ids = ids             # shared by all filters: ids never repeat
        self.last_flow = None
        self.replies = []        # flows to answer: (original id, out, flow, macs)

    def tail(self, pid):
        return MAGIC + struct.pack("!I", pid)

    def unique(self, key, reverse):
        if reverse in self.flows or key in self.flows:
            return False
        self.flows.add(key)
        return True

    def ip_packet(self, pid, v6, to_host=False):
        rng, pools = self.rng, self.pools
        src, dst = near_ip(rng, pools, v6), near_ip(rng, pools, v6)
        if to_host:
            # a source the host's routing takes (same subnet, not its own)
            last = int(ipaddress.ip_address(src)) & 0xff
            src, dst = "10.0.0.%d" % (last if 0 < last < 254 else 9), HOST_IP
        tos = rng.choice((0, 0, 10, 40, rng.randrange(256)))
        payload = self.tail(pid)
        kind = rng.choice(("tcp", "tcp", "udp", "udp", "icmp", "icmp", "other", "sctp")
                          + (() if v6 else ("igmp", "esp")))
        state = "new"
        self.last_flow = None
        if kind in ("tcp", "udp", "sctp"):
            proto = {"tcp": 6, "udp": 17, "sctp": 132}[kind]
            dport = near_num(rng, pools)
            sport = near_num(rng, pools) if rng.random() < 0.5 else 1024 + pid % 60000
            if not self.unique((proto, src, dst, sport, dport), (proto, dst, src, dport, sport)):
                return None
            if kind == "tcp":
                flags, state = rng.choice(((0x02, "new"), (0x02, "new"), (0x10, "new"),
                                           (0x18, "new"), (0x12, "invalid"), (0x04, "invalid"),
                                           (0x11, "invalid")))
                opts = b""
                if rng.random() < 0.3:
                    opts = rng.choice((b"\x02\x04\x05\xb4", b"\x01\x03\x03\x07",
                                       b"\x04\x02\x01\x01"))
                l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 1 if flags & 0x10 else 0,
                                 (5 + len(opts) // 4) << 4, flags, 64240, 0, 0) + opts + payload
                if flags == 0x02:
                    self.last_flow = (v6, src, dst, proto, sport, dport, tos)
            elif kind == "udp":
                l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
                self.last_flow = (v6, src, dst, proto, sport, dport, tos)
            else:
                # an INIT chunk alone starts an association; the id rides in
                # an optional parameter (conntrack refuses bytes after INIT)
                l4 = (struct.pack("!HHII", sport, dport, 0, 0)
                      + struct.pack("!BBHIIHHIHH", 1, 0, 32, 0x1234, 65535, 1, 1, 1, 0x8008, 12)
                      + payload)
        elif kind == "icmp":
            proto = 58 if v6 else 1
            if v6:
                itype = rng.choice((128, 128, 129, 133, 134, 135, 136, 137, 1, 143,
                                    rng.randrange(256)))
                state = ("new" if itype in (128, 139) else
                         "untracked" if itype in (130, 131, 132, 133, 134, 135, 136, 143) else
                         "invalid")
            else:
                itype = rng.choice((8, 8, 0, 3, 11, 13, rng.randrange(256)))
                state = "new" if itype in (8, 13, 15, 17) else "invalid"
            code = rng.choice((0, 0, 1, rng.randrange(256)))
            ident = pid & 0xffff
            if not self.unique((proto, src, dst, "icmp", ident), (proto, dst, src, "icmp", ident)):
                return None
            l4 = struct.pack("!BBHHH", itype, code, 0, ident, 1) + payload
        else:
            proto = {"igmp": 2, "esp": 50, "other": 253}[kind]
            if not self.unique((proto, src, dst), (proto, dst, src)):
                return None
            if kind == "igmp":
                l4 = struct.pack("!BBH4s", 0x16, 0, 0, ipaddress.ip_address("224.0.0.9").packed)
                l4 += payload
            elif kind == "esp":
                l4 = struct.pack("!II", 0x100 + pid, 1) + payload
            else:
                l4 = payload
        return build_ip(v6, src, dst, proto, l4, tos), state

    def arp_body(self, pid, rarp):
        rng, pools = self.rng, self.pools
        op = rng.choice((1, 2, 1, 2, 3, 4) if not rarp else (3, 3, 4, 1))
        htype = 1 if rng.random() < 0.9 else 6
        ptype = 0x0800 if rng.random() < 0.9 else 0x86dd
        sha = near_mac(rng, pools, True)
        tha = rng.choice(("00:00:00:00:00:00", near_mac(rng, pools, True)))
        spa = near_ip(rng, pools, False)
        tpa = spa if rng.random() < 0.15 else near_ip(rng, pools, False)
        return (struct.pack("!HHBBH", htype, ptype, 6, 4, op) + mac_bytes(sha)
                + ipaddress.ip_address(spa).packed + mac_bytes(tha)
                + ipaddress.ip_address(tpa).packed + self.tail(pid))

    def bpdu(self, pid):
        rng, pools = self.rng, self.pools
        bpdu_type = rng.choice((0, 0, 0, 0x80, 2))
        version = 0 if rng.random() < 0.85 else 2
        body = b"\x42\x42\x03\x00\x00" + bytes([version, bpdu_type])
        if bpdu_type != 0x80:
            prio = rng.choice((0x8000, 0x80ff, 0x7fff, 0x8100, rng.randrange(65536)))
            body += struct.pack("!BH6sIH6sHHHHH", rng.choice((0, 1, 0x80)), prio,
                                mac_bytes(near_mac(rng, pools, True)), rng.randrange(2 ** 32),
                                rng.choice((0x8000, 0x8001, rng.randrange(65536))),
                                mac_bytes(near_mac(rng, pools, True)),
                                rng.choice((0, 1, 0x8001, 0x8002, rng.randrange(65536))),
                                rng.randrange(65536), 20 << 8, 2 << 8, 15 << 8)
        return struct.pack("!H", len(body)) + body + self.tail(pid)

    def reply_frames(self):
        """The answer to each recorded flow, sent the other way: a SYN gets
        its SYN-ACK, a UDP datagram a datagram back. (frame, original id,
        id, out) each."""
        made = []
        for orig, out, (v6, src, dst, proto, sport, dport, tos), (smac, dmac) in self.replies:
            pid = next(self.ids)
            payload = self.tail(pid)
            if proto == 6:
                l4 = struct.pack("!HHIIBBHHH", dport, sport, 100, 2, 5 << 4, 0x12, 64240, 0,
                                 0) + payload
            else:
                l4 = struct.pack("!HHHH", dport, sport, 8 + len(payload), 0) + payload
            body = build_ip(v6, dst, src, proto, l4, tos)
            made.append((build_eth(smac, dmac, 0x86dd if v6 else 0x0800, body), orig, pid,
                         not out, proto))
        return made

    def host_frame(self, pid):
        made = self.ip_packet(pid, False, to_host=True)
        if made is None:
            return None
        src = VM_MAC if self.rng.random() < 0.8 else near_mac(self.rng, self.pools, True)
        return build_eth(BRIDGE_MACS[0], src, 0x0800, made[0]), made[1], pid, "host"

    def frame(self, out):
        """(frame bytes, conntrack state, id, direction) or None when a flow
        repeated. Direction: True out (bridged), "host" out to the host,
        False in."""
        rng, pools = self.rng, self.pools
        pid = next(self.ids)
        if out and rng.random() < 0.1:
            return self.host_frame(pid)
        if out:
            src = VM_MAC if rng.random() < 0.7 else near_mac(rng, pools, True)
            dst = near_mac(rng, pools, False)
        else:
            src = near_mac(rng, pools, True)
            dst = VM_MAC if rng.random() < 0.6 else near_mac(rng, pools, False)
        kind = rng.choices(("ipv4", "ipv6", "arp", "rarp", "vlan", "stp", "other"),
                           (40, 22, 16, 4, 6, 6, 6))[0]
        state = "new"
        if kind in ("ipv4", "ipv6"):
            made = self.ip_packet(pid, kind == "ipv6")
            if made is None:
                return None
            body, state = made
            frame = build_eth(dst, src, 0x86dd if kind == "ipv6" else 0x0800, body)
            # only unicast: the bridge also hands a broadcast or multicast
            # frame to the host, whose copy commits the connection even when
            # the filter drops the bridged one
            if self.last_flow and not mac_bytes(dst)[0] & 1 and rng.random() < 0.8:
                self.replies.append((pid, out, self.last_flow, (src, dst)))
        elif kind in ("arp", "rarp"):
            frame = build_eth(dst, src, 0x8035 if kind == "rarp" else 0x0806,
                              self.arp_body(pid, kind == "rarp"))
        elif kind == "vlan":
            vid = rng.choice((10, 10, 1, 11, 4095, rng.randrange(4096)))
            inner = rng.choice(("ipv4", "arp", "other"))
            if inner == "ipv4":
                made = self.ip_packet(pid, False)
                if made is None:
                    return None
                frame = build_eth(dst, src, 0x0800, made[0], vlan=vid)
            elif inner == "arp":
                frame = build_eth(dst, src, 0x0806, self.arp_body(pid, False), vlan=vid)
            else:
                frame = build_eth(dst, src, 0x88b5, self.tail(pid), vlan=vid)
        elif kind == "stp":
            frame = mac_bytes("01:80:c2:00:00:00") + mac_bytes(src) + self.bpdu(pid)
        else:
            etype = rng.choice((0x88b5, 0x88cc, 0x9000, 0x0842))
            frame = build_eth(dst, src, etype, b"\0" * rng.choice((0, 2, 10)) + self.tail(pid))
        return frame, state, pid, out


# --- one filter ---------------------------------------------------------------

def write_binding(tmp, name):
    params = "".join("    <parameter name='%s' value='%s'/>\n" % (n, v) for n, v in PARAMS
                     if not (name == "allow-dhcpv6-server" and n == "DHCPSERVER"))
    if name == "allow-dhcpv6-server":
        params += "    <parameter name='DHCPSERVER' value='fd00::1'/>\n"
    path = os.path.join(tmp, name + ".binding.xml")
    with open(path, "w") as f:
        f.write("<filterbinding>\n  <owner><name>vm</name>"
                "<uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>\n"
                "  <portdev name='vnet0'/>\n  <mac address='%s'/>\n"
                "  <filterref filter='%s'>\n%s  </filterref>\n</filterbinding>\n"
                % (VM_MAC, name, params))
    return path


def tracer_start(binding, packets, backend, tmp, tag="first"):
    """nwfilter trace --batch over PACKETS, running in the background."""
    batch = os.path.join(tmp, "%s.%s.%s.batch" % (os.path.basename(binding), backend, tag))
    with open(batch, "w") as f:
        for frame, state, pid, out in packets:
            f.write("--direction %s%s --state %s --ct-dir %s --frame %s\n"
                    % ("out" if out else "in", " --to-host" if out == "host" else "",
                       state.split("/")[0], state.split("/")[1] if "/" in state else "original",
                       frame.hex()))
    return subprocess.Popen([TOOL, "trace", "--backend", backend, "--binding", binding,
                             "--filter-dir", DATA, "--batch", batch],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def tracer_finish(proc, packets):
    out, err = proc.communicate()
    verdicts = out.split()
    if proc.returncode != 0 or len(verdicts) != len(packets):
        raise RuntimeError("trace --batch failed (%d): %s" % (proc.returncode, err[-2000:]))
    return {p[2]: v for p, v in zip(packets, verdicts)}


def describe(packets, want, seen):
    return "\n".join("id %d %s state=%s tracer=%s kernel=%s frame=%s"
                     % (p[2], {True: "out", False: "in"}.get(p[3], p[3]), p[1], want[p[2]],
                        "accept" if p[2] in seen else "drop", p[0].hex())
                     for p in packets[:12]) + "\n(%d mismatches)" % len(packets)


def drain(socks, expect, seen, quiet):
    """Note in SEEN the ids of EXPECT (id -> frame) that arrived unchanged
    (the host also quotes frames in its ICMP errors); with QUIET > 0, read
    until nothing came for that long."""
    while True:
        ready, _, _ = select.select(socks, [], [], quiet)
        if not ready:
            return
        for sock in ready:
            while True:
                try:
                    data, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if sock.family == socket.AF_PACKET and addr[2] == PACKET_OUTGOING:
                    continue
                at = data.rfind(MAGIC)
                if at < 0 or at + 8 > len(data):
                    continue
                pid = struct.unpack("!I", data[at + 4:at + 8])[0]
                frame = expect.get(pid)
                # a raw IP socket gets the packet without its Ethernet header,
                # a packet socket a VLAN tag apart (in the auxiliary data)
                if frame is not None and data in (frame, frame[14:], frame[:12] + frame[16:]):
                    seen.add(pid)


def kernel_pass(socks, packets):
    """The ids of PACKETS that arrived on the other side."""
    seen = set()
    for direction, tx, rx in ((True, "vm", "peer"), ("host", "vm", "host"),
                              (False, "peer", "vm")):
        tx, rx = socks[tx][0], socks[rx]
        drain(rx, {}, set(), 0)
        batch = [p for p in packets if p[3] == direction]
        expect = {p[2]: p[0] for p in batch}
        for i in range(0, len(batch), 64):
            for frame, _, _, _ in batch[i:i + 64]:
                tx.send(frame)
            drain(rx, expect, seen, 0)
        drain(rx, expect, seen, 0.05)
    return seen


class Case:
    """One filter: its binding, packets and the tracer's verdicts per backend."""

    def __init__(self, name, tmp, rng, ids):
        self.name = name
        self.binding = write_binding(tmp, name)
        self.want = {}
        self.packets = []
        gen = Generator(rng, Pools(name), ids)
        # the backends' matches differ only for STP fields and VLAN
        # encap-protocol: elsewhere one tracer run serves both
        self.neutral = not any(e == "stp" or k == "encap-protocol"
                               for e, k, _ in tree_attrs(name))
        while len(self.packets) < PER_FILTER:
            out = rng.random() < 0.6
            made = gen.frame(out)
            if made:
                self.packets.append(made)
        self.replies = gen.reply_frames()
        self.tmp = tmp
        self.procs = {}

    def start(self, backend):
        if self.neutral:
            backend = "nft"
        if backend not in self.procs:
            self.procs[backend] = tracer_start(self.binding, self.packets, backend, self.tmp)

    def verdicts(self, backend):
        if self.neutral:
            backend = "nft"
        self.start(backend)
        if backend not in self.want:
            self.want[backend] = tracer_finish(self.procs[backend], self.packets)
        return self.want[backend]


def check_case(bed, socks, case, backend):
    """Apply CASE's binding with BACKEND (replacing the previous one) and
    compare. Returns the number of packets compared."""
    name, packets = case.name, case.packets
    try:
        want = case.verdicts(backend)
    except RuntimeError as e:
        ok(False, "%s/%s: trace" % (name, backend), e)
        return 0
    applied = run(TOOL, "apply", "--backend", backend, "--binding", case.binding,
                  "--filter-dir", DATA, ns=bed.br, check=False)
    if applied.returncode != 0:
        ok(False, "%s/%s: apply" % (name, backend), applied.stderr)
        return 0
    run("conntrack", "-F", ns=bed.br, check=False)
    seen = kernel_pass(socks, packets)
    # the answers: established replies where the tracer let the flow's
    # first packet through (the kernel then holds its connection)
    # (a SYN-ACK without its SYN is invalid to conntrack)
    replies = [(frame, "established/reply" if want[orig] == "accept" else
                "invalid" if proto == 6 else "new", pid, out)
               for frame, orig, pid, out, proto in case.replies]
    try:
        want.update(tracer_finish(tracer_start(case.binding, replies, backend, case.tmp,
                                               "replies"), replies))
    except RuntimeError as e:
        ok(False, "%s/%s: trace of the replies" % (name, backend), e)
        return 0
    seen |= kernel_pass(socks, replies)
    packets = packets + replies
    wrong = [p for p in packets if (p[2] in seen) != (want[p[2]] == "accept")]
    if wrong:
        # a frame lost under load is not a verdict: send the mismatches
        # again, one by one
        seen |= kernel_pass(socks, wrong)
        wrong = [p for p in wrong if (p[2] in seen) != (want[p[2]] == "accept")]
    accepted = sum(1 for p in packets if want[p[2]] == "accept")
    established = sum(1 for p in replies if p[1].startswith("established"))
    to_host = sum(1 for p in packets if p[3] == "host")
    ok(not wrong, "%s/%s: %d packets (%d to the host, %d established replies), tracer == "
       "kernel (%d accepted, %d refused)" % (name, backend, len(packets), to_host, established,
                                             accepted, len(packets) - accepted),
       describe(wrong, want, seen))
    return len(packets)


def missing_capability():
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip", "bridge", "conntrack", "sysctl"):
        if not shutil.which(tool):
            return "needs " + tool
    if not os.path.exists(TOOL):
        return "nwfilter tool not built"
    return None


def main():
    why = missing_capability()
    if why:
        print("1..0 # SKIP %s" % why)
        return 1 if os.environ.get("CI") == "true" else 0
    names = sorted(f[:-4] for f in os.listdir(STOCK) if f.endswith(".xml")) + CUSTOM
    only = os.environ.get("NWF_TRACE_DIFF_FILTERS")
    if only:
        names = [n for n in names if n in only.split(",")]
    rng = random.Random(SEED)
    bed = Bed()
    total = 0
    started = time.monotonic()
    try:
        bed.up()
        socks = {"vm": bed.sockets(bed.vm), "peer": bed.sockets(bed.peer),
                 "host": bed.sockets(bed.br, packet=False)}
        with tempfile.TemporaryDirectory(prefix="nwf-trace-diff-") as tmp:
            ids = itertools.count(1)
            cases = [Case(name, tmp, rng, ids) for name in names]
            # one backend at a time (each apply replaces the port's rules);
            # the tracer works two cases ahead of the kernel
            order = [(backend, case) for backend in BACKENDS for case in cases]
            for i, (backend, case) in enumerate(order):
                for ahead_backend, ahead in order[i:i + 3]:
                    ahead.start(ahead_backend)
                total += check_case(bed, socks, case, backend)
                if i + 1 == len(order) or order[i + 1][0] != backend:
                    run(TOOL, "remove", "--backend", backend, "--port", "vnet0", ns=bed.br,
                        check=False)
    finally:
        bed.down()
    note("compared %d packets (tracer vs kernel) over %d filters and backends %s in %.0f s"
         % (total, len(names), ",".join(BACKENDS), time.monotonic() - started))
    ok(total >= 5000 * len(names) * len(BACKENDS) or PER_FILTER < 5000,
       "at least 5000 packets per filter and backend compared (%d in all)" % total)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
