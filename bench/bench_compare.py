#!/usr/bin/env python3
"""Benchmark (not a test): the whole life of N filter bindings, side by side
in one run, for our nftables backend, our ebiptables backend, libvirt 9.0's
own daemon (where installed) and the raw `nft -f` floor:

  create    N bindings of clean-traffic, each with its own MAC and IP, one
            after the other
  redefine  clean-traffic is redefined with one more rule (an IP-layer
            drop of UDP port 9999), so every binding is re-instantiated
  delete    all N bindings, one after the other
  floor     `nft -f` of the final nftables ruleset (every port redefined)
            into an empty kernel, in one go

Ours: bench_nft --machine (the backends in-process, one transaction per
binding on create and delete; redefine = recompiling all N bindings + one
transaction). libvirt: bench_ebiptables.py --inner libvirt --redefined, a
real libvirtd in private namespaces driven with virsh: create =
nwfilter-binding-create per port, redefine = nwfilter-define of the same
redefined clean-traffic (bench_nft --redefined-xml), timed until libvirt's
chains of every port hold the new rule, delete = nwfilter-binding-delete per
port. libvirt's nwfilter-define returns only once it has re-instantiated
every binding: the run checks it and prints how many ports held the new rule
when virsh returned. Neither side ever touches the host's firewall or the
host's libvirt: each runs in network (and for libvirt mount) namespaces of
its own. Needs root.

  bench_compare.py [--libvirt-ports K] [--ebiptables-max M] [--bench-nft PATH]
                   [N ...]                            (default N: 10 100 1000)

libvirt takes seconds per port (create, and again per port on redefine and
delete), so it runs on K = min(N, --libvirt-ports) ports (default 100); its
per-port figures and the ratios ours/libvirt per port are labelled with the
K they were measured on and are never extrapolated to N. A K measured once
is reused for a larger N with the same K (labelled so). --ebiptables-max M:
ebiptables only for N <= M (default 1000; it takes 0.1-0.3 s per port).
--libvirt-ports 0 leaves libvirt out.

Prints, per N, one row per side: seconds and ms per port of each phase, and
CPU seconds (ours: the bench process and the tools it ran; libvirt: virsh,
libvirtd and the tools it ran), since on a shared machine wall time is
partly waiting for a CPU; then the ratios ours/libvirt per port and
nftables against the floor, and the load average.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_ebiptables  # noqa: E402

SOURCE = os.path.dirname(HERE)
PHASES = ("create", "redefine", "delete")


def run_machine(argv, what):
    """The stdout of ARGV (a program run with --machine), and its
    {side: {phase: (wall s, cpu s)}} from the "result SIDE N PHASE WALL CPU"
    lines."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (what, proc.stderr.strip()[-2000:]))
    sides = {}
    for line in proc.stdout.splitlines():
        word = line.split()
        if len(word) == 6 and word[0] == "result":
            sides.setdefault(word[1], {})[word[3]] = (float(word[4]), float(word[5]))
    return proc.stdout, sides


def run_ours(bench_nft, n, ebiptables_max):
    """{side: {phase: (wall s, cpu s)}} from bench_nft --machine; the
    redefinition's compile time is added to each backend's redefine."""
    _, sides = run_machine([bench_nft, "--machine", "--ebiptables-max", str(ebiptables_max),
                            str(n)], "bench_nft")
    compile_wall, compile_cpu = sides.pop("compile")["redefine"]
    for side in ("nftables", "ebiptables"):
        if side in sides and "redefine" in sides[side]:
            wall, cpu = sides[side]["redefine"]
            sides[side]["redefine"] = (wall + compile_wall, cpu + compile_cpu)
    return sides


def run_daemon(n):
    """{phase: (wall s, cpu s)} of nwfilterd (nftables) driven through
    python3-libvirt (bench_daemon.py; the CPU is the daemon's), plus whether
    the kernel held the redefinition when nwfilterDefineXML returned; None
    without Debian's python3-libvirt."""
    if subprocess.run(["/usr/bin/python3", "-c", "import libvirt"],
                      capture_output=True).returncode != 0:
        return None
    out, sides = run_machine(["/usr/bin/python3", os.path.join(HERE, "bench_daemon.py"),
                              "--machine", str(n)], "bench_daemon.py")
    phases = sides.get("nwfilterd", {})
    phases["held"] = ("held %d yes" % n) in out
    return phases


def run_libvirt(k, redefined):
    """{phase: (wall s, cpu s)} for K ports, plus what was seen at the
    return of nwfilter-define."""
    r = bench_ebiptables.run_inner("libvirt", k, "unused", redefined)
    return {"create": (sum(r["times"]), sum(r["cpu"])),
            "redefine": (r["redefine"]["applied"], r["redefine"]["cpu"]),
            "delete": (r["delete"]["time"], r["delete"]["cpu"]),
            "define_returned": r["redefine"]["returned"],
            "ports_at_return": r["redefine"]["ports_at_return"],
            "rules_left": r["delete"]["rules_left"]}


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def row(label, ports, phases):
    cells = ""
    for phase in PHASES:
        if phase in phases:
            wall = phases[phase][0]
            cells += "  %10.3f %10.3f" % (wall, 1000 * wall / ports)
        else:
            cells += "  %10s %10s" % ("-", "-")
    cpu = "/".join("%.3f" % phases[p][1] if p in phases else "-" for p in PHASES)
    print("%-28s %6d%s   %s" % (label, ports, cells, cpu))


