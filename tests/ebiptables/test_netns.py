#!/usr/bin/env python3
"""The ebiptables backend against a real kernel, in private network
namespaces only: a bridge namespace with two veth ports, a "VM" namespace
behind port vnet0 (the filtered one) and a peer namespace behind vnet1.
Frames are crafted with scapy and counted on the far side, by one
long-running scapy agent per namespace (tests/integration/nwf_netns.py), so
scapy is imported once per side, not once per exchange. TAP output.

Needs root, ebtables/iptables (nft flavour) and python3-scapy; under CI=true
a missing capability is a failure, elsewhere the test is skipped.
"""
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from nwf_netns import Agent, scapy_python  # noqa: E402

TOOL = os.path.join(os.environ.get("NWF_BUILD_ROOT", ""), "tools", "nwfilter")
TAG = "nwf-compile-%d" % os.getpid()
NS_BR, NS_VM, NS_PEER = TAG + "-br", TAG + "-vm", TAG + "-pe"
VM_MAC, PEER_MAC = "52:54:00:00:00:02", "52:54:00:00:00:03"
VM_IP, PEER_IP = "10.0.0.2", "10.0.0.3"

results = []
# the scapy agents in the VM and peer namespaces, while the bed is up
agents = {}

# shell and restore-format metacharacters; must reach the kernel verbatim
NASTY_COMMENT = """`ls`;${COLUMNS};$(ls);"test";&'3   spaces' \\ -j ACCEPT"""
NASTY_COMMENT_XML = (NASTY_COMMENT.replace("&", "&amp;").replace("'", "&apos;")
                     .replace('"', "&quot;").replace("<", "&lt;"))


def ok(cond, desc, detail=""):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), desc))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("#   " + line)
    sys.stdout.flush()


def run(*argv, check=True, ns=None, **kw):
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), proc.stderr))
    return proc


def missing_capability():
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip", "ebtables-save", "iptables-save", "ip6tables-save",
                 "ebtables-restore", "iptables-restore"):
        if not shutil.which(tool):
            return "needs " + tool
    if not scapy_python():
        return "needs python3-scapy"
    if not os.path.exists(TOOL):
        return "nwfilter tool not built"
    return None


def setup():
    for ns in (NS_BR, NS_VM, NS_PEER):
        run("ip", "netns", "add", ns)
        run("ip", "link", "set", "lo", "up", ns=ns)
    run("ip", "-n", NS_BR, "link", "add", "br0", "type", "bridge")
    for port, ns, mac, ip in (("vnet0", NS_VM, VM_MAC, VM_IP),
                              ("vnet1", NS_PEER, PEER_MAC, PEER_IP)):
        run("ip", "-n", NS_BR, "link", "add", port, "type", "veth", "peer", "name", "eth0",
            "netns", ns)
        run("ip", "-n", NS_BR, "link", "set", port, "master", "br0")
        run("ip", "-n", NS_BR, "link", "set", port, "up")
        run("ip", "-n", ns, "link", "set", "eth0", "address", mac)
        run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
    run("ip", "-n", NS_BR, "link", "set", "br0", "up")
    if not os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        run("modprobe", "br_netfilter", check=False)
    # per network namespace; only the bridge namespace is touched
    run("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1", ns=NS_BR)
    run("sysctl", "-qw", "net.bridge.bridge-nf-call-ip6tables=1", ns=NS_BR)
    python = scapy_python()
    agents["vm"] = Agent(NS_VM, "eth0", python)
    agents["peer"] = Agent(NS_PEER, "eth0", python)


def teardown():
    for agent in agents.values():
        agent.close()
    for ns in (NS_BR, NS_VM, NS_PEER):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def nwfilter(*args, expect_ok=True, env=None):
    proc = run(TOOL, *args, check=False, ns=NS_BR, env=env)
    if expect_ok and proc.returncode != 0:
        raise RuntimeError("nwfilter %s failed: %s" % (" ".join(args), proc.stderr))
    return proc


def firewall_state():
    """Everything the three tools hold, without comments and counters."""
    out = []
    for tool in (("ebtables-save", "-t", "nat"), ("iptables-save", "-t", "filter"),
                 ("ip6tables-save", "-t", "filter")):
        text = run(*tool, ns=NS_BR).stdout
        out += [re.sub(r" \[\d+:\d+\]", "", l) for l in text.splitlines()
                if l and not l.startswith("#")]
    return "\n".join(out)


