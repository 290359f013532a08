#!/usr/bin/env python3
"""The nftables backend against the kernel, in one private network namespace
(root): every xml2firewall vector applies to a (veth) port (each apply replacing the
previous vector's rules, so every kind of chain change is exercised), failed
commits leave `nft list ruleset` byte-identical, and remove leaves nothing
of the port. TAP; under CI=true a missing capability is a failure."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import nwf_netns as n  # noqa: E402

SHARED = os.environ.get("NWF_SHARED", os.path.join(n.HERE, "..", "..", "..", "shared"))
VECTORS = os.path.join(SHARED, "vectors", "libvirt")
NS = "nwf-nft-k%d" % os.getpid()
VARS = ["--var", "IPSETNAME=tck_test"]
for name, values in (("A", ["1.1.1.1", "2.2.2.2", "3.3.3.3", "3.3.3.3"]),
                     ("B", ["80", "90", "80", "80"]), ("C", ["1080", "1090", "1100", "1110"])):
    for v in values:
        VARS += ["--var", "%s=%s" % (name, v)]


def nft(*args, check=True):
    return n.run("nft", *args, ns=NS, check=check)


def ruleset():
    return nft("list", "ruleset").stdout


def tool(*args, env=None):
    return subprocess.run(("ip", "netns", "exec", NS, n.TOOL) + args, capture_output=True,
                          text=True, env=env)


def apply_filter(path, port="vnet0"):
    return tool("apply", "--backend", "nftables", "--filter", path, "--port", port,
                "--mac", n.VM_MAC, *VARS)


def vectors():
    rows = []
    with open(os.path.join(VECTORS, "manifest.tsv")) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 4 and cols[0] == "xml2firewall" and cols[2] != "-" and \
                    cols[3] == "ok":
                rows.append(os.path.join(VECTORS, cols[1]))
    return rows


def check(tap, tmp):
    n.run("ip", "netns", "add", NS)
    for port in ("vnet0", "vnet1"):
        n.run("ip", "link", "add", port, "type", "veth", "peer", "name", port + "p", ns=NS)
    rows = vectors()
    tap.ok(len(rows) == 39, "the manifest lists libvirt's 39 xml2firewall vectors")
    for path in rows:
        name = os.path.basename(path)[:-4]
        before = ruleset()
        proc = apply_filter(path)
        if name == "ipset":
            tap.ok(proc.returncode != 0 and "ipset" in proc.stderr and ruleset() == before,
                   "vector %s: refused (nftables cannot match ipsets), ruleset unchanged" % name,
                   proc.stderr)
            continue
        # the port's own chains, or its dispatch into shared chains (ethernet
        # jumps, or the mark of a group with IP-layer chains only)
        text = nft("list", "ruleset").stdout
        tap.ok(proc.returncode == 0 and ("vnet0/" in text or '"vnet0" : jump ' in text or
                                         '"vnet0" : goto shared-' in text),
               "vector %s: the kernel accepts its transaction" % name, proc.stderr)

    # failures leave the ruleset byte-identical
    bad = os.path.join(tmp, "bad-range.xml")
    with open(bad, "w") as f:
        f.write("<filter name='bad-range' chain='root'><rule action='drop' direction='out'>"
                "<tcp dstportstart='100' dstportend='50'/></rule></filter>")
    before = ruleset()
    proc = apply_filter(bad)
    tap.ok(proc.returncode != 0 and "nftables could not" in proc.stderr and ruleset() == before,
           "a transaction the kernel refuses changes nothing (byte-identical ruleset)",
           proc.stderr)

    # a kernel object of ours vanished behind our back
    handle = [l.split("# handle ")[1] for l in nft("-a", "list", "chain", "bridge", "nwfilter",
                                                  "postrouting").stdout.splitlines()
              if "@eth_in" in l][0]
    nft("delete", "rule", "bridge", "nwfilter", "postrouting", "handle", handle)
    nft("delete", "map", "bridge", "nwfilter", "eth_in")
    before = ruleset()
    proc = apply_filter(os.path.join(VECTORS, "xml2firewall", "mac.xml"), port="vnet1")
    tap.ok(proc.returncode != 0 and "nftables could not" in proc.stderr and ruleset() == before,
           "a missing kernel object fails the commit and changes nothing", proc.stderr)

    # a lost table is rebuilt on the next change
    nft("delete", "table", "bridge", "nwfilter")
    proc = apply_filter(os.path.join(VECTORS, "xml2firewall", "mac.xml"), port="vnet1")
    tap.ok(proc.returncode == 0 and '"vnet1" : jump shared-' in nft("list", "ruleset").stdout,
           "after the bridge table was deleted, the next apply rebuilds both tables",
           proc.stderr)

    # ports are independent; remove leaves nothing of the port
    proc = apply_filter(os.path.join(VECTORS, "xml2firewall", "conntrack.xml"))
    proc2 = tool("remove", "--backend", "nftables", "--port", "vnet1")
    text = ruleset()
    tap.ok(proc.returncode == 0 and proc2.returncode == 0 and "vnet1" not in text and
           re.search(r'"vnet0" : goto (shared-[0-9a-f]+)/mark', text) is not None and
           re.search(r"0x0+1 : jump %s/from4" % re.search(
               r'"vnet0" : goto (shared-[0-9a-f]+)/mark', text).group(1), text) is not None,
           "remove drops one port's chains and elements only", text)
    proc = tool("remove", "--backend", "nftables", "--port", "vnet9")
    tap.ok(proc.returncode == 0 and ruleset() == text, "removing an unknown port is a no-op")
    proc = tool("remove", "--backend", "nftables", "--port", "vnet0")
    text = ruleset()
    tap.ok(proc.returncode == 0 and "vnet0" not in text and "0x00000001" not in text,
           "after the last remove no port chain, element or id is left", text)

    # counters
    env = dict(os.environ, NWF_NFT_COUNTERS="1")
    proc = tool("apply", "--backend", "nftables", "--filter",
                os.path.join(VECTORS, "xml2firewall", "tcp.xml"), "--port", "vnet0", env=env)
    stats = tool("stats", "--port", "vnet0")
    tap.ok(proc.returncode == 0 and stats.returncode == 0 and "tck-testcase" in stats.stdout
           and "vnet0/from4" in stats.stdout, "stats lists counted rules with their filter",
           stats.stdout + stats.stderr)


def main():
    unmet = n.unmet_prerequisites("kernel test", ("ip", "nft"))
    if unmet is not None:
        return unmet
    tap = n.Tap()
    tmp = tempfile.mkdtemp(prefix=NS)
    try:
        check(tap, tmp)
    except Exception as exc:  # report, then clean up
        tap.ok(False, "kernel run", repr(exc))
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
