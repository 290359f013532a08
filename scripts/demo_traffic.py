#!/usr/bin/env python3
"""Demo helper: send one kind of frame from a VM namespace and count what
arrives in the other, with scapy. Run inside the namespaces by demo.sh:

  demo_traffic.py sniff IFACE SECONDS        (in the receiving VM)
  demo_traffic.py send IFACE SRC_MAC SRC_IP DST_MAC DST_IP COUNT

sniff prints the ICMP echo requests it saw, one 'SRC_MAC SRC_IP' a line."""

import sys

from scapy.all import ICMP, IP, Ether, conf, sendp, sniff  # noqa: E402


def do_sniff(iface, seconds):
    conf.verb = 0
    pkts = sniff(iface=iface, timeout=float(seconds),
                 lfilter=lambda p: ICMP in p and p[ICMP].type == 8)
    for p in pkts:
        print(p[Ether].src, p[IP].src, flush=True)


def do_send(iface, src_mac, src_ip, dst_mac, dst_ip, count):
    conf.verb = 0
    frame = Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip) / ICMP(id=0x4e57)
    sendp(frame, iface=iface, count=int(count), inter=0.1)


if __name__ == "__main__":
    if sys.argv[1] == "sniff":
        do_sniff(*sys.argv[2:4])
    else:
        do_send(*sys.argv[2:8])
