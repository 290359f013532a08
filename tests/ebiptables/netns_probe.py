#!/usr/bin/python3
"""Send or capture tagged test frames inside one network namespace.

  netns_probe.py send IFACE SPEC_JSON [STARTED_FILE]
  netns_probe.py sniff IFACE READY_FILE STOP_FILE

SPEC_JSON is a list of frames: {"kind": "udp"|"arp", "tag": "...", "src_mac",
"dst_mac", "src_ip", "dst_ip", "sport", "dport", "count", "gap"}. Every UDP
frame carries b"NWF:<tag>:<n>"; an ARP frame is recognised by its sender IP.
sniff prints one JSON list of what arrived: "udp:<tag>:<n>" and
"arp:<sender ip>" items. Run it with ip netns exec.
"""
import json
import os
import sys
import time

from scapy.all import ARP, IP, UDP, AsyncSniffer, Ether, Raw, conf, sendp

conf.verb = 0


def build(spec, n):
    eth = Ether(src=spec["src_mac"], dst=spec.get("dst_mac", "ff:ff:ff:ff:ff:ff"))
    if spec["kind"] == "arp":
        return eth / ARP(op=spec.get("op", 1), hwsrc=spec["src_mac"],
                         psrc=spec["src_ip"], pdst=spec["dst_ip"])
    payload = ("NWF:%s:%d" % (spec["tag"], n)).encode()
    return (eth / IP(src=spec["src_ip"], dst=spec["dst_ip"]) /
            UDP(sport=spec.get("sport", 4000), dport=spec.get("dport", 5000)) / Raw(payload))


def send(iface, specs, started=None):
    for spec in specs:
        for n in range(spec.get("count", 1)):
            sendp(build(spec, n), iface=iface)
            if started:
                open(started, "w").close()
                started = None
            if spec.get("gap"):
                time.sleep(spec["gap"])


def describe(pkt):
    if ARP in pkt:
        return "arp:%s" % pkt[ARP].psrc
    if UDP in pkt:
        # not pkt[Raw]: scapy dissects ports 67/68 as BOOTP
        load = bytes(pkt[UDP].payload)
        if load.startswith(b"NWF:"):
            return "udp:" + load[4:].decode(errors="replace")
    return None


def sniff(iface, ready, stop):
    seen = []

    def keep(pkt):
        item = describe(pkt)
        if item:
            seen.append(item)

    sniffer = AsyncSniffer(iface=iface, prn=keep, store=False,
                           started_callback=lambda: open(ready, "w").close())
    sniffer.start()
    deadline = time.time() + 300
    while not os.path.exists(stop) and time.time() < deadline:
        time.sleep(0.05)
    sniffer.stop()
    print(json.dumps(seen))


def main():
    if sys.argv[1] == "send":
        send(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        sniff(sys.argv[2], sys.argv[3], sys.argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main())
