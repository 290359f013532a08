#!/usr/bin/python3
"""Benchmark (not a test): the life of N bindings through the daemon, as an
orchestrator sees it. nwfilterd (nftables backend by default) runs in a
network namespace of its own with N veth ports and the stock filters; a
python3-libvirt client on its socket creates N bindings of clean-traffic
(each with its own MAC and IP) one call after the other, redefines
clean-traffic with one more rule (bench_nft --redefined-xml: both layers of
every port change) in one nwfilterDefineXML call, and deletes the bindings
one call after the other. Each phase is timed from the first call to the
last reply, with the daemon's CPU seconds beside it; after the redefinition
the kernel is checked to hold the added rule and every port's dispatch
(the daemon answers only once the new rules are in force). Between the
redefinition and the deletes the daemon is restarted twice, timed from
the start until its socket accepts (it restores every binding before it
listens): over the rules in force ("restart": nothing to write) and, with
nftables, after `nft flush ruleset` ("restart-empty": every port in one
transaction); the kernel is checked after each. Needs root,
Debian's python3-libvirt (hence /usr/bin/python3) and a build (build/
beside bench/, or NWF_BUILD_ROOT).

  bench_daemon.py [--backend nftables|ebiptables] [--state-dir-parent DIR]
                  [--machine] [N ...]                  (default N: 100 1000)

--machine prints one line per figure, "result nwfilterd N PHASE WALL CPU",
and "held N yes|no" (for bench_compare.py).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
BUILD = os.environ.get("NWF_BUILD_ROOT", os.path.join(SOURCE, "build"))
os.environ.setdefault("NWF_BUILD_ROOT", BUILD)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
import bench_ebiptables  # noqa: E402
from nwfd_harness import Daemon, Netns  # noqa: E402

import libvirt  # noqa: E402


def event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def daemon_cpu(daemon):
    return bench_ebiptables.process_cpu(daemon.proc.pid)


def ports_add(ns, n):
    lines = []
    for i in range(n):
        lines.append("link add vnb%d type veth peer name vpb%d" % (i, i))
        lines.append("link set vnb%d up" % i)
    subprocess.run(["ip", "-n", ns.name, "-batch", "-"], input="\n".join(lines) + "\n",
                   check=True, capture_output=True, text=True)


def kernel_check(ns, backend, n):
    """Whether the kernel holds the redefinition's rule and every port."""
    if backend == "ebiptables":
        out = ns.run("iptables-save", "-t", "filter").stdout
        return "--dport 9999" in out and all(
            ("vnb%d " % i) in out or ("vnb%d\n" % i) in out for i in range(n))
    out = ns.run("nft", "list", "ruleset").stdout
    return "udp dport 9999" in out and all(('"vnb%d"' % i) in out for i in range(n))


def run(backend, n, redefined, where):
    tmp = tempfile.mkdtemp(prefix="nwf-bench-daemon-", dir=where)
    ns = Netns("bench")
    daemon = None
    try:
        ports_add(ns, n)
        daemon = Daemon(ns, backend, root=os.path.join(tmp, "d"))
        shutil.copytree(bench_ebiptables.STOCK, daemon.config_dir)
        daemon.start()
        conn = libvirt.open(daemon.uri)
        rows = {}

        c0, t0 = daemon_cpu(daemon), time.perf_counter()
        for i in range(n):
            conn.nwfilterBindingCreateXML(bench_ebiptables.binding_xml(i), 0)
        rows["create"] = (time.perf_counter() - t0, daemon_cpu(daemon) - c0)

        # a filter is redefined under its uuid (as virsh nwfilter-edit does)
        uuid = conn.nwfilterLookupByName("clean-traffic").UUIDString()
        redefined = redefined.replace(">", "><uuid>%s</uuid>" % uuid, 1)
        c0, t0 = daemon_cpu(daemon), time.perf_counter()
        conn.nwfilterDefineXML(redefined)
        rows["redefine"] = (time.perf_counter() - t0, daemon_cpu(daemon) - c0)
        held = kernel_check(ns, backend, n)
        conn.close()

        for phase in ("restart", "restart-empty"):
            if phase == "restart-empty" and backend != "nftables":
                continue
            daemon.stop()
            if phase == "restart-empty":
                ns.run("nft", "flush", "ruleset")
            t0 = time.perf_counter()
            daemon.start(timeout=600)
            rows[phase] = (time.perf_counter() - t0, daemon_cpu(daemon))
            held = held and kernel_check(ns, backend, n)
        conn = libvirt.open(daemon.uri)

        c0, t0 = daemon_cpu(daemon), time.perf_counter()
        for i in range(n):
            conn.nwfilterBindingLookupByPortDev("vnb%d" % i).delete()
        rows["delete"] = (time.perf_counter() - t0, daemon_cpu(daemon) - c0)
        conn.close()
        return rows, held
    finally:
        if daemon:
            daemon.stop()
        ns.delete()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="nftables", choices=("nftables", "ebiptables"))
    ap.add_argument("--state-dir-parent", default="/dev/shm",
                    help="where the daemon's directories go (default /dev/shm: a tmpfs, as "
                    "/run, home of the binding state, is on a production host; each binding "
                    "create and delete syncs its state file)")
    ap.add_argument("--machine", action="store_true", help="result lines only")
    ap.add_argument("n", nargs="*", type=int, default=[100, 1000])
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_daemon.py: needs root (network namespaces, nftables)")
    libvirt.registerErrorHandler(lambda *_: None, None)
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=event_loop, daemon=True).start()
    redefined = subprocess.run([os.path.join(BUILD, "bench", "bench_nft"), "--redefined-xml"],
                               check=True, capture_output=True, text=True).stdout
    if not args.machine:
        print("bench_daemon: nwfilterd --backend %s, state under %s, python3-libvirt client, "
              "load average %s" % (args.backend, args.state_dir_parent,
                                   " ".join(open("/proc/loadavg").read().split()[:3])))
    for n in args.n:
        rows, held = run(args.backend, n, redefined, args.state_dir_parent)
        if args.machine:
            for phase, (wall, cpu) in rows.items():
                print("result nwfilterd %d %s %.6f %.6f" % (n, phase, wall, cpu))
            print("held %d %s" % (n, "yes" if held else "no"))
            sys.stdout.flush()
            continue
        print("N = %d" % n)
        for phase in ("create", "redefine", "restart", "restart-empty", "delete"):
            if phase not in rows:
                continue
            wall, cpu = rows[phase]
            print("  %-13s %8.3f s wall (%8.3f ms/port), daemon cpu %.3f s"
                  % (phase, wall, 1000 * wall / n, cpu))
        print("  after the redefinition returned and after each restart, the kernel held "
              "the new rule for every port: %s" % ("yes" if held else "NO"))
        sys.stdout.flush()
    if not args.machine:
        print("load average after: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))


if __name__ == "__main__":
    main()
