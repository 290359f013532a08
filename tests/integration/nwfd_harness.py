"""Shared pieces of the nwfilterd integration tests: a TAP runner, private
network namespaces, and an nwfilterd on private directories inside one.

Every test runs as root in CI. Elsewhere, without root, the whole file is
reported as skipped (with the reason); under CI=true that is a failure."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("NWF_BUILD_ROOT", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
NWFILTERD = os.path.join(BUILD, "src", "daemon", "nwfilterd")
SOURCE = os.environ.get("NWF_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
STOCK = os.path.join(SOURCE, "src", "nwfilter", "xml")

_tests = []


def test(fn):
    _tests.append(fn)
    return fn


def require_root():
    """Root is needed for namespaces and firewalls; only CI insists."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        print("1..1\nnot ok 1 - needs root (CI=true)")
        sys.exit(1)
    print("1..0 # SKIP needs root for network namespaces and firewall rules")
    sys.exit(0)


class Context:
    """What SETUP builds for the tests; TEARDOWN gets it even when SETUP
    failed half-way, so it must check what exists."""


def teardown_context(ctx):
    """Undo what a setup made, whatever part of it exists: the libvirt
    connection, the daemon (its log shown if it did not exit cleanly), the
    namespace and the temporary directory."""
    if getattr(ctx, "conn", None) is not None:
        ctx.conn.close()
    if hasattr(ctx, "d"):
        rc = ctx.d.stop()
        if rc not in (0, None):
            print("# nwfilterd exited with %s; log:\n# %s"
                  % (rc, ctx.d.log().replace("\n", "\n# ")))
    if hasattr(ctx, "ns"):
        ctx.ns.delete()
    if hasattr(ctx, "tmp"):
        shutil.rmtree(ctx.tmp, ignore_errors=True)


def _terminated(signum, frame):
    raise SystemExit("terminated by signal %d" % signum)


def unwind_on_sigterm():
    """meson ends a test that runs out of time with SIGTERM: unwind through
    the callers' finally blocks so namespaces and daemons do not outlive
    the test."""
    signal.signal(signal.SIGTERM, _terminated)


def _report_failure(n, name):
    print("not ok %d - %s" % (n, name))
    for line in traceback.format_exc().splitlines():
        print("# " + line)
    sys.stdout.flush()


def run_tap(setup, teardown):
    """Run the registered tests in order, one TAP line each, all sharing
    the context SETUP fills."""
    print("1..%d" % len(_tests), flush=True)
    failed = 0
    ctx = Context()
    unwind_on_sigterm()
    try:
        try:
            setup(ctx)
        except Exception:
            for n, fn in enumerate(_tests, 1):
                _report_failure(n, fn.__name__ + " (setup failed)")
            return 1
        for n, fn in enumerate(_tests, 1):
            start = time.monotonic()
            try:
                fn(ctx)
                print("ok %d - %s # %.1f s" % (n, fn.__name__, time.monotonic() - start),
                      flush=True)
            except Exception:
                failed += 1
                _report_failure(n, fn.__name__)
    finally:
        teardown(ctx)
    return 1 if failed else 0


def sh(*args, check=True, **kw):
    """Run an argv (never through a shell); returns CompletedProcess."""
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


class Netns:
    """A named network namespace, unique to this helper and process."""
    _count = 0

    def __init__(self, tag):
        Netns._count += 1
        self.name = "nwf-rpc-%s-%d-%d" % (tag, os.getpid(), Netns._count)
        sh("ip", "netns", "add", self.name)
        self.run("ip", "link", "set", "lo", "up")

    def run(self, *args, check=True, **kw):
        return sh("ip", "netns", "exec", self.name, *args, check=check, **kw)

    def delete(self):
        sh("ip", "netns", "del", self.name, check=False)


class Daemon:
    """nwfilterd on private directories, inside NETNS."""

    def __init__(self, netns, backend, root=None, extra=()):
        self.netns = netns
        self.backend = backend
        self.root = root or tempfile.mkdtemp(prefix="nwf-rpc-")
        os.makedirs(self.root, exist_ok=True)
        self.socket_dir = os.path.join(self.root, "run")
        self.config_dir = os.path.join(self.root, "filters")
        self.state_dir = os.path.join(self.root, "bindings")
        self.rw = os.path.join(self.socket_dir, "virtnwfilterd-sock")
        self.ro = os.path.join(self.socket_dir, "virtnwfilterd-sock-ro")
        self.uri = "nwfilter:///system?socket=" + self.rw
        self.ro_uri = "nwfilter:///system?socket=" + self.ro
        self.extra = list(extra)
        self.proc = None
        self.log_path = os.path.join(self.root, "nwfilterd.log")

    def argv(self):
        return ["ip", "netns", "exec", self.netns.name, NWFILTERD,
                "--socket-dir", self.socket_dir, "--config-dir", self.config_dir,
                "--state-dir", self.state_dir, "--backend", self.backend,
                "--verbose"] + self.extra

    def start(self, timeout=15):
        log = open(self.log_path, "a")
        # ip netns exec execs the daemon: the pid is the daemon's.
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=log)
        log.close()
        wait_accepting(self.rw, timeout, self.proc, self.log_path)
        return self

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def log(self):
        with open(self.log_path) as f:
            return f.read()


def wait_accepting(path, timeout, proc=None, log_path=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError("nwfilterd exited with %s:\n%s" % (
                proc.returncode, open(log_path).read() if log_path else ""))
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(path)
                return
        except OSError:
            time.sleep(0.01)
    raise AssertionError("nwfilterd did not accept on %s within %ss" % (path, timeout))


def kernel_ports(netns, backend, ports):
    """The ones of PORTS that BACKEND has rules for in NETNS (one reading
    of the kernel for all of them)."""
    if backend == "ebiptables":
        out = netns.run("ebtables", "-t", "nat", "-L").stdout
        return {p for p in ports if re.search(r"libvirt-I-%s\b" % re.escape(p), out)}
    out = netns.run("nft", "list", "ruleset").stdout
    return {p for p in ports if ('"%s"' % p) in out}


def kernel_has_port(netns, backend, port):
    """Whether BACKEND's rules for PORT are in NETNS."""
    return port in kernel_ports(netns, backend, [port])


def daemon_usage(pid):
    """(open descriptors, resident KiB) of process PID."""
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return fds, rss


def virsh(uri, *args, ro=False, env=None):
    """virsh -c URI ARGS; returns (rc, stdout, stderr)."""
    argv = ["virsh"] + (["-r"] if ro else []) + ["-c", uri] + list(args)
    full_env = dict(os.environ)
    full_env.pop("VIRSH_DEFAULT_CONNECT_URI", None)
    full_env.pop("LIBVIRT_DEFAULT_URI", None)
    if env:
        full_env.update(env)
    p = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s\n--- got:\n%r\n--- want:\n%r" % (what, got, want))


def backend_from_argv():
    for a in sys.argv[1:]:
        if a.startswith("--backend="):
            return a.split("=", 1)[1]
    return "nftables"
