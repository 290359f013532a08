#!/usr/bin/python3
"""Writes the frame vectors of tests/learn/frames: NAME.hex (the frame as
scapy builds it) and NAME.expected (what the decoder must report, written
here from the values the frame was built with, not from our decoder).
Run it again after adding a case; the files are committed."""
import os
import sys

from scapy.all import (ARP, BOOTP, DHCP, DHCP6_Release, DHCP6_Reply, DHCP6OptIA_NA,
                       DHCP6OptIAAddress, DHCP6OptStatusCode, Dot1Q, Ether,
                       ICMPv6ND_NA, ICMPv6ND_NS, IP, IPv6, IPv6ExtHdrHopByHop, UDP, raw)

VM = "52:54:00:12:34:56"
SRV = "52:54:00:aa:bb:cc"
CHADDR = bytes.fromhex("525400123456") + bytes(10)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "frames")

cases = []


def case(name, frame, expected):
    cases.append((name, raw(frame) if not isinstance(frame, bytes) else frame, expected))


def eth(src, dst, etype, vlan=False):
    return f"eth src={src} dst={dst} type=0x{etype:04x}" + (" vlan" if vlan else "")


def dhcp_line(op, mtype, xid, ciaddr="0.0.0.0", yiaddr="0.0.0.0", siaddr="0.0.0.0",
              extra=""):
    return (f"dhcp op={op} type={mtype} xid=0x{xid:08x} ciaddr={ciaddr} yiaddr={yiaddr} "
            f"siaddr={siaddr} chaddr={VM}{extra}")


# IPv4 from the VM (what 'any' learns from).
case("ipv4-udp", Ether(src=VM, dst=SRV) / IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=1000, dport=2000) / b"x",
     [eth(VM, SRV, 0x0800), "ipv4 src=10.0.0.5 dst=10.0.0.1"])
case("ipv4-vlan", Ether(src=VM, dst=SRV) / Dot1Q(vlan=42) / IP(src="10.0.0.7", dst="10.0.0.1", proto=6) / (b"\0" * 20),
     [eth(VM, SRV, 0x0800, vlan=True), "ipv4 src=10.0.0.7 dst=10.0.0.1"])
case("ipv4-truncated", raw(Ether(src=VM, dst=SRV) / IP(src="10.0.0.5", dst="10.0.0.1") / (b"y" * 30))[:14 + 30],
     [eth(VM, SRV, 0x0800)])
case("ethernet-short", bytes.fromhex("5254001234"), ["short"])

# ARP
case("arp-request", Ether(src=VM, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=VM, psrc="10.0.0.5", pdst="10.0.0.1"),
     [eth(VM, "ff:ff:ff:ff:ff:ff", 0x0806), "arp op=1 sender=10.0.0.5 target=10.0.0.1"])
case("arp-reply", Ether(src=VM, dst=SRV) / ARP(op=2, hwsrc=VM, psrc="10.0.0.9", hwdst=SRV, pdst="10.0.0.1"),
     [eth(VM, SRV, 0x0806), "arp op=2 sender=10.0.0.9 target=10.0.0.1"])


def dhcp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, op, options, **bootp):
    return (Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip) /
            UDP(sport=sport, dport=dport) /
            BOOTP(op=op, chaddr=CHADDR, **bootp) / DHCP(options=options))


case("dhcp-discover",
     dhcp_frame(VM, "ff:ff:ff:ff:ff:ff", "0.0.0.0", "255.255.255.255", 68, 67, 1,
                [("message-type", "discover"), "end"], xid=0x1234),
     [eth(VM, "ff:ff:ff:ff:ff:ff", 0x0800), "ipv4 src=0.0.0.0 dst=255.255.255.255",
      dhcp_line(1, 1, 0x1234)])
case("dhcp-ack",
     dhcp_frame(SRV, VM, "10.0.0.1", "10.0.0.50", 67, 68, 2,
                [("message-type", "ack"), ("server_id", "10.0.0.1"), ("lease_time", 3600),
                 ("subnet_mask", "255.255.255.0"), "end"],
                xid=0xdeadbeef, yiaddr="10.0.0.50", siaddr="10.0.0.1"),
     [eth(SRV, VM, 0x0800), "ipv4 src=10.0.0.1 dst=10.0.0.50",
      dhcp_line(2, 5, 0xdeadbeef, yiaddr="10.0.0.50", siaddr="10.0.0.1",
                extra=" lease=3600 server_id=10.0.0.1")])