def saved_comment(rule):
    """The --comment argument of an iptables-save line, unescaped."""
    m = re.search(r' --comment "((?:[^"\\]|\\.)*)"', rule) or re.search(r" --comment (\S+)", rule)
    return re.sub(r"\\(.)", r"\1", m.group(1)) if m else None


def udp(tag, src_mac=VM_MAC, src_ip=VM_IP, dst_mac=PEER_MAC, dst_ip=PEER_IP, **kw):
    frame = dict(kind="udp", tag=tag, src_mac=src_mac, src_ip=src_ip, dst_mac=dst_mac,
                 dst_ip=dst_ip)
    frame.update(kw)
    return frame


def arp(src_ip, src_mac=VM_MAC):
    """A broadcast ARP request from SRC_IP; it arrives as "arp-SRC_IP:0"."""
    return dict(kind="arp", tag="arp-" + src_ip, src_mac=src_mac, dst_mac="ff:ff:ff:ff:ff:ff",
                psrc=src_ip, pdst=PEER_IP)


def exchange(vm_frames, peer_frames=()):
    """Send from the VM and from the peer; return what each side received
    (a side's capture also holds what it sent itself), as "<tag>:<n>"."""
    for agent in agents.values():
        agent.call(op="start")
    for who, frames in (("vm", vm_frames), ("peer", peer_frames)):
        if frames:
            agents[who].call(op="send", frames=list(frames))
    time.sleep(0.5)          # frames still in flight
    return (set(agents["peer"].call(op="collect")["seen"]),
            set(agents["vm"].call(op="collect")["seen"]))


def write_filters(tmp):
    files = {
        # clean-traffic plus an IP-layer rule, so all three tools are used
        "nwf-it-top": """<filter name='nwf-it-top' chain='root'>
  <filterref filter='clean-traffic'/>
  <rule action='drop' direction='out' priority='100'><udp dstportstart='9999'/></rule>
</filter>""",
        "nwf-it-comment": """<filter name='nwf-it-comment' chain='root'>
  <filterref filter='clean-traffic'/>
  <rule action='accept' direction='out'><udp comment='x&#10;-A INPUT -j ACCEPT'/></rule>
</filter>""",
        "nwf-it-quotes": """<filter name='nwf-it-quotes' chain='root'>
  <filterref filter='clean-traffic'/>
  <rule action='accept' direction='out'><udp comment='%s'/></rule>
</filter>""" % NASTY_COMMENT_XML,
        "nwf-it-noset": """<filter name='nwf-it-noset' chain='root'>
  <filterref filter='clean-traffic'/>
  <rule action='accept' direction='out'><all ipset='nwf_no_such_set' ipsetflags='src'/></rule>
</filter>""",
        # rules in all three tools
        "nwf-it-three": """<filter name='nwf-it-three' chain='root'>
  <filterref filter='clean-traffic'/>
  <rule action='drop' direction='out' priority='100'><udp dstportstart='9999'/></rule>
  <rule action='drop' direction='out' priority='100'><udp-ipv6 dstportstart='9998'/></rule>
</filter>""",
        "nwf-it-dhcp": """<filter name='nwf-it-dhcp' chain='root'>
  <filterref filter='allow-dhcp'/>
  <rule action='drop' direction='inout' priority='1000'/>
</filter>""",
    }
    for name, xml in files.items():
        with open(os.path.join(tmp, name + ".xml"), "w") as f:
            f.write(xml)


def binding(tmp, top, ip=None):
    params = "" if ip is None else "<parameter name='IP' value='%s'/>" % ip
    path = os.path.join(tmp, "binding-%s.xml" % top)
    with open(path, "w") as f:
        f.write("""<filterbinding>
  <owner><name>vm1</name><uuid>d217f2d7-5a04-0e01-8b98-ec2743436b74</uuid></owner>
  <portdev name='vnet0'/>
  <mac address='%s'/>
  <filterref filter='%s'>%s</filterref>
</filterbinding>""" % (VM_MAC, top, params))
    return path


def apply(tmp, top, *extra, expect_ok=True, ip=VM_IP, env=None):
    return nwfilter("apply", "--backend", "ebiptables", "--binding", binding(tmp, top, ip),
                    "--filter-dir", tmp, *extra, expect_ok=expect_ok, env=env)


