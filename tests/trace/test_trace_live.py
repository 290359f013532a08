#!/usr/bin/env python3
"""nwfilter trace and fingerprint against a running nwfilterd (--socket
--port): the binding and its filters come from the daemon (through virsh)
and give the same verdicts and the same fingerprint as the offline files
they were defined from. Root only: the daemon runs in a network namespace
made here (nwf-trace-<pid>-live), deleted at the end."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_tap import finish, ok  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import nwfd_harness as harness  # noqa: E402

TOOL = os.path.join(harness.BUILD, "tools", "nwfilter")
DATA = os.path.join(HERE, "data")
TREE = ("trace-diff-eth-arp", "trace-diff-eth-ip", "trace-diff-eth")
BINDING = """<filterbinding>
  <owner><name>vm1</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>
  <portdev name='vnet0'/>
  <mac address='52:54:00:00:00:01'/>
  <filterref filter='trace-diff-eth'>
    <parameter name='IP' value='10.0.0.9'/>
  </filterref>
</filterbinding>
"""
PACKETS = [
    ("out", "arp request psrc 10.0.0.9 pdst 10.0.0.1"),
    ("out", "arp request psrc 10.0.0.99 pdst 10.0.0.1"),
    ("out", "arp psrc 10.0.0.5 pdst 10.0.0.5"),
    ("in", "arp reply hwdst 52:54:00:00:00:01"),
    ("out", "ip src 10.0.0.9 dscp 10"),
    ("out", "ip src 10.0.0.9 udp dport 53"),
    ("out", "ip src 10.0.0.77 tcp dport 1500"),
    ("in", "ip dst 10.0.0.9 icmp"),
    ("in", "ip udp sport 67"),
    ("out", "vlan id 10 ip"),
    ("out", "ether src 52:55:00:00:00:01 ip"),
    ("out", "ip6 icmp6 type 135"),
    ("in", "ether type 0x88b5"),
]


def tool(*args):
    return subprocess.run([TOOL] + list(args), capture_output=True, text=True)


def strip_lines(text):
    """The report without XML line numbers (the daemon's dumpxml has its own
    layout)."""
    return "\n".join(line.split(", line ")[0] if ", line " in line else line
                     for line in text.splitlines())


class Namespace:
    def __init__(self):
        self.name = "nwf-trace-%d-live" % os.getpid()
        harness.sh("ip", "netns", "add", self.name)
        harness.sh("ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up")

    def delete(self):
        harness.sh("ip", "netns", "del", self.name, check=False)


def run_checks(daemon, tmp):
    binding = os.path.join(tmp, "binding.xml")
    with open(binding, "w") as f:
        f.write(BINDING)
    for name in TREE:
        rc, _, err = harness.virsh(daemon.uri, "nwfilter-define", os.path.join(DATA, name + ".xml"))
        ok(rc == 0, "define %s" % name, err)
    rc, _, err = harness.virsh(daemon.uri, "nwfilter-binding-create", binding)
    ok(rc == 0, "create the binding of vnet0", err)

    live = ["--socket", daemon.rw, "--port", "vnet0"]
    offline = ["--binding", binding, "--filter-dir", DATA, "--no-stock-filters"]
    for direction, words in PACKETS:
        a = tool("trace", *live, "--direction", direction, *words.split())
        b = tool("trace", *offline, "--direction", direction, *words.split())
        ok(a.returncode in (0, 1) and a.returncode == b.returncode
           and strip_lines(a.stdout) == strip_lines(b.stdout),
           "live == offline: %s %s (%s)" % (direction, words, a.stdout.strip().split("\n")[-1]),
           a.stdout + a.stderr + "\n---\n" + b.stdout)
    a = tool("trace", *live, "--direction", "out", "--quiet", "arp", "psrc", "10.0.0.9")
    ok("line " not in a.stdout and a.stdout.strip() in ("accept", "drop"), "--quiet live", a.stdout)

    fa = tool("fingerprint", *live, "--quiet")
    fb = tool("fingerprint", *offline, "--quiet")
    ok(fa.returncode == 0 and fa.stdout == fb.stdout and len(fa.stdout.strip()) == 64,
       "live fingerprint == offline fingerprint", fa.stdout + fa.stderr + fb.stdout)
    full = tool("fingerprint", *live)
    ok("filters (3): trace-diff-eth trace-diff-eth-arp trace-diff-eth-ip" in full.stdout,
       "live fingerprint lists the filters it covers", full.stdout + full.stderr)

    missing = tool("trace", "--socket", daemon.rw, "--port", "vnet9", "--direction", "out", "ip")
    ok(missing.returncode == 2 and "vnet9" in missing.stderr,
       "unknown port: exit 2 with the daemon's message", missing.stderr)
    bad = tool("fingerprint", "--socket", "relative/sock", "--port", "vnet0")
    ok(bad.returncode == 2 and "must be absolute" in bad.stderr, "bad socket path: exit 2",
       bad.stderr)
    both = tool("trace", *live, "--binding", binding, "--direction", "out", "ip")
    ok(both.returncode == 2, "--socket with --binding: exit 2", both.stderr)


def main():
    why = None
    if os.geteuid() != 0:
        why = "needs root for the daemon's network namespace"
    elif not shutil.which("virsh"):
        why = "needs virsh (libvirt-clients)"
    elif not os.path.exists(harness.NWFILTERD) or not os.path.exists(TOOL):
        why = "nwfilterd or nwfilter not built"
    if why:
        print("1..0 # SKIP %s" % why)
        return 1 if os.environ.get("CI") == "true" else 0
    ns = Namespace()
    tmp = tempfile.mkdtemp(prefix="nwf-trace-live-")
    daemon = harness.Daemon(ns, "nftables", root=os.path.join(tmp, "daemon"))
    try:
        daemon.start()
        run_checks(daemon, tmp)
    except Exception as e:  # a broken setup is a failure, reported as such
        ok(False, "live setup", "%s\n%s" % (e, daemon.log() if daemon.proc else ""))
    finally:
        daemon.stop()
        ns.delete()
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
