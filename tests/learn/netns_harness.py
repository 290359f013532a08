"""Namespaces, probes and peers shared by the learning integration tests.
Every name starts with nwf-learn-<pid>: a bridge namespace holding the
snooped ports (vnet1, vnet2) and a server port (srvp), and one namespace
per "VM" and for the server, joined by veth pairs."""
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


def build_path(name):
    build = os.environ.get("NWF_BUILD_ROOT", os.path.join(HERE, "..", "..", "build"))
    return os.path.join(build, "tests", "learn", name)


class Net:
    """The namespaces (bridge, VM1, VM2, server: by default the NS_*
    names; another host takes names of its own); always removed by
    teardown()."""

    def __init__(self, names=(NS_BR, NS_VM1, NS_VM2, NS_SRV)):
        self.names = names

    def setup(self):
        br, vm1, vm2, srv = self.names
        self.teardown()
        for ns in self.names:
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", "lo", "up", ns=br)
        sh("ip", "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0",
           "forward_delay", "0", ns=br)
        sh("ip", "link", "set", "br0", "up", ns=br)
        for ns, port, mac in ((vm1, "vnet1", MAC_VM1), (vm2, "vnet2", MAC_VM2),
                              (srv, "srvp", MAC_SRV)):
            sh("ip", "link", "add", port, "netns", br, "type", "veth", "peer", "name", "eth0",
               "netns", ns, ns=br)
            sh("ip", "link", "set", "eth0", "address", mac, ns=ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("ip", "link", "set", "eth0", "up", ns=ns)
            sh("ip", "link", "set", port, "master", "br0", ns=br)
            sh("ip", "link", "set", port, "up", ns=br)
        sh("ip", "addr", "add", "10.0.0.1/24", "dev", "eth0", ns=srv)
        sh("ip", "-6", "addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad", ns=srv)

    def teardown(self):
        for ns in self.names:
            sh("ip", "netns", "del", ns, check=False)


PROBE_FAILURES = []


class Probe:
    """A probe program (learn-probe by default) in the bridge namespace; its
    lines collected by a thread."""

    def __init__(self, *args, program="learn-probe"):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(("ip", "netns", "exec", NS_BR, build_path(program)) + args,
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
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(2)
        # A probe that did not exit cleanly (a crash, a sanitizer report)
        # fails the case it ran in.
        if self.proc.returncode != 0:
            PROBE_FAILURES.append(f"probe exited with {self.proc.returncode}: "
                                  + " | ".join(self.errors[-5:]))
        return self.lines


def peer(ns, *args, background=False):
    argv = ("ip", "netns", "exec", ns, PY, PEER) + args
    if background:
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def v4(port_state):
    return port_state[0] if port_state else None


def run_cases(cases):
    """Run each (name, fn) in fresh namespaces; TAP out; exit status."""
    ci = os.environ.get("CI") == "true"
    if os.geteuid() != 0:
        for i, (name, _) in enumerate(cases, 1):
            if ci:
                print(f"not ok {i} - {name}\n  # needs root (CI=true)")
            else:
                print(f"ok {i} - {name} # SKIP needs root and network namespaces")
        print(f"1..{len(cases)}")
        return 1 if ci else 0
    net = Net()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="nwf-learn-") as tmp:
        for i, (name, fn) in enumerate(cases, 1):
            PROBE_FAILURES.clear()
            try:
                net.setup()
                problems = fn(os.path.join(tmp, f"leases-{i}"))
            except Exception as e:  # a broken setup is a failure of this case
                problems = [f"{type(e).__name__}: {e}"]
            finally:
                net.teardown()
            problems += PROBE_FAILURES
            if problems:
                failed += 1
                print(f"not ok {i} - {name}")
                for p in problems:
                    print(f"  # {p}")
            else:
                print(f"ok {i} - {name}")
            sys.stdout.flush()
    print(f"1..{len(cases)}")
    return 1 if failed else 0