def refusing_tools(tmp, refused):
    """A directory for NWF_EBIPTABLES_TOOL_DIR: the real save/restore tools,
    except REFUSED, a wrapper that adds a line the kernel refuses to every
    batch, so that tool's whole transaction fails for real."""
    tooldir = tempfile.mkdtemp(prefix="tools-", dir=tmp)
    for tool in ("ebtables", "iptables", "ip6tables"):
        for kind in ("-save", "-restore"):
            name = tool + kind
            real = shutil.which(name)
            if name != refused:
                os.symlink(real, os.path.join(tooldir, name))
                continue
            with open(os.path.join(tooldir, name), "w") as f:
                f.write("#!/bin/sh\n"
                        "sed 's/^COMMIT$/-A nwf-no-such-chain -j ACCEPT\\nCOMMIT/' | %s \"$@\"\n"
                        % real)
            os.chmod(os.path.join(tooldir, name), 0o755)
    return dict(os.environ, NWF_EBIPTABLES_TOOL_DIR=tooldir)


def drop_ebtables_port(port):
    """Remove PORT's ebtables hooks and chains by hand."""
    saved = run("ebtables-save", "-t", "nat", ns=NS_BR).stdout.splitlines()
    for line in saved:
        if re.match(r"^-A (PRE|POST)ROUTING .*-j libvirt-[IO]-%s$" % port, line):
            run("ebtables", "-t", "nat", "-D", *line.split()[1:], ns=NS_BR)
    chains = [l[1:].split()[0] for l in saved if l.startswith(":") and port in l]
    for op in ("-F", "-X"):
        for chain in chains:
            run("ebtables", "-t", "nat", op, chain, ns=NS_BR)


def atomic_checks(tmp):
    """A tool refusing its batch leaves all three tools as they were."""
    apply(tmp, "nwf-it-three")
    tools = ("ebtables-restore", "iptables-restore", "ip6tables-restore")
    for position, refused in enumerate(tools, 1):
        before = firewall_state()
        proc = apply(tmp, "nwf-it-three", ip="10.0.0.4", expect_ok=False,
                     env=refusing_tools(tmp, refused))
        others = [t.split("-")[0] for t in tools if t != refused]
        ok(proc.returncode != 0 and "Failed to apply firewall rules %s" % refused in proc.stderr
           and "line" in proc.stderr
           and all("previous %s rules were put back" % o in proc.stderr for o in others),
           "tool %d (%s) refusing its batch: the error names it and the other tools' "
           "rules are put back" % (position, refused), proc.stderr)
        after = firewall_state()
        ok(after == before and "10.0.0.4" not in after,
           "tool %d (%s) refusing: ebtables-save/iptables-save/ip6tables-save unchanged"
           % (position, refused), "\n".join(difflib.unified_diff(
               before.splitlines(), after.splitlines(), lineterm=""))[:3000])
        at_peer, _ = exchange([udp("old", src_ip=VM_IP), udp("new", src_ip="10.0.0.4"),
                               udp("p9999", src_ip=VM_IP, dport=9999)])
        ok("old:0" in at_peer and "new:0" not in at_peer
           and "p9999:0" not in at_peer,
           "tool %d (%s) refusing: the old rules still filter" % (position, refused), at_peer)

    # a first apply that fails takes away everything it had built
    nwfilter("remove", "--backend", "ebiptables", "--port", "vnet0")
    before = firewall_state()
    proc = apply(tmp, "nwf-it-three", expect_ok=False,
                 env=refusing_tools(tmp, "ip6tables-restore"))
    ok(proc.returncode != 0 and firewall_state() == before,
       "a first apply refused by ip6tables-restore leaves no trace in any tool",
       proc.stderr + firewall_state())

    # ebtables chains gone, iptables chains left: a program with ebtables
    # rules only takes the new-port path (no ebtables-save) and must still
    # clear the old iptables chains, or put ebtables back when that fails
    apply(tmp, "nwf-it-three")
    drop_ebtables_port("vnet0")
    before = firewall_state()
    proc = apply(tmp, "clean-traffic", expect_ok=False,
                 env=refusing_tools(tmp, "iptables-restore"))
    ok(proc.returncode != 0 and "previous ebtables rules were put back" in proc.stderr
       and firewall_state() == before,
       "new ebtables chains are taken away again when iptables refuses to drop its old ones",
       proc.stderr)
    apply(tmp, "clean-traffic")
    state = firewall_state()
    ok("FI-vnet0" not in state and "HI-vnet0" not in state and "libvirt-I-vnet0" in state
       and "physdev-in vnet0" not in state,
       "an ebtables-only program on a port with old iptables chains clears them", state)
    at_peer, _ = exchange([udp("legit", src_ip=VM_IP), udp("p9999", src_ip=VM_IP, dport=9999),
                           udp("spoofip", src_ip="10.0.0.99")])
    ok("legit:0" in at_peer and "p9999:0" in at_peer and "spoofip:0" not in at_peer,
       "clean-traffic alone filters (the old port-9999 drop is gone)", at_peer)


