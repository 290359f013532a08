#!/usr/bin/python3
"""IP address learning on real packet sockets. Every test builds its own
network namespaces (nwf-learn-<pid>-*): a bridge namespace holding the
snooped ports (vnet1, vnet2) and a server port, and one namespace per
"VM" and for the server, joined by veth pairs. learn-probe runs the engine
in the bridge namespace and prints learned addresses as they change;
netns_peer.py sends the guests' and server's frames with scapy.

Needs root. Prints TAP; without root outside CI every case is skipped,
under CI=true a missing capability fails."""
import re
import sys
import time

from netns_harness import (MAC_SRV, MAC_VM1, MAC_VM2, NS_SRV, NS_VM1, NS_VM2, Probe,
                           peer, run_cases, sh, v4)


# ---- cases; each returns a list of problems ----

def case_any(lease_file):
    problems = []
    probe = Probe("--port", f"vnet1,{MAC_VM1},any,4")
    try:
        # ARP teaches nothing (libvirt's behaviour, spec 7.1).
        peer(NS_VM1, "send-arp", "10.0.0.9")
        peer(NS_VM1, "send-ip", "0.0.0.0")
        peer(NS_VM1, "send-ip", "224.0.0.5")
        time.sleep(0.5)
        if v4(probe.state("vnet1")):
            problems.append(f"learned from ARP/0.0.0.0/multicast: {probe.state('vnet1')}")
        peer(NS_VM1, "send-ip", "10.0.0.5")
        st = probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.5"}, 5)
        if not st:
            problems.append(f"10.0.0.5 not learned: {probe.state('vnet1')}")
        peer(NS_VM1, "send-ip", "10.0.0.6")
        time.sleep(1)
        if v4(probe.state("vnet1")) != {"10.0.0.5"}:
            problems.append(f"a later source changed the address: {probe.state('vnet1')}")
        if any("10.0.0.6" in l for l in probe.lines):
            problems.append("10.0.0.6 appeared in the probe output")
    finally:
        probe.stop()
    return problems


def case_dhcp(lease_file):
    problems = []
    server = peer(NS_SRV, "dhcp-server", "--ip", "10.0.0.1", "--pool", "10.0.0.50", "10.0.0.60",
                  "--lease", "10.0.0.52=2", "--nak-xid", "77", background=True)
    probe = Probe("--port", f"vnet1,{MAC_VM1},dhcp,4", "--dhcp-server", "10.0.0.1",
                  "--lease-file", lease_file)
    try:
        time.sleep(1.5)   # the server's sniffer starts
        # An ACK from a server not in DHCPSERVER is ignored.
        peer(NS_SRV, "rogue-ack", "10.0.0.77", "--ip", "10.0.0.2", "--vm-mac", MAC_VM1)
        time.sleep(0.5)
        if v4(probe.state("vnet1")):
            problems.append(f"rogue ACK learned: {probe.state('vnet1')}")

        r = peer(NS_VM1, "dora", "--server", "10.0.0.1")
        if "leased 10.0.0.50" not in r.stdout:
            problems.append(f"DORA failed: {r.stdout} {r.stderr[-300:]}")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.50"}, 5):
            problems.append(f"leased 10.0.0.50 not learned: {probe.state('vnet1')}")

        # A second lease: both kept.
        r = peer(NS_VM1, "request", "10.0.0.51")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.50", "10.0.0.51"}, 5):
            problems.append(f"second lease not added: {probe.state('vnet1')} {r.stdout}")

        # RELEASE (address in ciaddr, as real clients send it) removes one.
        peer(NS_VM1, "release", "10.0.0.50", "--server", "10.0.0.1", "--server-mac", MAC_SRV)
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 5):
            problems.append(f"RELEASE did not remove 10.0.0.50: {probe.state('vnet1')}")

        # A 2 s lease appears, then expires.
        peer(NS_VM1, "request", "10.0.0.52")
        if not probe.wait_state("vnet1", lambda s: "10.0.0.52" in s[0], 5):
            problems.append(f"short lease not added: {probe.state('vnet1')}")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 6):
            problems.append(f"short lease did not expire: {probe.state('vnet1')}")

        # DECLINE from the VM removes the declined address.
        peer(NS_VM1, "request", "10.0.0.53")
        if not probe.wait_state("vnet1", lambda s: "10.0.0.53" in s[0], 5):
            problems.append(f"lease 10.0.0.53 not added: {probe.state('vnet1')}")
        peer(NS_VM1, "decline", "10.0.0.53")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 5):
            problems.append(f"DECLINE did not remove 10.0.0.53: {probe.state('vnet1')}")

        # A NAK withdraws what the VM asked for in that exchange.
        peer(NS_VM1, "request", "10.0.0.55")
        if not probe.wait_state("vnet1", lambda s: "10.0.0.55" in s[0], 5):
            problems.append(f"lease 10.0.0.55 not added: {probe.state('vnet1')}")
        peer(NS_VM1, "request", "10.0.0.55", "--xid", "77")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 5):
            problems.append(f"NAK did not remove 10.0.0.55: {probe.state('vnet1')}")
    finally:
        probe.stop()
        server.terminate()
        server.wait()

    # A restart finds the lease again from the lease file.
    probe = Probe("--port", f"vnet1,{MAC_VM1},dhcp,4", "--dhcp-server", "10.0.0.1",
                  "--lease-file", lease_file)
    try:
        if v4(probe.state("vnet1")) != {"10.0.0.51"}:
            problems.append(f"lease not restored after restart: {probe.state('vnet1')}")
    finally:
        probe.stop()
    with open(lease_file) as f:
        text = f.read()
    if "10.0.0.51 10.0.0.1" not in text or "10.0.0.50" in text:
        problems.append(f"lease file content unexpected: {text!r}")
    return problems