case("dhcp-offer-broadcast",
     dhcp_frame(SRV, "ff:ff:ff:ff:ff:ff", "10.0.0.1", "255.255.255.255", 67, 68, 2,
                [("message-type", "offer"), ("lease_time", 0xffffffff), "end"],
                xid=7, yiaddr="10.0.0.51"),
     [eth(SRV, "ff:ff:ff:ff:ff:ff", 0x0800), "ipv4 src=10.0.0.1 dst=255.255.255.255",
      dhcp_line(2, 2, 7, yiaddr="10.0.0.51", extra=" lease=4294967295")])
case("dhcp-request-opt50",
     dhcp_frame(VM, "ff:ff:ff:ff:ff:ff", "0.0.0.0", "255.255.255.255", 68, 67, 1,
                [("message-type", "request"), ("requested_addr", "10.0.0.50"),
                 ("server_id", "10.0.0.1"), "end"], xid=9),
     [eth(VM, "ff:ff:ff:ff:ff:ff", 0x0800), "ipv4 src=0.0.0.0 dst=255.255.255.255",
      dhcp_line(1, 3, 9, extra=" requested=10.0.0.50 server_id=10.0.0.1")])
case("dhcp-release",
     dhcp_frame(VM, SRV, "10.0.0.50", "10.0.0.1", 68, 67, 1,
                [("message-type", "release"), ("server_id", "10.0.0.1"), "end"],
                xid=11, ciaddr="10.0.0.50"),
     [eth(VM, SRV, 0x0800), "ipv4 src=10.0.0.50 dst=10.0.0.1",
      dhcp_line(1, 7, 11, ciaddr="10.0.0.50", extra=" server_id=10.0.0.1")])
case("dhcp-decline",
     dhcp_frame(VM, "ff:ff:ff:ff:ff:ff", "0.0.0.0", "255.255.255.255", 68, 67, 1,
                [("message-type", "decline"), ("requested_addr", "10.0.0.52"), "end"], xid=12),
     [eth(VM, "ff:ff:ff:ff:ff:ff", 0x0800), "ipv4 src=0.0.0.0 dst=255.255.255.255",
      dhcp_line(1, 4, 12, extra=" requested=10.0.0.52")])
case("dhcp-nak",
     dhcp_frame(SRV, "ff:ff:ff:ff:ff:ff", "10.0.0.1", "255.255.255.255", 67, 68, 2,
                [("message-type", "nak"), "end"], xid=13),
     [eth(SRV, "ff:ff:ff:ff:ff:ff", 0x0800), "ipv4 src=10.0.0.1 dst=255.255.255.255",
      dhcp_line(2, 6, 13)])
# Invalid DHCP: two message types, a bad cookie, options running off the end,
# a non-first fragment.
case("dhcp-dup-type",
     dhcp_frame(SRV, VM, "10.0.0.1", "10.0.0.50", 67, 68, 2,
                [("message-type", "ack"), ("message-type", "ack"), "end"], xid=14, yiaddr="10.0.0.50"),
     [eth(SRV, VM, 0x0800), "ipv4 src=10.0.0.1 dst=10.0.0.50"])
case("dhcp-dup-lease",
     dhcp_frame(SRV, VM, "10.0.0.1", "10.0.0.50", 67, 68, 2,
                [("message-type", "ack"), ("lease_time", 60), ("lease_time", 99999), "end"],
                xid=15, yiaddr="10.0.0.50"),
     [eth(SRV, VM, 0x0800), "ipv4 src=10.0.0.1 dst=10.0.0.50"])
bad_cookie = (Ether(src=SRV, dst=VM) / IP(src="10.0.0.1", dst="10.0.0.50") / UDP(sport=67, dport=68) /
              BOOTP(op=2, chaddr=CHADDR, yiaddr="10.0.0.50", options=b"\x01\x02\x03\x04") /
              b"\x35\x01\x05\xff")
case("dhcp-bad-cookie", bad_cookie, [eth(SRV, VM, 0x0800), "ipv4 src=10.0.0.1 dst=10.0.0.50"])
case("dhcp-option-overrun",
     Ether(src=SRV, dst=VM) / IP(src="10.0.0.1", dst="10.0.0.50") / UDP(sport=67, dport=68) /
     BOOTP(op=2, chaddr=CHADDR, yiaddr="10.0.0.50") / b"\x35\x01\x05\x33\x08\x00",
     [eth(SRV, VM, 0x0800), "ipv4 src=10.0.0.1 dst=10.0.0.50"])
