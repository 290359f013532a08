"""Namespaces, probes and peers shared by the learning integration tests.
Every namespace name starts with nwf-learn-<pid>: a bridge namespace
holding the snooped ports (vnet1, vnet2) and a server port (srvp), and one
namespace per "VM" and for the server, joined by veth pairs. Interface
names live inside those namespaces and files in a temporary directory of
the process, so any number of these tests (and others) can run at once."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from netns_peer import FENCE_IFACE, Peer, one_cpu

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
        # Every case builds these afresh: one ip process a namespace, not
        # one a command.
        ip_batch([f"netns add {ns}" for ns in self.names])
        guests = ((vm1, "vnet1", MAC_VM1), (vm2, "vnet2", MAC_VM2), (srv, "srvp", MAC_SRV))
        # The VMs' fence links (see delivered()): no filters on their ports,
        # no IPv6 of their own (addrgenmode none), so they send nothing else.
        fences = ((vm1, "vfen1"), (vm2, "vfen2"))
        ip_batch(["link set lo up",
                  "link add br0 type bridge stp_state 0 mcast_snooping 0 forward_delay 0",
                  "link set br0 up"] +
                 [f"link add {port} type veth peer name eth0 netns {ns}" for ns, port, _ in guests] +
                 [f"link add {port} type veth peer name {FENCE_IFACE} netns {ns}"
                  for ns, port in fences], ns=br)
        for ns, _, mac in guests:
            fence = [f"link set {FENCE_IFACE} addrgenmode none", f"link set {FENCE_IFACE} up"]
            ip_batch([f"link set eth0 address {mac}", "link set lo up", "link set eth0 up"] +
                     (["addr add 10.0.0.1/24 dev eth0",
                       "addr add 2001:db8::1/64 dev eth0 nodad"] if ns == srv else fence), ns=ns)
        ports = [port for _, port, _ in guests] + [port for _, port in fences]
        ip_batch([f"link set {port} {what}" for port in ports for what in ("master br0", "up")],
                 ns=br)

    def teardown(self):
        ip_batch([f"netns del {ns}" for ns in self.names], check=False)


def ip_batch(commands, ns=None, check=True):
    """ip commands (in namespace NS), one process; without CHECK each is
    tried whatever the others did."""
    argv = ["ip"] + (["-n", ns] if ns else []) + ([] if check else ["-force"]) + ["-batch", "-"]
    r = subprocess.run(argv, input="\n".join(commands) + "\n", capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(argv[1:])}: {r.stderr.strip()}")


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

    def states(self, port):
        """Every (ipv4, ipv6) pair of sets printed for PORT, oldest first."""
        found = []
        with self.cond:
            for line in self.lines:
                m = re.match(r"(\d+) (\S+) ipv4=(\S+) ipv6=(\S+)$", line)
                if m and m.group(2) == port:
                    v4 = set() if m.group(3) == "-" else set(m.group(3).split(","))
                    v6 = set() if m.group(4) == "-" else set(m.group(4).split(","))
                    found.append((v4, v6))
        return found

    def state(self, port):
        """The latest (ipv4, ipv6) sets printed for PORT."""
        found = self.states(port)
        return found[-1] if found else None

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


def peer(ns):
    """The guest or server in namespace NS (frames sent from this process)."""
    return Peer(ns)


def flood(ns, rate, seconds):
    """netns_peer.py's flood from NS, in a process of its own; it prints
    "flooding" when it starts."""
    return subprocess.Popen(("ip", "netns", "exec", ns, PY, PEER, "flood", "--rate", str(rate),
                             "--seconds", str(seconds)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def delivered(vm, srv, sources, src_mac=None):
    """The sources the server in SRV saw, in order, of the UDP datagrams
    VM sends from SOURCES to the server's MAC (one frame each, in that
    order; IPv6 when the first source is), from SRC_MAC when given. A fence
    frame VM sends after them on its unfiltered link marks the end: what
    has not arrived before it was dropped on the way."""
    guest = peer(vm)
    with peer(srv).sniff() as sniffer:
        with one_cpu():
            guest.send_ip(sources, dst_mac=MAC_SRV, src_mac=src_mac)
            token = guest.send_fence(MAC_SRV)
        return sniffer.sources_before(token)


def v4(port_state):
    return port_state[0] if port_state else None


def _terminated(signum, frame):
    raise SystemExit(f"terminated by signal {signum}")


def run_cases(cases, only=()):
    """Run each (name, fn) in fresh namespaces (of ONLY, function names,
    when given); TAP out; exit status."""
    if only:
        unknown = set(only) - {fn.__name__ for _, fn in cases}
        if unknown:
            raise SystemExit(f"no such case: {' '.join(sorted(unknown))}")
        cases = [c for c in cases if c[1].__name__ in only]
    # meson ends a test that overran with SIGTERM: unwind through the
    # finally blocks, so no namespace, daemon or probe outlives the test.
    signal.signal(signal.SIGTERM, _terminated)
    ci = os.environ.get("CI") == "true"
    if os.geteuid() != 0:
        for i, (name, _) in enumerate(cases, 1):
            if ci:
                print(f"not ok {i} - {name}\n# needs root (CI=true)")
            else:
                print(f"ok {i} - {name} # SKIP needs root and network namespaces")
        print(f"1..{len(cases)}")
        return 1 if ci else 0
    net = Net()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="nwf-learn-") as tmp:
        for i, (name, fn) in enumerate(cases, 1):
            PROBE_FAILURES.clear()
            start = time.monotonic()
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
                    print(f"# {p}")
            else:
                print(f"ok {i} - {name}")
            print(f"# case {i} took {time.monotonic() - start:.1f} s")
            sys.stdout.flush()
    print(f"1..{len(cases)}")
    return 1 if failed else 0