def ratio(ours, theirs):
    """ours/theirs as 1/X when ours is the smaller."""
    if ours <= 0 or theirs <= 0:
        return "-"
    return "1/%.0f" % (theirs / ours) if ours < theirs else "%.2f" % (ours / theirs)


def main():
    ap = argparse.ArgumentParser(description="create / redefine / delete of N bindings: "
                                 "our backends, libvirt 9.0 and the nft -f floor")
    ap.add_argument("ports", nargs="*", type=int, default=[10, 100, 1000])
    ap.add_argument("--libvirt-ports", type=int, default=100, metavar="K")
    ap.add_argument("--ebiptables-max", type=int, default=1000, metavar="M")
    ap.add_argument("--bench-nft", default=os.path.join(SOURCE, "build", "bench", "bench_nft"))
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("bench_compare: needs root (network and mount namespaces)")
        return 1
    have_libvirt = all(shutil.which(t) for t in ("libvirtd", "virsh"))
    tmp = tempfile.mkdtemp(prefix="nwf-bench-compare-")
    redefined = os.path.join(tmp, "clean-traffic-redefined.xml")
    with open(redefined, "w") as f:
        f.write(subprocess.run([args.bench_nft, "--redefined-xml"], check=True,
                               capture_output=True, text=True).stdout)
    libvirt_runs = {}
    print("create / redefine / delete of N clean-traffic bindings (own MAC + IP each);")
    print("redefine: clean-traffic gains one rule, every binding re-instantiated.")
    print("ours: backends in-process, one transaction per port (create, delete);")
    print("      redefine = recompile all N + one transaction.")
    print("nwfilterd: our daemon (nftables), python3-libvirt calls one after the other,")
    print("      redefine = one nwfilterDefineXML; cpu = the daemon's.")
    if have_libvirt and args.libvirt_ports > 0:
        print("libvirt 9.0: libvirtd + virsh per port; on K = min(N, %d) ports only."
              % args.libvirt_ports)
    elif args.libvirt_ports > 0:
        print("libvirt: libvirtd/virsh not installed (apt-get install libvirt-daemon "
              "libvirt-clients), left out")
    print("Figures: wall seconds and ms per port; cpu = seconds of CPU per phase.")
    try:
        for n in args.ports:
            print()
            print("N = %d   (%s)" % (n, load()))
            ours = run_ours(args.bench_nft, n, args.ebiptables_max)
            daemon = run_daemon(n)
            lv, k = None, min(n, args.libvirt_ports)
            if have_libvirt and k > 0:
                reused = k in libvirt_runs
                if not reused:
                    libvirt_runs[k] = run_libvirt(k, redefined)
                lv = libvirt_runs[k]
            print("%-28s %6s%s   %s" % ("side", "ports", "".join(
                "  %10s %10s" % (p + " s", "ms/port") for p in PHASES),
                "cpu s create/redefine/delete"))
            for side in ("nftables", "ebiptables"):
                if side in ours:
                    row(side + " (ours)", n, ours[side])
                else:
                    print("%-28s %6d  not measured (N > --ebiptables-max)" % (side + " (ours)", n))
            if daemon:
                row("nwfilterd (ours, daemon)", n, daemon)
            else:
                print("%-28s %6d  not measured (needs Debian's python3-libvirt)"
                      % ("nwfilterd (ours, daemon)", n))
            if lv:
                row("libvirt 9.0 (K=%d%s)" % (k, ", reused" if reused else ""), k, lv)
            floor = ours["floor"]
            print("%-28s %6d  nft -f of the final ruleset %.3f s (cpu %.3f); same text via "
                  "libnftables in-process %.3f s" % ("floor", n, floor["nft-f"][0],
                                                     floor["nft-f"][1], floor["libnft"][0]))
            if daemon:
                print("nwfilterd: when nwfilterDefineXML returned the kernel held the new "
                      "rule for every port: %s" % ("yes" if daemon.get("held") else "NO"))
            if lv:
                print("libvirt: nwfilter-define returned after %.3f s with %d of %d ports "
                      "holding the new rule%s" % (
                          lv["define_returned"], lv["ports_at_return"], k,
                          "" if lv["ports_at_return"] == k
                          else "; all held it after %.3f s" % lv["redefine"][0]))
                if lv["rules_left"]:
                    print("libvirt: %d rules left after deleting every binding"
                          % lv["rules_left"])
                print("ours/libvirt per port (ours on %d ports; libvirt's per-port figures "
                      "as measured on its %d ports%s):"
                      % (n, k, ", not extrapolated to %d" % n if k < n else ""))
                for side in ("nftables", "ebiptables"):
                    if side in ours:
                        print("  %-12s %s" % (side, "  ".join(
                            "%s %s" % (p, ratio(ours[side][p][0] / n, lv[p][0] / k))
                            for p in PHASES if p in ours[side])))
                if daemon:
                    print("  %-12s %s" % ("nwfilterd", "  ".join(
                        "%s %s" % (p, ratio(daemon[p][0] / n, lv[p][0] / k))
                        for p in PHASES)))
            nft = ours["nftables"]
            print("nftables / floor (nft -f): create %.2fx, redefine %.2fx, delete %.2fx"
                  % tuple(nft[p][0] / floor["nft-f"][0] for p in PHASES))
            print("(%s)" % load())
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