def checks(tmp):
    write_filters(tmp)
    apply(tmp, "nwf-it-top")
    ok(True, "apply clean-traffic (IP given) in the bridge namespace")

    eb = run("ebtables", "-t", "nat", "-L", ns=NS_BR).stdout
    want = ["libvirt-I-vnet0", "libvirt-O-vnet0", "I-vnet0-mac", "I-vnet0-ipv4-ip",
            "I-vnet0-arp-mac", "I-vnet0-arp-ip", "O-vnet0-ipv4", "-i vnet0 -j libvirt-I-vnet0",
            "-o vnet0 -j libvirt-O-vnet0"]
    ok(all(w in eb for w in want) and "J-vnet0" not in eb and "P-vnet0" not in eb,
       "ebtables -t nat -L shows the final root chains, sub-chains and hooks", eb)
    ipt = run("iptables", "-S", ns=NS_BR).stdout
    want = ["-N FI-vnet0", "-N FO-vnet0", "-N HI-vnet0", "-A FORWARD -j libvirt-in",
            "-A libvirt-in -m physdev --physdev-in vnet0 -g FI-vnet0",
            "-A libvirt-in-post -m physdev --physdev-in vnet0 -j ACCEPT",
            "-A FI-vnet0 -p udp -m udp --dport 9999 -j DROP"]
    ok(all(w in ipt for w in want) and "FJ-vnet0" not in ipt,
       "iptables -S shows FI/FO/HI, their hooks and the rule", ipt)

    at_peer, at_vm = exchange(
        [udp("legit"), udp("spoofmac", src_mac="52:54:00:00:00:99"),
         udp("spoofip", src_ip="10.0.0.99"), arp(VM_IP), arp("10.0.0.98"),
         udp("port9999", dport=9999)],
        [udp("tovm", src_mac=PEER_MAC, src_ip=PEER_IP, dst_mac=VM_MAC, dst_ip=VM_IP)])
    ok("legit:0" in at_peer, "legitimate IPv4 from the VM is delivered", at_peer)
    ok("spoofmac:0" not in at_peer, "a spoofed source MAC is dropped", at_peer)
    ok("spoofip:0" not in at_peer, "a spoofed source IP is dropped", at_peer)
    ok("arp-%s:0" % VM_IP in at_peer, "ARP with the VM's own address is delivered", at_peer)
    ok("arp-10.0.0.98:0" not in at_peer, "spoofed ARP is dropped", at_peer)
    ok("port9999:0" not in at_peer, "the iptables-layer drop rule is enforced", at_peer)
    ok("tovm:0" in at_vm, "legitimate IPv4 to the VM is delivered", at_vm)

    # switch to a second address while the VM keeps sending from the first:
    # the stream runs from before the apply until after it
    agents["peer"].call(op="start")
    agents["vm"].call(op="stream_start", frames=[udp("stream")], gap=0.005)
    deadline = time.time() + 60
    while ("stream:0" not in agents["peer"].call(op="peek")["seen"]
           and time.time() < deadline):
        time.sleep(0.02)
    running_before = "stream:0" in agents["peer"].call(op="peek")["seen"]
    t0 = time.time()
    apply(tmp, "nwf-it-top", "--var", "IP=" + VM_IP, "--var", "IP=10.0.0.4")
    switch_time = time.time() - t0
    time.sleep(0.5)
    # at least 100 frames in all, however slowly a loaded machine sends them
    deadline = time.time() + 30
    while (sum(1 for x in agents["peer"].call(op="peek")["seen"] if x.startswith("stream:"))
           < 100 and time.time() < deadline):
        time.sleep(0.05)
    sent = agents["vm"].call(op="stream_stop")["sent"].get("stream", 0)
    time.sleep(0.5)          # frames still in flight
    seen = set(agents["peer"].call(op="collect")["seen"])
    got = sum(1 for s in seen if s.startswith("stream:"))
    ok(got == sent and sent >= 100 and running_before,
       "re-apply during a %d-frame stream loses no legitimate frame "
       "(%d received, apply took %.3f s, stream delivering before the apply: %s)"
       % (sent, got, switch_time, running_before))
    state = firewall_state()
    ok("10.0.0.4" in state and "J-vnet0" not in state and "FJ-vnet0" not in state,
       "the new rules are live under the final names", state)

    apply(tmp, "nwf-it-top", ip="10.0.0.4")
    at_peer, _ = exchange([udp("old", src_ip=VM_IP), udp("new", src_ip="10.0.0.4")])
    ok("old:0" not in at_peer and "new:0" in at_peer,
       "after switching to IP 10.0.0.4 only the new address passes", at_peer)

    apply(tmp, "nwf-it-quotes", ip="10.0.0.4")
    rules = [l for l in run("iptables-save", "-t", "filter", ns=NS_BR).stdout.splitlines()
             if l.startswith("-A FI-vnet0 ")]
    comments = [saved_comment(l) for l in rules]
    ok(len(rules) == 1 and comments == [NASTY_COMMENT],
       "a comment full of quotes and shell metacharacters stays one inert comment", rules)

    before = firewall_state()
    proc = apply(tmp, "nwf-it-comment", expect_ok=False)
    ok(proc.returncode != 0 and "line break" in proc.stderr and firewall_state() == before,
       "a comment with a newline is refused and the kernel is unchanged", proc.stderr)
    proc = apply(tmp, "nwf-it-top", expect_ok=False, ip="10.0.0.300")
    ok(proc.returncode != 0 and "illegal value" in proc.stderr and firewall_state() == before,
       "a value that fails validation is refused and the kernel is unchanged", proc.stderr)
    proc = apply(tmp, "nwf-it-noset", expect_ok=False)
    ok(proc.returncode != 0 and "Failed to apply firewall rules iptables-restore" in proc.stderr
       and firewall_state() == before,
       "a batch the kernel refuses is rolled back, the previous rules stay", proc.stderr)
    at_peer, _ = exchange([udp("still", src_ip="10.0.0.4"), udp("stillbad", src_ip=VM_IP)])
    ok("still:0" in at_peer and "stillbad:0" not in at_peer,
       "after the failed updates the previous rules still filter", at_peer)

    atomic_checks(tmp)

    # allow-dhcp's sub-chain must return to the root chain's drop
    apply(tmp, "nwf-it-dhcp", ip=None)
    at_peer, at_vm = exchange(
        [udp("dhcp", src_ip="0.0.0.0", dst_ip="255.255.255.255", dst_mac="ff:ff:ff:ff:ff:ff",
             sport=68, dport=67),
         udp("other4", src_ip=VM_IP)],
        [udp("server", src_mac=PEER_MAC, src_ip=PEER_IP, dst_mac=VM_MAC, dst_ip=VM_IP,
             sport=67, dport=68),
         udp("rogue4", src_mac=PEER_MAC, src_ip=PEER_IP, dst_mac=VM_MAC, dst_ip=VM_IP)])
    ok("dhcp:0" in at_peer and "server:0" in at_vm,
       "allow-dhcp lets DHCP through in both directions", (at_peer, at_vm))
    ok("other4:0" not in at_peer and "rogue4:0" not in at_vm,
       "allow-dhcp plus drop-all drops every other IPv4 frame (no fail-open)", (at_peer, at_vm))

    proc = nwfilter("remove", "--backend", "ebiptables", "--port", "vnet0")
    state = firewall_state()
    ok(proc.returncode == 0 and "vnet0" not in state,
       "nwfilter remove leaves no chain or rule for the port", state)


def main():
    reason = missing_capability()
    if reason:
        if os.environ.get("CI") == "true":
            print("1..1\nnot ok 1 - integration prerequisites: %s" % reason)
            return 1
        print("1..0 # SKIP %s" % reason)
        return 0
    tmp = tempfile.mkdtemp(prefix=TAG)
    try:
        setup()
        checks(tmp)
    except Exception as exc:  # report, then clean up
        ok(False, "integration run", repr(exc))
    finally:
        teardown()
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
