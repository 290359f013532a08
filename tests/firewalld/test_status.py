#!/usr/bin/env python3
"""`nwfilter status` (the backends' port_matches) against hand-made drift,
in a private network namespace made with `unshare -n` (this script re-runs
itself inside one). Usage: test_status.py BACKEND.

Each case applies two bindings, damages the kernel state one way, and
expects the damaged binding reported as drift (exit 1) and the other as
present; after `nwfilter apply` both are present again (exit 0). Compiling
a filter that differs from what is applied is drift too."""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import nwf_netns as nn  # noqa: E402

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "ebiptables"

FILTER = """<filter name='st-test' chain='root'>
  <filterref filter='clean-traffic'/>
  <rule action='drop' direction='out' priority='500'><tcp dstportstart='2323'/></rule>
  <rule action='accept' direction='in' priority='510'><tcp srcportstart='22'/></rule>
</filter>
"""
CHANGED = FILTER.replace("2323", "2424")

BINDING = """<filterbinding>
  <owner><name>vm</name><uuid>7d1e8f0a-4b4c-4f3e-8d8a-1f2b3c4d5e%02d</uuid></owner>
  <portdev name='%s'/>
  <mac address='52:54:00:00:10:%02d'/>
  <filterref filter='st-test'><parameter name='IP' value='10.9.0.%d'/></filterref>
</filterbinding>
"""

# (description, argv that damages port "st0") per backend
DAMAGE = {
    "ebiptables": [
        ("ebtables hook removed",
         ["ebtables", "-t", "nat", "-D", "PREROUTING", "-i", "st0", "-j", "libvirt-I-st0"]),
        ("ebtables rule deleted from a sub-chain",
         ["ebtables", "-t", "nat", "-D", "I-st0-ipv4-ip", "1"]),
        ("ebtables root chain flushed", ["ebtables", "-t", "nat", "-F", "libvirt-O-st0"]),
        ("iptables rule deleted", ["iptables", "-D", "FI-st0", "1"]),
        ("iptables verdict changed", ["iptables", "-R", "FI-st0", "1", "-p", "tcp",
                                      "--dport", "2323", "-j", "ACCEPT"]),
        ("iptables base jump removed", ["iptables", "-D", "libvirt-in", "-m", "physdev",
                                        "--physdev-in", "st0", "-g", "FI-st0"]),
        ("iptables FORWARD hooks flushed", ["iptables", "-F", "FORWARD"]),
    ],
    "nftables": [
        ("nft ruleset flushed", ["nft", "flush", "ruleset"]),
    ],
}


def save_runs(tmp, tool):
    """How often each *-save tool runs during one `nwfilter status` (TOOL),
    counted by wrappers put first on PATH."""
    wrap = os.path.join(tmp, "wrap")
    os.makedirs(wrap, exist_ok=True)
    log = os.path.join(tmp, "save-runs")
    for name in ("ebtables-save", "iptables-save", "ip6tables-save"):
        path = os.path.join(wrap, name)
        with open(path, "w") as f:
            f.write('#!/bin/sh\necho %s >> "%s"\nexec %s "$@"\n'
                    % (name, log, shutil.which(name)))
        os.chmod(path, 0o755)
    saved = os.environ["PATH"]
    os.environ["PATH"] = wrap + os.pathsep + saved
    try:
        tool("status")
    finally:
        os.environ["PATH"] = saved
    with open(log) as f:
        names = f.read().split()
    os.unlink(log)
    return {n: names.count(n) for n in set(names)}


def inner():
    tap = nn.Tap()
    tmp = tempfile.mkdtemp(prefix="nwf-firewalld-status-")
    filt = os.path.join(tmp, "filters")
    os.makedirs(filt)

    def write_filter(text):
        with open(os.path.join(filt, "st-test.xml"), "w") as f:
            f.write(text)

    bindings = []
    for n, port in ((1, "st0"), (2, "st1")):
        subprocess.run(["ip", "link", "add", port, "type", "veth", "peer", "name", port + "p"],
                       check=True)
        path = os.path.join(tmp, port + ".xml")
        with open(path, "w") as f:
            f.write(BINDING % (n, port, n, n))
        bindings.append(path)

    def tool(*args):
        return subprocess.run([nn.TOOL] + list(args) + ["--backend", BACKEND, "--filter-dir",
                                                         filt, "--binding"] + bindings,
                              capture_output=True, text=True)

    def status_is(want_rc, want_lines, desc):
        proc = tool("status")
        tap.ok(proc.returncode == want_rc and proc.stdout.split("\n")[:2] == want_lines, desc,
               "rc %d\n%s%s" % (proc.returncode, proc.stdout, proc.stderr))

    write_filter(FILTER)
    status_is(1, ["st0 drift", "st1 drift"], "nothing applied yet: both drift")
    tap.ok(tool("apply").returncode == 0, "apply both")
    status_is(0, ["st0 present", "st1 present"], "applied: both present")
    if BACKEND == "ebiptables":
        runs = save_runs(tmp, tool)
        tap.ok(runs == {"ebtables-save": 1, "iptables-save": 1, "ip6tables-save": 1},
               "one status round reads each table once for both bindings", repr(runs))
    write_filter(CHANGED)
    status_is(1, ["st0 drift", "st1 drift"], "filter changed since the apply: both drift")
    write_filter(FILTER)
    for desc, argv in DAMAGE[BACKEND]:
        proc = subprocess.run(argv, capture_output=True, text=True)
        tap.ok(proc.returncode == 0, "damage: " + desc, proc.stderr)
        if argv[-1] == "ruleset" or "FORWARD" in argv:
            status_is(1, ["st0 drift", "st1 drift"], desc + ": both drift")
        else:
            status_is(1, ["st0 drift", "st1 present"], desc + ": st0 drift, st1 present")
        tap.ok(tool("apply").returncode == 0, desc + ": re-applied")
        status_is(0, ["st0 present", "st1 present"], desc + ": both present again")
    proc = subprocess.run([nn.TOOL, "status", "--backend", BACKEND], capture_output=True,
                          text=True)
    tap.ok(proc.returncode == 2, "status without bindings is a usage error (exit 2)",
           proc.stderr)
    return tap.done()


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "inner":
        return inner()
    code = nn.unmet_prerequisites("status tests", tools=("ip", "unshare"))
    if code is not None:
        return code
    # a private network namespace of our own, gone when the process ends
    return subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__),
                           BACKEND, "inner"]).returncode


if __name__ == "__main__":
    sys.exit(main())
