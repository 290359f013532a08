#!/usr/bin/env python3
"""Benchmark (not a test): clean-traffic bound to N veth ports, one binding
after the other, with our ebiptables backend (`nwfilter apply`) and, where
libvirtd 9.x is installed, with libvirt's own daemon
(`virsh -c qemu:///system nwfilter-binding-create`), side by side. Prints
per-port times and the ratio, and whether both left the same rules in the
kernel (ebtables-save / iptables-save / ip6tables-save, ignoring the
explicit RETURN that ends our sub-chains).

Everything runs in private namespaces made with unshare: a network namespace
per run, and for libvirt also a mount namespace with tmpfs over /run,
/etc/libvirt and /var/{lib,cache,log}/libvirt (plus a passwd/group copy with
libvirt's qemu user), so the host is never touched. Needs root.

  bench_ebiptables.py [--libvirt-ports K] [--baseline TOOL] [N ...]
                                                     (default N: 10 40 200)

--baseline TOOL also measures another build's `nwfilter` one-by-one in the
same run (before/after comparisons on a machine whose load changes). Each
row ends with the load average, since every figure scales with it.

libvirt takes seconds per port, so it is measured on the first K ports of
each run (default 10) and its per-port figure is the mean over those.

  bench_ebiptables.py --inner libvirt K [--redefined FILE]

runs one libvirtd measurement in the current namespaces (the caller unshares
them; run_inner does) and prints it as JSON. With --redefined it goes on to
redefine clean-traffic from FILE (timed until the final chains of all K
ports hold the added rule) and to delete the K bindings one by one: the
libvirt side of bench_compare.py.

Besides wall-clock time, each side's CPU time per port is printed (ours:
the nwfilter process and the tools it runs; libvirt: virsh, plus libvirtd
and the tools it runs): on a loaded machine wall time is mostly waiting
for a CPU, CPU time is not.
"""
import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
STOCK = os.path.join(SOURCE, "src", "nwfilter", "xml")


def binding_xml(i):
    return """<filterbinding>
  <owner><name>vm%d</name><uuid>d217f2d7-5a04-0e01-8b98-%012x</uuid></owner>
  <portdev name='vnb%d'/>
  <mac address='52:54:00:%02x:%02x:%02x'/>
  <filterref filter='clean-traffic'><parameter name='IP' value='10.%d.%d.%d'/></filterref>
</filterbinding>
""" % (i, i, i, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1 + (i >> 16), (i >> 8) & 255,
       2 + (i & 255) % 250)


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def make_ports(n):
    sh("ip", "link", "set", "lo", "up")
    for i in range(n):
        sh("ip", "link", "add", "vnb%d" % i, "type", "veth", "peer", "name", "vpb%d" % i)


def kernel_rules():
    out = []
    for tool in (("ebtables-save", "-t", "nat"), ("iptables-save", "-t", "filter"),
                 ("ip6tables-save", "-t", "filter")):
        text = sh(*tool).stdout
        out += [l for l in text.splitlines()
                if l and not l.startswith("#") and not re.match(r"^-A \S+ -j RETURN$", l)]
    return out


def write_bindings(n, tmp):
    paths = []
    for i in range(n):
        paths.append(os.path.join(tmp, "b%d.xml" % i))
        with open(paths[-1], "w") as f:
            f.write(binding_xml(i))
    return paths


def children_cpu():
    """CPU seconds of the waited-for child processes so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def process_cpu(pid):
    """CPU seconds of PID and of the children it waited for."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def inner_ours(n, tool, tmp):
    make_ports(n)
    times, cpu = [], []
    for path in write_bindings(n, tmp):
        c0, t0 = children_cpu(), time.perf_counter()
        sh(tool, "apply", "--backend", "ebiptables", "--binding", path)
        times.append(time.perf_counter() - t0)
        cpu.append(children_cpu() - c0)
    return {"times": times, "cpu": cpu, "rules": kernel_rules()}


def inner_ours_batch(n, tool, tmp):
    """All N bindings in one `nwfilter apply` (one transaction)."""
    make_ports(n)
    paths = write_bindings(n, tmp)
    t0 = time.perf_counter()
    sh(tool, "apply", "--backend", "ebiptables", "--binding", paths[0], *paths[1:])
    return {"times": [time.perf_counter() - t0], "rules": kernel_rules()}


