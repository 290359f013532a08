#!/usr/bin/python3
"""IP address learning on real packet sockets. Every test builds its own
network namespaces (nwf-learn-<pid>-*): a bridge namespace holding the
snooped ports (vnet1, vnet2) and a server port, and one namespace per
"VM" and for the server, joined by veth pairs. learn-probe runs the engine
in the bridge namespace and prints learned addresses as they change;
netns_peer.py sends the guests' and server's frames with scapy. The
arguments name the cases to run (all by default): the flood case measures
a latency, so meson runs it alone.

Needs root. Prints TAP; without root outside CI every case is skipped,
under CI=true a missing capability fails."""
import re
import sys
import time

from netns_harness import (MAC_SRV, MAC_VM1, MAC_VM2, NS_SRV, NS_VM1, NS_VM2, Probe,
                           flood, peer, run_cases, sh, v4)


# ---- cases; each returns a list of problems ----

def case_any(lease_file):
    problems = []
    probe = Probe("--port", f"vnet1,{MAC_VM1},any,4")
    try:
        # ARP teaches nothing (libvirt's behaviour, spec 7.1). The port
        # sees frames in the order they are sent: once 10.0.0.5 is learned
        # the earlier ones have been judged, and must have left no trace.
        vm = peer(NS_VM1)
        vm.send_arp("10.0.0.9")
        vm.send_ip(["0.0.0.0"])
        vm.send_ip(["224.0.0.5"])
        vm.send_ip(["10.0.0.5"])
        st = probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.5"}, 5)
        if not st:
            problems.append(f"10.0.0.5 not learned: {probe.state('vnet1')}")
        taught = [st for st in probe.states("vnet1") if st[0] - {"10.0.0.5"}]
        if taught:
            problems.append(f"learned from ARP/0.0.0.0/multicast: {taught}")
        vm.send_ip(["10.0.0.6"])
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
    server = peer(NS_SRV).dhcp_server("10.0.0.1", ["10.0.0.50", "10.0.0.60"],
                                      leases={"10.0.0.52": 2}, nak_xid=77)
    probe = Probe("--port", f"vnet1,{MAC_VM1},dhcp,4", "--dhcp-server", "10.0.0.1",
                  "--lease-file", lease_file)
    vm = peer(NS_VM1)
    try:
        # An ACK from a server not in DHCPSERVER is ignored: it reaches the
        # port before the real server's, so once that is learned it has
        # been judged.
        peer(NS_SRV).rogue_ack("10.0.0.77", "10.0.0.2", MAC_VM1)

        r = vm.dora("10.0.0.1")
        if r != "leased 10.0.0.50":
            problems.append(f"DORA failed: {r}")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.50"}, 5):
            problems.append(f"leased 10.0.0.50 not learned: {probe.state('vnet1')}")
        if any("10.0.0.77" in l for l in probe.lines):
            problems.append(f"rogue ACK learned: {probe.lines}")

        # A second lease: both kept.
        r = vm.request("10.0.0.51")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.50", "10.0.0.51"}, 5):
            problems.append(f"second lease not added: {probe.state('vnet1')} {r}")

        # RELEASE (address in ciaddr, as real clients send it) removes one.
        vm.release("10.0.0.50", "10.0.0.1", MAC_SRV)
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 5):
            problems.append(f"RELEASE did not remove 10.0.0.50: {probe.state('vnet1')}")

        # A 2 s lease appears, then expires.
        vm.request("10.0.0.52")
        if not probe.wait_state("vnet1", lambda s: "10.0.0.52" in s[0], 5):
            problems.append(f"short lease not added: {probe.state('vnet1')}")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 6):
            problems.append(f"short lease did not expire: {probe.state('vnet1')}")

        # DECLINE from the VM removes the declined address.
        vm.request("10.0.0.53")
        if not probe.wait_state("vnet1", lambda s: "10.0.0.53" in s[0], 5):
            problems.append(f"lease 10.0.0.53 not added: {probe.state('vnet1')}")
        vm.decline("10.0.0.53")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 5):
            problems.append(f"DECLINE did not remove 10.0.0.53: {probe.state('vnet1')}")

        # A NAK withdraws what the VM asked for in that exchange.
        vm.request("10.0.0.55")
        if not probe.wait_state("vnet1", lambda s: "10.0.0.55" in s[0], 5):
            problems.append(f"lease 10.0.0.55 not added: {probe.state('vnet1')}")
        vm.request("10.0.0.55", xid=77)
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 5):
            problems.append(f"NAK did not remove 10.0.0.55: {probe.state('vnet1')}")
    finally:
        probe.stop()
        problems += server.stop()

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
        peer(NS_SRV).dhcp6_reply("2001:db8::200", "fe80::b", MAC_VM1)
        peer(NS_SRV).dhcp6_reply("2001:db8::100", "fe80::a", MAC_VM1)
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
        flooder = flood(NS_VM1, 10000, 4)
        if "flooding" not in flooder.stdout.readline():
            raise RuntimeError(f"the flood did not start: {flooder.stderr.read()}")
        time.sleep(1)   # well into the flood
        sent = peer(NS_VM2).send_ip(["10.0.0.20"])[0]
        line = probe.wait(lambda l: " vnet2 ipv4=10.0.0.20" in l, 5)
        fout, _ = flooder.communicate(timeout=30)
        if not line:
            problems.append(f"vnet2 did not learn during the flood: {probe.state('vnet2')}")
        else:
            delay_ms = (int(line.split()[0]) / 1e6 - sent) * 1000
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
    sys.exit(run_cases(CASES, only=sys.argv[1:]))
