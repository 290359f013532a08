#!/usr/bin/env python3
"""nwfilter trace and nwfilter fingerprint as a user runs them: exit
statuses, batch mode, --frame against the word description, and the
fingerprint's stability (uuids, whitespace, attribute order, number base)
and sensitivity (one port number in a leaf filter). TAP output."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_tap import finish, ok  # noqa: E402

BUILD = os.environ.get("NWF_BUILD_ROOT", "")
TOOL = os.path.join(BUILD, "tools", "nwfilter")

BINDING = """<filterbinding>
  <owner><name>vm1</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid></owner>
  <portdev name='%(port)s'/>
  <mac address='52:54:00:00:00:01'/>
  <filterref filter='%(filter)s'>
    <parameter name='IP' value='10.0.0.9'/>
  </filterref>
</filterbinding>
"""


def tool(*args, stdin=None):
    return subprocess.run([TOOL] + list(args), capture_output=True, text=True, input=stdin)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# A small tree: top -> (mid -> leaf), written two ways.
TREE_A = {
    "fp-top": """<filter name='fp-top' chain='root'>
  <uuid>11111111-1111-4111-8111-111111111111</uuid>
  <filterref filter='fp-mid'/>
  <rule action='drop' direction='inout' priority='900'><all/></rule>
</filter>
""",
    "fp-mid": """<filter name='fp-mid' chain='ipv4' priority='-700'>
  <uuid>22222222-2222-4222-8222-222222222222</uuid>
  <filterref filter='fp-leaf'><parameter name='PORT' value='22'/></filterref>
  <rule action='accept' direction='out' priority='100'>
    <ip srcipaddr='$IP' protocol='udp' dstportstart='53'/>
  </rule>
</filter>
""",
    "fp-leaf": """<filter name='fp-leaf' chain='root'>
  <uuid>33333333-3333-4333-8333-333333333333</uuid>
  <rule action='accept' direction='in' priority='200'>
    <tcp dstportstart='$PORT' srcipaddr='10.0.0.0' srcipmask='8' comment='ssh'/>
  </rule>
  <rule action='accept' direction='in' priority='210'>
    <tcp dstportstart='443'/>
  </rule>
</filter>
""",
}

# The same tree: other uuids, whitespace, attribute order, hex numbers, a
# dotted mask and another comment.
TREE_B = {
    "fp-top": """<?xml version='1.0'?>
<filter   chain="root"   name="fp-top">
    <uuid>aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa</uuid>

    <filterref   filter="fp-mid" />
    <rule priority="900" direction="inout" action="drop">
       <all />
    </rule>
</filter>
""",
    "fp-mid": """<filter priority="-700" name="fp-mid" chain="ipv4"><uuid>bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb</uuid><filterref filter="fp-leaf"><parameter value="22" name="PORT"/></filterref><rule priority="100" action="accept" direction="out"><ip dstportstart="0x35" protocol="17" srcipaddr="$IP"/></rule></filter>""",
    "fp-leaf": """<filter name='fp-leaf' chain='root'>
  <uuid>cccccccc-cccc-4ccc-8ccc-cccccccccccc</uuid>
  <rule direction='in' priority='200' action='accept'>
    <tcp srcipmask='255.0.0.0' comment='secure shell' srcipaddr='10.0.0.0' dstportstart='$PORT'/>
  </rule>
  <rule action='accept' direction='in' priority='210'>
    <tcp dstportstart='0x1bb'/>
  </rule>