def private_libvirt_root(tmp):
    """tmpfs over libvirt's directories, in this (private) mount namespace."""
    passwd, group = os.path.join(tmp, "passwd"), os.path.join(tmp, "group")
    shutil.copy("/etc/passwd", passwd)
    shutil.copy("/etc/group", group)
    with open(passwd, "a") as f:
        f.write("libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin\n")
    with open(group, "a") as f:
        f.write("libvirt-qemu:x:64055:\nkvm:x:64056:\nlibvirt:x:64057:\n")
    sh("mount", "--bind", passwd, "/etc/passwd")
    sh("mount", "--bind", group, "/etc/group")
    for d in ("/run", "/etc/libvirt", "/var/lib/libvirt", "/var/cache/libvirt",
              "/var/log/libvirt"):
        os.makedirs(d, exist_ok=True)
        sh("mount", "-t", "tmpfs", "none", d)
    os.makedirs("/run/libvirt")
    os.makedirs("/etc/libvirt/nwfilter")
    with open("/etc/libvirt/qemu.conf", "w") as f:
        f.write('user = "root"\ngroup = "root"\n')
    for name in os.listdir(STOCK):
        shutil.copy(os.path.join(STOCK, name), "/etc/libvirt/nwfilter/")


VIRSH = ("virsh", "-c", "qemu:///system")


@contextlib.contextmanager
def libvirt_daemon(tmp):
    """libvirtd on private directories, answering; stopped on the way out."""
    private_libvirt_root(tmp)
    log = open(os.path.join(tmp, "libvirtd.log"), "w")
    daemon = subprocess.Popen(["libvirtd"], stdout=log, stderr=log)
    try:
        # libvirtd takes a while on a busy machine: wait until it answers
        deadline = time.time() + 300
        while subprocess.run(VIRSH + ("nwfilter-list",), capture_output=True).returncode != 0:
            if time.time() > deadline or daemon.poll() is not None:
                raise RuntimeError("libvirtd did not come up")
            time.sleep(0.5)
        yield daemon
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def ports_with_marker(marker):
    """Ports whose final iptables chains (FI-, FO-, HI-; libvirt builds new
    rules in lower-case chains and renames them when done) hold MARKER."""
    text = sh("iptables-save", "-t", "filter").stdout
    return {m.group(1) for m in re.finditer(r"^-A [FH][IO]-(\S+) .*%s" % re.escape(marker),
                                            text, re.M)}


def libvirt_redefine(daemon, xml_path, n, tmp):
    """Redefine clean-traffic from XML_PATH (its uuid taken from libvirtd,
    which refuses a same-name filter with another uuid), then wait until
    the final chains of all N ports hold the new rule. Returns (seconds
    until virsh returned, ports holding the rule then, seconds until all
    did, CPU seconds)."""
    uuid = re.search(r"<uuid>([^<]+)</uuid>",
                     sh(*VIRSH, "nwfilter-dumpxml", "clean-traffic").stdout).group(1)
    with open(xml_path) as f:
        xml = f.read()
    path = os.path.join(tmp, "redefined.xml")
    with open(path, "w") as f:
        f.write(re.sub(r"^(<filter[^>]*>)", r"\1\n  <uuid>%s</uuid>" % uuid, xml, count=1))
    # the rule the redefinition adds is the filter's only UDP port match
    marker = "--dport %s" % re.search(r"dstportstart='(\d+)'", xml).group(1)
    if ports_with_marker(marker):
        raise RuntimeError("a port holds the redefinition's rule before the redefinition")
    c0, d0, t0 = children_cpu(), process_cpu(daemon.pid), time.perf_counter()
    sh(*VIRSH, "nwfilter-define", path)
    returned = time.perf_counter() - t0
    at_return = len(ports_with_marker(marker))
    while len(ports_with_marker(marker)) < n:
        if time.perf_counter() - t0 > 3600:
            raise RuntimeError("libvirt never applied the redefined filter to all ports")
        time.sleep(0.05)
    applied = time.perf_counter() - t0
    cpu = children_cpu() - c0 + process_cpu(daemon.pid) - d0
    return returned, at_return, max(applied, returned), cpu


def inner_libvirt(n, tmp, redefined=None):
    """libvirtd creates N bindings one by one; with REDEFINED (a filter XML
    file) it then redefines clean-traffic with it and deletes the bindings
    one by one."""
    make_ports(n)
    with libvirt_daemon(tmp) as daemon:
        times, cpu = [], []
        for i in range(n):
            path = os.path.join(tmp, "b%d.xml" % i)
            with open(path, "w") as f:
                f.write(binding_xml(i))
            c0, d0, t0 = children_cpu(), process_cpu(daemon.pid), time.perf_counter()
            sh(*VIRSH, "nwfilter-binding-create", path)
            times.append(time.perf_counter() - t0)
            cpu.append(children_cpu() - c0 + process_cpu(daemon.pid) - d0)
        result = {"times": times, "cpu": cpu, "rules": kernel_rules()}
        if not redefined:
            return result
        returned, at_return, applied, redefine_cpu = libvirt_redefine(daemon, redefined, n, tmp)
        result["redefine"] = {"returned": returned, "ports_at_return": at_return,
                              "applied": applied, "cpu": redefine_cpu}
        c0, d0, t0 = children_cpu(), process_cpu(daemon.pid), time.perf_counter()
        for i in range(n):
            sh(*VIRSH, "nwfilter-binding-delete", "vnb%d" % i)
        result["delete"] = {"time": time.perf_counter() - t0,
                            "cpu": children_cpu() - c0 + process_cpu(daemon.pid) - d0,
                            "rules_left": len([l for l in kernel_rules() if "vnb" in l])}
        return result