def case_ipv6(lease_file):
    problems = []
    probe = Probe("--port", f"vnet1,{MAC_VM1},any,6", "--dhcp-server6", "fe80::a")
    try:
        # DHCPv6 from a server not in DHCPSERVERV6 is ignored.
        peer(NS_SRV, "dhcp6-reply", "2001:db8::200", "--src", "fe80::b", "--vm-mac", MAC_VM1)
        peer(NS_SRV, "dhcp6-reply", "2001:db8::100", "--src", "fe80::a", "--vm-mac", MAC_VM1)
        if not probe.wait_state("vnet1", lambda s: "2001:db8::100" in s[1], 5):
            problems.append(f"DHCPv6 address not learned: {probe.state('vnet1')}")
        # SLAAC-style: the guest kernel runs DAD for an address it adds.
        sh("ip", "-6", "addr", "add", "2001:db8::5/64", "dev", "eth0", ns=NS_VM1)
        t0 = time.monotonic()
        if not probe.wait_state("vnet1", lambda s: "2001:db8::5" in s[1], 8):
            problems.append(f"DAD-completed 2001:db8::5 not learned: {probe.state('vnet1')}")
        else:
            print(f"# 2001:db8::5 learned {time.monotonic() - t0:.2f} s after it was added")
        # DAD for an address the server holds fails: not learned.
        sh("ip", "-6", "addr", "add", "2001:db8::1/64", "dev", "eth0", ns=NS_VM1)
        time.sleep(3)
        st = probe.state("vnet1")
        if st and "2001:db8::1" in st[1]:
            problems.append(f"conflicting address learned: {st}")
        dad = sh("ip", "-6", "addr", "show", "dev", "eth0", ns=NS_VM1).stdout
        if "dadfailed" not in dad:
            problems.append("the guest kernel did not see the DAD conflict (test setup)")
        if st and "2001:db8::200" in st[1]:
            problems.append("DHCPv6 from an unlisted server learned")
    finally:
        probe.stop()
    return problems


def case_flood(lease_file):
    problems = []
    probe = Probe("--port", f"vnet1,{MAC_VM1},dhcp,4", "--port", f"vnet2,{MAC_VM2},any,4")
    try:
        flood = peer(NS_VM1, "flood", "--rate", "10000", "--seconds", "4", background=True)
        time.sleep(1.5)
        r = peer(NS_VM2, "send-ip", "10.0.0.20")
        m = re.search(r"sent (\d+\.\d+)", r.stdout)
        line = probe.wait(lambda l: " vnet2 ipv4=10.0.0.20" in l, 5)
        fout, _ = flood.communicate(timeout=30)
        if not m or not line:
            problems.append(f"vnet2 did not learn during the flood: {r.stdout} {probe.state('vnet2')}")
        else:
            delay_ms = (int(line.split()[0]) / 1e6 - float(m.group(1))) * 1000
            print(f"# learning on vnet2 during a flood on vnet1: {delay_ms:.1f} ms after the send")
            if delay_ms > 100:
                problems.append(f"learning delayed by {delay_ms:.1f} ms (> 100 ms)")
        fm = re.search(r"flooded (\d+) (\d+\.\d+)", fout)
        if fm:
            rate = int(fm.group(1)) / float(fm.group(2))
            print(f"# flood: {fm.group(1)} DHCP frames in {fm.group(2)} s ({rate:.0f}/s)")
            if rate < 9000:
                problems.append(f"the flood only reached {rate:.0f} frames/s")
    finally:
        lines = probe.stop()
    counters = [l for l in lines if l.startswith("counters vnet1")]
    print(f"# {counters}")
    cm = re.search(r"decoded=(\d+) dropped=(\d+)", counters[0]) if counters else None
    if not cm or int(cm.group(2)) == 0:
        problems.append(f"the rate limit dropped nothing on vnet1: {counters}")
    elif int(cm.group(1)) > 100 * 6 + 200:
        problems.append(f"vnet1 decoded more than its limit allows: {counters}")
    return problems


CASES = [("any: first IPv4 source learned, later ones ignored, ARP ignored", case_any),
         ("dhcp: leases, rogue server, two leases, release, expiry, decline, NAK, restart",
          case_dhcp),
         ("ipv6: DHCPv6 reply and DAD-completed address learned, conflict not", case_ipv6),
         ("flood: 10,000 DHCP frames/s on one port, learning on another within 100 ms", case_flood)]


if __name__ == "__main__":
    sys.exit(run_cases(CASES))