</filter>
""",
}


def fingerprint(binding, fdir):
    proc = tool("fingerprint", "--binding", binding, "--filter-dir", fdir, "--no-stock-filters")
    return proc, [l for l in proc.stdout.splitlines() if l.startswith("fingerprint:")]


def test_fingerprint(tmp):
    dirs = {}
    for name, tree in (("a", TREE_A), ("b", TREE_B)):
        dirs[name] = os.path.join(tmp, "fp-" + name)
        os.mkdir(dirs[name])
        for fname, text in tree.items():
            write(os.path.join(dirs[name], fname + ".xml"), text)
    binding = os.path.join(tmp, "fp-binding.xml")
    write(binding, BINDING % {"port": "vnet0", "filter": "fp-top"})
    # another host's port name does not matter
    binding2 = os.path.join(tmp, "fp-binding2.xml")
    write(binding2, BINDING % {"port": "vnet7", "filter": "fp-top"})

    pa, fa = fingerprint(binding, dirs["a"])
    pb, fb = fingerprint(binding2, dirs["b"])
    ok(pa.returncode == 0 and len(fa) == 1, "fingerprint of tree A", pa.stderr)
    ok(fa == fb and fa, "same tree, other uuids/whitespace/attribute order/number base: equal",
       "%s\n%s" % (fa, fb))
    ok("filters (3): fp-top fp-mid fp-leaf" in pa.stdout, "lists the filters covered", pa.stdout)

    leaf = os.path.join(dirs["b"], "fp-leaf.xml")
    write(leaf, TREE_B["fp-leaf"].replace("0x1bb", "444"))
    pc, fc = fingerprint(binding2, dirs["b"])
    ok(pc.returncode == 0 and fc and fc != fa, "one port number changed in a leaf: different",
       "%s %s" % (fc, pc.stderr))
    write(leaf, TREE_B["fp-leaf"].replace("direction='in' priority='200'",
                                          "direction='in' priority='201'"))
    _, fd = fingerprint(binding2, dirs["b"])
    ok(fd and fd != fa, "a rule priority changed: different")
    write(leaf, TREE_B["fp-leaf"])
    write(binding2, (BINDING % {"port": "vnet7", "filter": "fp-top"}).replace("10.0.0.9", "10.0.0.8"))
    _, fe = fingerprint(binding2, dirs["b"])
    ok(fe and fe != fa, "a binding parameter changed: different")

    os.unlink(os.path.join(dirs["a"], "fp-leaf.xml"))
    pf, _ = fingerprint(binding, dirs["a"])
    ok(pf.returncode == 1 and "referenced filter 'fp-leaf' is missing" in pf.stderr,
       "missing filter: exit 1 with libvirt's message", pf.stderr)

    canon = tool("fingerprint", "--binding", binding2, "--filter-dir", dirs["b"],
                 "--no-stock-filters", "--canonical")
    ok("filter fp-leaf chain=root chain-priority=0" in canon.stdout
       and "    dstportstart=443" in canon.stdout and "uuid" not in canon.stdout
       and "comment" not in canon.stdout,
       "--canonical prints the hashed text (numbers in decimal, no uuid or comment)",
       canon.stdout)

    stock = os.path.join(tmp, "stock-binding.xml")
    write(stock, BINDING % {"port": "vnet0", "filter": "clean-traffic"})
    p1 = tool("fingerprint", "--binding", stock, "--quiet")
    p2 = tool("fingerprint", "--binding", stock, "--quiet")
    ok(p1.returncode == 0 and len(p1.stdout.strip()) == 64 and p1.stdout == p2.stdout,
       "stock clean-traffic: stable 64-digit hash", p1.stderr)


def test_trace(tmp):
    binding = os.path.join(tmp, "trace-binding.xml")
    write(binding, BINDING % {"port": "vnet0", "filter": "clean-traffic"})
    base = ["trace", "--binding", binding]

    p = tool(*base, "--direction", "out", "ip", "src", "10.0.0.9", "dst", "10.0.0.1",
             "tcp", "dport", "22")
    ok(p.returncode == 0 and "verdict: accept" in p.stdout, "own IP: accept, exit 0", p.stdout + p.stderr)
    ok("filter 'no-ip-spoofing' (chain ipv4-ip), priority 500, line" in p.stdout
       and "variables: IP=10.0.0.9" in p.stdout,
       "names the deciding sub-chain rule, its line and its variables", p.stdout)

    p = tool(*base, "--direction", "out", "ip", "src", "10.0.0.8", "dst", "10.0.0.1")
    ok(p.returncode == 1 and "verdict: drop" in p.stdout, "spoofed IP: drop, exit 1", p.stdout)
    ok("priority 1000" in p.stdout, "the catch-all drop decided", p.stdout)

    p = tool(*base, "--direction", "out", "ether", "src", "52:54:00:00:00:02", "arp")
    ok(p.returncode == 1, "spoofed MAC in ARP: drop", p.stdout)

    p = tool(*base, "--direction", "in", "ip", "src", "10.0.0.1", "dst", "10.0.0.9", "udp")
    ok(p.returncode == 0, "incoming IPv4: accept", p.stdout)
    p = tool(*base, "--direction", "in", "ip6", "dst", "fd00::9")
    ok(p.returncode == 1, "incoming IPv6 (no-other-l2-traffic): drop", p.stdout)

    for bad, why in ((["--direction", "out", "tcp"], "transport without IP"),
                     (["--direction", "sideways", "ip"], "bad direction"),
                     (["ip"], "no direction"),
                     (["--direction", "out", "--frame", "abc"], "odd hex"),
                     (["--direction", "out", "--state", "weird", "ip"], "bad state"),
                     (["--direction", "out", "--bogus"], "unknown option")):
        p = tool(*base, *bad)
        ok(p.returncode == 2 and p.stderr.startswith("error:"), "bad input (%s): exit 2" % why,
           p.stdout + p.stderr)
    p = tool("trace", "--binding", os.path.join(tmp, "missing.xml"), "--direction", "out", "ip")
    ok(p.returncode == 2, "missing binding file: exit 2", p.stderr)

    # --frame: the same bytes as the words give the same verdict
    frame = ("020000000001" "525400000001" "0800"
             "45000028000100004006" "0000" "0a000008" "0a000001"
             "9c400016000000010000000050020000" "00000000")
    p = tool(*base, "--direction", "out", "--frame", frame)
    ok(p.returncode == 1 and "10.0.0.8 > 10.0.0.1 tcp 40000 > 22" in p.stdout,
       "--frame decodes the real headers", p.stdout + p.stderr)

    batch = os.path.join(tmp, "batch.txt")
    write(batch, "\n".join([
        "ip src 10.0.0.9 tcp dport 22",
        "# comment",
        "ip src 10.0.0.8",
        "--direction in ip dst 10.0.0.9 udp",
        "--frame " + frame,
        "ip tcp dport 99999",
        "arp psrc 10.0.0.9",
    ]) + "\n")
    p = tool(*base, "--direction", "out", "--batch", batch)
    ok(p.stdout.split() == ["accept", "drop", "accept", "drop", "error", "accept"],
       "batch: one verdict per packet line", p.stdout + p.stderr)
    ok(p.returncode == 2, "batch with a bad line: exit 2", p.returncode)

    # the backends differ on VLAN encap-protocol: ebtables reads libvirt's
    # decimal as hex
    vlan = os.path.join(tmp, "vlan")
    os.mkdir(vlan)
    write(os.path.join(vlan, "vlan-encap.xml"), "<filter name='vlan-encap' chain='root'>"
          "<rule action='drop' direction='out'><vlan encap-protocol='ipv4'/></rule></filter>")
    vb = os.path.join(tmp, "vlan-binding.xml")
    write(vb, BINDING % {"port": "vnet0", "filter": "vlan-encap"})
    for backend, want in (("nft", 1), ("ebiptables", 0)):
        p = tool("trace", "--binding", vb, "--filter-dir", vlan, "--backend", backend,
                 "--direction", "out", "--quiet", "vlan", "id", "5", "ip")
        ok(p.returncode == want, "--backend %s: VLAN-encapsulated IPv4 %s" % (
            backend, "dropped" if want else "passes (encap read as 0x2048)"), p.stdout + p.stderr)
    p = tool(*base, "--backend", "iptables6", "--direction", "out", "ip")
    ok(p.returncode == 2 and "--backend must be" in p.stderr, "bad --backend: exit 2", p.stderr)

    # to the host: TO_HOST instead of FROM_VM
    write(os.path.join(vlan, "host-only.xml"), "<filter name='host-only' chain='root'>"
          "<rule action='drop' direction='out'><udp dstportstart='53'/></rule></filter>")
    hb = os.path.join(tmp, "host-binding.xml")
    write(hb, BINDING % {"port": "vnet0", "filter": "host-only"})
    bridged = tool("trace", "--binding", hb, "--filter-dir", vlan, "--direction", "out",
                   "ip", "udp", "dport", "53")
    host = tool("trace", "--binding", hb, "--filter-dir", vlan, "--direction", "out",
                "--to-host", "ip", "udp", "dport", "53")
    ok(bridged.returncode == 1 and "[FROM_VM] drop" in bridged.stdout
       and host.returncode == 1 and "[TO_HOST] drop" in host.stdout,
       "--to-host walks TO_HOST", bridged.stdout + host.stdout)

    p = tool(*base, "--direction", "in", "ether", "type", "0x0800", "payload", "4500ffff")
    ok("note: malformed IPv4 header" in p.stdout, "a malformed IPv4 header is pointed out",
       p.stdout)

    p = tool(*base, "--direction", "out", "--state", "established", "--ct-dir", "reply",
             "--quiet", "ip", "src", "10.0.0.9")
    ok(p.stdout.strip() == "accept" and p.returncode == 0, "--quiet prints the verdict only",
       p.stdout)


def main():
    if not os.path.exists(TOOL):
        print("1..0 # SKIP nwfilter tool not built")
        return 0 if os.environ.get("CI") != "true" else 1
    with tempfile.TemporaryDirectory(prefix="nwf-trace-cli-") as tmp:
        test_trace(tmp)
        test_fingerprint(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