def run_inner(kind, n, tool, redefined=None):
    """One measurement in fresh namespaces; REDEFINED: see inner_libvirt."""
    args = [sys.executable, os.path.abspath(__file__), "--inner", kind, "--tool", tool, str(n)]
    if redefined:
        args += ["--redefined", redefined]
    prefix = ["unshare", "-n"] if kind != "libvirt" else ["unshare", "-m", "-n",
                                                          "--propagation", "private"]
    proc = subprocess.run(prefix + args, capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError("%s run failed: %s" % (kind, proc.stderr.strip()[-2000:]))
    return json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ports", nargs="*", type=int, default=[10, 40, 200])
    ap.add_argument("--libvirt-ports", type=int, default=10)
    ap.add_argument("--tool", default=os.path.join(SOURCE, "build", "tools", "nwfilter"))
    ap.add_argument("--baseline", help="another nwfilter binary, measured one-by-one too")
    ap.add_argument("--inner", choices=["ours", "ours-batch", "libvirt"])
    ap.add_argument("--redefined", help="with --inner libvirt: also redefine clean-traffic "
                    "with this file, then delete the bindings")
    args = ap.parse_args()

    if args.inner:
        tmp = tempfile.mkdtemp(prefix="nwf-bench-")
        try:
            if args.inner == "ours":
                result = inner_ours(args.ports[0], args.tool, tmp)
            elif args.inner == "ours-batch":
                result = inner_ours_batch(args.ports[0], args.tool, tmp)
            else:
                result = inner_libvirt(args.ports[0], tmp, args.redefined)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(json.dumps(result))
        return 0

    if os.geteuid() != 0:
        print("bench_ebiptables: needs root (network namespaces)")
        return 1
    have_libvirt = shutil.which("libvirtd") is not None and shutil.which("virsh") is not None
    print("ebiptables backend: clean-traffic on N veth ports")
    print("  one-by-one: one `nwfilter apply` (process + transaction) per port")
    print("  batch:      all N bindings in one `nwfilter apply` (one transaction)")
    print("  libvirt:    `virsh nwfilter-binding-create` per port (libvirtd 9.x)")
    if args.baseline:
        print("  baseline:   %s one-by-one" % args.baseline)
    print("%5s  %14s  %12s  %14s  %16s  %s" % ("N", "one-by-one ms", "batch ms", "libvirt ms/port",
                                                "libvirt/ours", "same rules as libvirt"))
    for n in args.ports:
        if args.baseline:
            base = run_inner("ours", n, args.baseline)
            print("%5d  baseline %9.1f/port (cpu %.1f ms/port)  (load %.1f)"
                  % (n, statistics.mean(base["times"]) * 1000,
                     statistics.mean(base["cpu"]) * 1000, os.getloadavg()[0]))
        ours = run_inner("ours", n, args.tool)
        batch = run_inner("ours-batch", n, args.tool)
        per_port = statistics.mean(ours["times"]) * 1000
        batch_per_port = batch["times"][0] * 1000 / n
        line = "%5d  %9.1f/port  %7.1f/port" % (n, per_port, batch_per_port)
        line += " (cpu %.1f ms/port)" % (statistics.mean(ours["cpu"]) * 1000)
        if batch["rules"] != ours["rules"]:
            line += "  (batch and one-by-one rules DIFFER)"
        if have_libvirt and args.libvirt_ports > 0:
            k = min(n, args.libvirt_ports)
            lv = run_inner("libvirt", k, args.tool)
            lv_per_port = statistics.mean(lv["times"]) * 1000
            mine = ours if k == n else run_inner("ours", k, args.tool)
            same = "yes" if lv["rules"] == mine["rules"] else "NO"
            line += "  %14.1f  %6.1fx / %6.1fx  %s" % (
                lv_per_port, lv_per_port / per_port, lv_per_port / batch_per_port, same)
            lv_cpu, my_cpu = statistics.mean(lv["cpu"]) * 1000, statistics.mean(mine["cpu"]) * 1000
            line += "  cpu ms/port: libvirt %.1f, ours %.1f (%.1fx)" % (lv_cpu, my_cpu,
                                                                        lv_cpu / my_cpu)
            if k < n:
                line += " (libvirt: first %d ports)" % k
        else:
            line += "  %14s  %16s  %s" % ("-", "-", "libvirtd not installed")
        print(line + "  (load %.1f)" % os.getloadavg()[0])
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