case("dhcp-fragment",
     Ether(src=SRV, dst=VM) / IP(src="10.0.0.1", dst="10.0.0.50", frag=10, proto=17) /
     raw(UDP(sport=67, dport=68) / BOOTP(op=2, chaddr=CHADDR) / DHCP(options=[("message-type", "ack"), "end"])),
     [eth(SRV, VM, 0x0800), "ipv4 src=10.0.0.1 dst=10.0.0.50"])

# IPv6: DAD and neighbour advertisements.
case("nd-dad",
     Ether(src=VM, dst="33:33:ff:00:00:05") / IPv6(src="::", dst="ff02::1:ff00:5", hlim=255) /
     ICMPv6ND_NS(tgt="2001:db8::5"),
     [eth(VM, "33:33:ff:00:00:05", 0x86dd), "ipv6 src=:: dst=ff02::1:ff00:5",
      "nd type=135 target=2001:db8::5"])
case("nd-dad-hoplimit",
     Ether(src=VM, dst="33:33:ff:00:00:05") / IPv6(src="::", dst="ff02::1:ff00:5", hlim=64) /
     ICMPv6ND_NS(tgt="2001:db8::5"),
     [eth(VM, "33:33:ff:00:00:05", 0x86dd), "ipv6 src=:: dst=ff02::1:ff00:5"])
case("nd-advert",
     Ether(src=SRV, dst="33:33:00:00:00:01") / IPv6(src="2001:db8::5", dst="ff02::1", hlim=255) /
     ICMPv6ND_NA(tgt="2001:db8::5", R=0, S=0, O=1),
     [eth(SRV, "33:33:00:00:00:01", 0x86dd), "ipv6 src=2001:db8::5 dst=ff02::1",
      "nd type=136 target=2001:db8::5"])
case("nd-hopbyhop",
     Ether(src=VM, dst="33:33:ff:00:00:06") / IPv6(src="::", dst="ff02::1:ff00:6", hlim=255) /
     IPv6ExtHdrHopByHop() / ICMPv6ND_NS(tgt="fe80::6"),
     [eth(VM, "33:33:ff:00:00:06", 0x86dd), "ipv6 src=:: dst=ff02::1:ff00:6",
      "nd type=135 target=fe80::6"])

# DHCPv6
case("dhcp6-reply",
     Ether(src=SRV, dst=VM) / IPv6(src="fe80::1", dst="fe80::5054:ff:fe12:3456") /
     UDP(sport=547, dport=546) /
     DHCP6_Reply(trid=0xabcdef) /
     DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr="2001:db8::100", preflft=1800, validlft=3600),
                                     DHCP6OptIAAddress(addr="2001:db8::101", preflft=0, validlft=0)]),
     [eth(SRV, VM, 0x86dd), "ipv6 src=fe80::1 dst=fe80::5054:ff:fe12:3456",
      "dhcp6 type=7 xid=0xabcdef addr=2001:db8::100/3600 addr=2001:db8::101/0"])
case("dhcp6-reply-noaddrs",
     Ether(src=SRV, dst=VM) / IPv6(src="fe80::1", dst="fe80::5054:ff:fe12:3456") /
     UDP(sport=547, dport=546) / DHCP6_Reply(trid=5) /
     DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptStatusCode(statuscode=2, statusmsg="none"),
                                     DHCP6OptIAAddress(addr="2001:db8::102", validlft=60)]),
     [eth(SRV, VM, 0x86dd), "ipv6 src=fe80::1 dst=fe80::5054:ff:fe12:3456", "dhcp6 type=7 xid=0x000005"])
case("dhcp6-release",
     Ether(src=VM, dst="33:33:00:01:00:02") / IPv6(src="fe80::5054:ff:fe12:3456", dst="ff02::1:2") /
     UDP(sport=546, dport=547) / DHCP6_Release(trid=6) /
     DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr="2001:db8::100", validlft=0)]),
     [eth(VM, "33:33:00:01:00:02", 0x86dd), "ipv6 src=fe80::5054:ff:fe12:3456 dst=ff02::1:2",
      "dhcp6 type=8 xid=0x000006 addr=2001:db8::100/0"])


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, frame, expected in cases:
        with open(os.path.join(OUT, name + ".hex"), "w") as f:
            f.write(frame.hex() + "\n")
        with open(os.path.join(OUT, name + ".expected"), "w") as f:
            f.write("\n".join(expected) + "\n")
    print(f"{len(cases)} frame vectors written to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
