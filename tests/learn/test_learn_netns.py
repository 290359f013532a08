#!/usr/bin/python3
"""IP address learning on real packet sockets. Every test builds its own
network namespaces (nwf-learn-<pid>-*): a bridge namespace holding the
snooped ports (vnet1, vnet2) and a server port, and one namespace per
"VM" and for the server, joined by veth pairs. learn-probe runs the engine
in the bridge namespace and prints learned addresses as they change;
netns_peer.py sends the guests' and server's frames with scapy.

Needs root. Prints TAP; without root outside CI every case is skipped,
under CI=true a missing capability fails."""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "netns_peer.py")
PY = "/usr/bin/python3"
PREFIX = f"nwf-learn-{os.getpid()}"
NS_BR, NS_VM1, NS_VM2, NS_SRV = (f"{PREFIX}-{n}" for n in ("br", "vm1", "vm2", "srv"))
MAC_VM1, MAC_VM2, MAC_SRV = "52:54:00:00:01:01", "52:54:00:00:02:02", "52:54:00:00:0a:0a"


def sh(*argv, check=True, ns=None):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def probe_path():
    build = os.environ.get("NWF_BUILD_ROOT", os.path.join(HERE, "..", "..", "build"))
    return os.path.join(build, "tests", "learn", "learn-probe")


class Net:
    """The namespaces; always removed by teardown()."""

    def setup(self):
        self.teardown()
        for ns in (NS_BR, NS_VM1, NS_VM2, NS_SRV):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", "lo", "up", ns=NS_BR)
        sh("ip", "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0",
           "forward_delay", "0", ns=NS_BR)
        sh("ip", "link", "set", "br0", "up", ns=NS_BR)
        for ns, port, mac in ((NS_VM1, "vnet1", MAC_VM1), (NS_VM2, "vnet2", MAC_VM2),
                              (NS_SRV, "srvp", MAC_SRV)):
            sh("ip", "link", "add", port, "netns", NS_BR, "type", "veth", "peer", "name", "eth0",
               "netns", ns, ns=NS_BR)
            sh("ip", "link", "set", "eth0", "address", mac, ns=ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("ip", "link", "set", "eth0", "up", ns=ns)
            sh("ip", "link", "set", port, "master", "br0", ns=NS_BR)
            sh("ip", "link", "set", port, "up", ns=NS_BR)
        sh("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0", ns=NS_SRV)
        sh("ip", "-6", "addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad", ns=NS_SRV)

    def teardown(self):
        for ns in (NS_BR, NS_VM1, NS_VM2, NS_SRV):
            sh("ip", "netns", "del", ns, check=False)


class Probe:
    """learn-probe in the bridge namespace; its lines collected by a thread."""

    def __init__(self, *args):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(("ip", "netns", "exec", NS_BR, probe_path()) + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.errors = []
        threading.Thread(target=self._read_err, daemon=True).start()
        if not self.wait(lambda l: l == "ready", 10):
            raise RuntimeError("learn-probe did not start: " + " | ".join(self.errors))

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.strip())
                self.cond.notify_all()

    def _read_err(self):
        for line in self.proc.stderr:
            self.errors.append(line.strip())

    def wait(self, pred, timeout):
        """The first line (from the start) matching PRED, or None at TIMEOUT."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if pred(line):
                        return line
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def state(self, port):
        """The latest (ipv4, ipv6) sets printed for PORT."""
        with self.cond:
            for line in reversed(self.lines):
                m = re.match(r"(\d+) (\S+) ipv4=(\S+) ipv6=(\S+)$", line)
                if m and m.group(2) == port:
                    v4 = set() if m.group(3) == "-" else set(m.group(3).split(","))
                    v6 = set() if m.group(4) == "-" else set(m.group(4).split(","))
                    return v4, v6
        return None

    def wait_state(self, port, pred, timeout):
        """Wait until PORT's state satisfies PRED; returns (state, time us)."""
        end = time.monotonic() + timeout
        while True:
            st = self.state(port)
            if st is not None and pred(st):
                return st
            if time.monotonic() >= end:
                return None
            with self.cond:
                self.cond.wait(min(0.1, max(0.0, end - time.monotonic())))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(2)
        return self.lines


def peer(ns, *args, background=False):
    argv = ("ip", "netns", "exec", ns, PY, PEER) + args
    if background:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def v4(port_state):
    return port_state[0] if port_state else None


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
                  "--lease", "10.0.0.52=2", background=True)
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
        probe.wait_state("vnet1", lambda s: "10.0.0.53" in s[0], 5)
        peer(NS_VM1, "decline", "10.0.0.53")
        if not probe.wait_state("vnet1", lambda s: s[0] == {"10.0.0.51"}, 5):
            problems.append(f"DECLINE did not remove 10.0.0.53: {probe.state('vnet1')}")
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
         ("dhcp: leases, rogue server, two leases, release, expiry, decline, restart", case_dhcp),
         ("ipv6: DHCPv6 reply and DAD-completed address learned, conflict not", case_ipv6),
         ("flood: 10,000 DHCP frames/s on one port, learning on another within 100 ms", case_flood)]


def main():
    ci = os.environ.get("CI") == "true"
    if os.geteuid() != 0:
        for i, (name, _) in enumerate(CASES, 1):
            if ci:
                print(f"not ok {i} - {name}\n  # needs root (CI=true)")
            else:
                print(f"ok {i} - {name} # SKIP needs root and network namespaces")
        print(f"1..{len(CASES)}")
        return 1 if ci else 0
    net = Net()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="nwf-learn-") as tmp:
        for i, (name, fn) in enumerate(CASES, 1):
            try:
                net.setup()
                problems = fn(os.path.join(tmp, f"leases-{i}"))
            except Exception as e:  # a broken setup is a failure of this case
                problems = [f"{type(e).__name__}: {e}"]
            finally:
                net.teardown()
            if problems:
                failed += 1
                print(f"not ok {i} - {name}")
                for p in problems:
                    print(f"  # {p}")
            else:
                print(f"ok {i} - {name}")
            sys.stdout.flush()
    print(f"1..{len(CASES)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
