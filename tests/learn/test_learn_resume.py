#!/usr/bin/python3
"""Resume and migration of a port whose filters need a learned IP (issue 4,
item 4), end to end through nwfilterd and python3-libvirt on one backend
(first argument: nftables or ebiptables).

libvirt 9.0's QEMU driver builds a binding from the NIC's <filterref>
alone (virDomainConfNWFilterInstantiate): owner, portdev, MAC, the filter
name and every parameter of the domain XML copied verbatim, so
CTRL_IP_LEARNING stays, and IP is there only when the domain's NIC carries
it. On restore and incoming migration it creates the binding afresh, the
way VM start does. These cases re-create bindings that way:

  - with IP=<learned address> (and CTRL_IP_LEARNING still present): the
    rules in the kernel when the create call returns are the final ones,
    the same as the port had once it had learned the address, and the very
    first guest packets are judged by them;
  - without IP: 'any' learns again from the first packet ('any' addresses
    are forgotten with the binding); 'dhcp' gets still-valid leases back at
    once (spec 7.2: after resume, valid leases apply), and learns again
    once they have expired;
  - nwfilterd killed (SIGKILL) and started again: learned addresses stay
    enforced from the lease file, before any guest packet;
  - two daemons ("hosts") with their own state dirs and namespaces: the
    destination enforces the address passed to it at once, the source its
    own, and deleting on the source leaves the destination alone; a dhcp
    port on the destination learns afresh (the VM must run DHCP again).

The guest namespaces have IPv6 off, so the kernel sends nothing of its own
from them: every frame a guest sends is one these cases send.

Needs root. Prints TAP; without root outside CI every case is skipped,
under CI=true a missing capability fails."""
import functools
import glob
import os
import re
import shutil
import signal
import sys
import time

import libvirt

from netns_harness import (MAC_VM1, MAC_VM2, NS_BR, NS_SRV, NS_VM1, NS_VM2, Net, PREFIX,
                           delivered, peer, run_cases, sh)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from nwfd_harness import STOCK, Daemon  # noqa: E402

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "nftables"
OWNER1 = "5b1c7a0e-3f7d-4c55-8a2e-00000000c0de"
OWNER2 = "5b1c7a0e-3f7d-4c55-8a2e-00000000beef"
# The second host of the migration case.
HOST_B = tuple(f"{PREFIX}-b{n}" for n in ("br", "vm1", "vm2", "srv"))


class Host:
    """One host: a bridge namespace and nwfilterd in it on directories of
    its own (state dir ROOT/bindings, leases ROOT/network)."""

    def __init__(self, root, br=NS_BR):
        self.br = br
        self.daemon = Daemon(type("Ns", (), {"name": br}), BACKEND, root=root)
        os.makedirs(self.daemon.config_dir, exist_ok=True)
        for f in glob.glob(os.path.join(STOCK, "*.xml")):
            shutil.copy(f, self.daemon.config_dir)
        self.conn = None

    def start(self):
        self.daemon.start()
        self.conn = libvirt.open(self.daemon.uri)

    def stop(self, sig=signal.SIGTERM):
        """The daemon's exit status (None when it was not running)."""
        if self.conn is not None:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass    # the daemon was killed under the connection
            self.conn = None
        return self.daemon.stop(sig)

    def create(self, port, owner, mac, params, filt="clean-traffic"):
        """Create the binding as virNWFilterBindingDefFormat writes the
        QEMU driver's: PARAMS are the NIC's <filterref> parameters."""
        plist = "".join(f"    <parameter name='{k}' value='{v}'/>\n" for k, v in params)
        xml = (f"<filterbinding>\n  <owner>\n    <name>vm-{owner[-4:]}</name>\n"
               f"    <uuid>{owner}</uuid>\n  </owner>\n  <portdev name='{port}'/>\n"
               f"  <mac address='{mac}'/>\n  <filterref filter='{filt}'>\n"
               f"{plist}  </filterref>\n</filterbinding>\n")
        self.conn.nwfilterBindingCreateXML(xml, 0)

    def delete(self, port):
        self.conn.nwfilterBindingLookupByPortDev(port).delete()

    def rules(self):
        return ruleset(self.br)

    def leases(self):
        path = os.path.join(self.daemon.root, "network", "nwfilter.leases")
        if not os.path.exists(path):
            return ""
        with open(path) as fh:
            return fh.read()

    def status_files(self):
        return sorted(os.listdir(self.daemon.state_dir))


def ruleset(ns):
    """The namespace's nftables ruleset (ebtables and iptables are the
    nf_tables variants here, so both backends show) as {block path: lines},
    packet counters and program digests left out: two rule sets compare
    equal when the same rules sit in the same chains in the same order.
    What filters nothing is left out too: an empty base chain that accepts
    everything (ebtables-nft creates one on first use and keeps it) and an
    empty set or map (one a backend keeps for reuse)."""
    blocks = {}
    path = []
    for line in sh("nft", "list", "ruleset", ns=ns).stdout.splitlines():
        line = re.sub(r"counter packets \d+ bytes \d+", "counter", line.strip())
        # A backend's fingerprint of a port's program (it covers the port
        # name, so it differs for a renamed port): the rules are compared.
        line = re.sub(r'comment "[0-9a-f]{32,}(/[0-9a-f]+)?"', 'comment "<digest>"', line)
        if line.endswith("{"):
            path.append(line[:-1].strip())
            blocks.setdefault(tuple(path), [])
        elif line == "}":
            path.pop()
        elif line:
            blocks.setdefault(tuple(path), []).append(line)
    return {k: v for k, v in blocks.items() if not inert(k, v)}


def inert(path, lines):
    if len(lines) == 1 and " hook " in lines[0] and lines[0].endswith("policy accept;"):
        return True
    return (path[-1].startswith(("set ", "map ")) and
            all(l.startswith(("type ", "typeof ", "flags ")) for l in lines))


def text(rules):
    return "\n".join(" ".join(k) + ": " + l for k, lines in rules.items() for l in lines)


def diff(got, want):
    """What differs between two rulesets, briefly."""
    keys = sorted(set(got) | set(want))
    out = [f"{' / '.join(k)}: got {got.get(k)} want {want.get(k)}"
           for k in keys if got.get(k) != want.get(k)]
    return "; ".join(out)[:1500]


def wait_rules(host, needle, timeout=8):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if needle in text(host.rules()):
            return True
        time.sleep(0.05)
    return False


def renamed(rules, old, new):
    """RULES with port name OLD read as NEW."""
    return {tuple(p.replace(old, new) for p in k): [l.replace(old, new) for l in v]
            for k, v in rules.items()}


def rename_port(old, new):
    sh("ip", "link", "set", old, "down", ns=NS_BR)
    sh("ip", "link", "set", old, "name", new, ns=NS_BR)
    sh("ip", "link", "set", new, "up", ns=NS_BR)


def guests_quiet(*namespaces):
    """No IPv6 from the guests' own kernels (router solicitations, DAD,
    MLD): the only guest frames are the ones a case sends."""
    for ns in namespaces:
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.eth0.disable_ipv6=1", ns=ns)


def check_first_packets(problems, what, vm=NS_VM1, srv=NS_SRV, good="10.0.0.5",
                        spoofed="10.0.0.6"):
    """The guest's first frames: spoofed, good, spoofed. Only GOOD may
    arrive (a port still learning 'any' would pass and learn SPOOFED)."""
    seen = delivered(vm, srv, [spoofed, good, spoofed])
    if seen != [good]:
        problems.append(f"{what}: the server saw {seen} (want only [{good!r}])")


def learn_any(host, problems):
    """vnet1 with CTRL_IP_LEARNING=any learns 10.0.0.5 from the guest's
    first packet. Returns (learning-phase rules, learned rules)."""
    host.create("vnet1", OWNER1, MAC_VM1, [("CTRL_IP_LEARNING", "any")])
    phase = host.rules()
    seen = delivered(NS_VM1, NS_SRV, ["10.0.0.5"])
    if seen != ["10.0.0.5"]:
        problems.append(f"learning 'any': the first packet did not pass ({seen})")
    if not wait_rules(host, "10.0.0.5"):
        problems.append("the rules never got the learned 10.0.0.5")
    return phase, host.rules()


DHCP_PARAMS = [("CTRL_IP_LEARNING", "dhcp"), ("DHCPSERVER", "10.0.0.1")]


def learn_dhcp(host, problems, want="10.0.0.5"):
    """vnet2 with CTRL_IP_LEARNING=dhcp gets WANT from the DHCP server.
    Returns (learning-phase rules, learned rules)."""
    host.create("vnet2", OWNER2, MAC_VM2, DHCP_PARAMS)
    phase = host.rules()
    r = peer(NS_VM2).dora("10.0.0.1")
    if r != f"leased {want}":
        problems.append(f"the DHCP exchange through the learning rules failed: {r}")
    if not wait_rules(host, want):
        problems.append(f"the rules never got the leased {want}")
    return phase, host.rules()


def expect_rules(problems, host, want, what):
    """HOST's rules now, a problem noted unless they are WANT."""
    now = host.rules()
    if now != want:
        problems.append(f"{what}: " + diff(now, want))
    return now


def relearn_any(host, problems, phase):
    """vnet1 re-created without IP: the learning-phase rules PHASE of a new
    port, then the address the VM now uses (10.0.0.8) is learned from its
    first packet and enforced; the old 10.0.0.5 is dropped."""
    host.create("vnet1", OWNER1, MAC_VM1, [("CTRL_IP_LEARNING", "any")])
    expect_rules(problems, host, phase, "re-created without IP, the port does not run the "
                 "learning-phase rules")
    seen = delivered(NS_VM1, NS_SRV, ["10.0.0.7"], src_mac="52:54:00:66:66:66")
    if seen:
        problems.append(f"while learning, a foreign source MAC passed: {seen}")
    seen = delivered(NS_VM1, NS_SRV, ["10.0.0.8"])
    if seen != ["10.0.0.8"]:
        problems.append(f"learning: the VM's first packet from 10.0.0.8 did not pass ({seen})")
    if not wait_rules(host, "10.0.0.8"):
        problems.append("the rules never got the newly learned 10.0.0.8")
    check_first_packets(problems, "after learning 10.0.0.8", good="10.0.0.8", spoofed="10.0.0.5")


def dhcp_server(srv, servers, pool, leases=None):
    """A DHCP server (10.0.0.1) in SRV, added to SERVERS, handing out the
    addresses of POOL."""
    server = peer(srv).dhcp_server("10.0.0.1", pool, leases=leases)
    servers.append(server)
    return server


def stop_all(problems, servers, hosts):
    for s in servers:
        problems += s.stop()
    for host in hosts:
        rc = host.stop()
        if rc not in (0, None):
            problems.append(f"nwfilterd exited with {rc}: {host.daemon.log()[-2000:]}")


def on_host(*guests):
    """A case on one host (the harness's namespaces): the GUESTS made
    quiet, nwfilterd started, then BODY(host, problems, servers); the DHCP
    servers BODY adds to SERVERS and the daemon are stopped however it
    ends."""
    def wrap(body):
        @functools.wraps(body)
        def case(work):
            problems, servers = [], []
            guests_quiet(*guests)
            host = Host(os.path.join(work, "a"))
            try:
                host.start()
                body(host, problems, servers)
            finally:
                stop_all(problems, servers, [host])
            return problems
        return case
    return wrap


@on_host(NS_VM1)
def case_any_with_ip(host, problems, servers):
    """Learned 'any', binding deleted (VM saved) and re-created with
    IP=10.0.0.5 and CTRL_IP_LEARNING=any: final rules at once."""
    phase, learned = learn_any(host, problems)
    host.delete("vnet1")
    if "vnet1" in text(host.rules()):
        problems.append("binding delete left rules for vnet1")
    host.create("vnet1", OWNER1, MAC_VM1, [("CTRL_IP_LEARNING", "any"), ("IP", "10.0.0.5")])
    now = expect_rules(problems, host, learned,
                       "after the create call the rules are not the learned ones")
    if now == phase:
        problems.append("after the create call the port runs learning-phase rules")
    check_first_packets(problems, "re-created with IP")
    xml = host.conn.nwfilterBindingLookupByPortDev("vnet1").XMLDesc(0)
    if "<parameter name='IP' value='10.0.0.5'/>" not in xml:
        problems.append(f"the binding XML lost the IP parameter passed: {xml}")


@on_host(NS_VM2)
def case_dhcp_with_ip(host, problems, servers):
    """Leased by DHCP, binding deleted and re-created with IP=10.0.0.5 and
    the dhcp parameters: final rules at once."""
    dhcp_server(NS_SRV, servers, ["10.0.0.5"])
    phase, learned = learn_dhcp(host, problems)
    host.delete("vnet2")
    host.create("vnet2", OWNER2, MAC_VM2, DHCP_PARAMS + [("IP", "10.0.0.5")])
    now = expect_rules(problems, host, learned,
                       "after the create call the rules are not the leased ones")
    if now == phase:
        problems.append("after the create call the port runs DHCP-only rules")
    check_first_packets(problems, "re-created with IP", vm=NS_VM2)


@on_host(NS_VM1)
def case_any_without_ip(host, problems, servers):
    """Learned 'any', re-created without IP: learning starts again ('any'
    addresses go with the binding)."""
    phase, _ = learn_any(host, problems)
    host.delete("vnet1")
    if "10.0.0.5" in host.leases():
        problems.append("the address learned from traffic outlived the binding")
    relearn_any(host, problems, phase)


# The lease time of the case below. Its first half (the lease learned, a
# delete, a re-create, the rules compared, three frames) must end while the
# lease is valid: measured from the ACK, about 1 s, under 2 s with ASan at
# a load of 6-9 on 2 cores, 3.1-5.5 s with four ASan instances at once at a
# load of 12. The window is LEASE_SECS - 1 s (whole-second stamps).
LEASE_SECS = 10


@on_host(NS_VM2)
def case_dhcp_without_ip(host, problems, servers):
    """Leased by DHCP, re-created without IP: while the lease is valid it
    is in force at once (resume), also on the other tap name a restored VM
    may get (the lease belongs to the VM's UUID and MAC); re-created after
    it expired, the port runs the DHCP-only rules again and learns the
    next lease."""
    server = dhcp_server(NS_SRV, servers, ["10.0.0.5", "10.0.0.9"],
                         leases={"10.0.0.5": LEASE_SECS})
    # nwfilterd stamps a lease in whole seconds when it sees the ACK: after
    # the server sent it, and before the learned rules are in place. The
    # lease holds until at least LEASE_SECS - 1 s after the first and at
    # most LEASE_SECS s after the second.
    phase, learned = learn_dhcp(host, problems)
    leased = time.monotonic()
    acked = server.acked.get("10.0.0.5", leased)
    host.delete("vnet2")
    if "10.0.0.5" not in host.leases():
        problems.append("the DHCP lease did not outlive the binding in the lease file")
    rename_port("vnet2", "vnet5")
    host.create("vnet5", OWNER2, MAC_VM2, DHCP_PARAMS)
    expect_rules(problems, host, renamed(learned, "vnet2", "vnet5"),
                 "re-created on vnet5 while the lease is valid, the rules are not the leased "
                 "ones")
    check_first_packets(problems, "re-created, lease valid", vm=NS_VM2)
    checked = time.monotonic() - acked
    print(f"# the valid lease was checked {checked:.1f} s after the ACK")
    if checked >= LEASE_SECS - 1:
        problems.append(f"the machine is too slow: the lease may have expired before it was "
                        f"checked ({checked:.1f} s)")

    host.delete("vnet5")
    time.sleep(max(0.0, leased + LEASE_SECS + 0.5 - time.monotonic()))
    host.create("vnet5", OWNER2, MAC_VM2, DHCP_PARAMS)
    expect_rules(problems, host, renamed(phase, "vnet2", "vnet5"), "re-created after the "
                 "lease expired, the port does not run the DHCP-only rules")
    seen = delivered(NS_VM2, NS_SRV, ["10.0.0.5", "10.0.0.9"])
    if seen:
        problems.append(f"no lease yet, yet non-DHCP traffic passed: {seen}")
    r = peer(NS_VM2).dora("10.0.0.1", xid=2)
    if r != "leased 10.0.0.9":
        problems.append(f"the second DHCP exchange failed: {r}")
    if not wait_rules(host, "10.0.0.9"):
        problems.append("the rules never got the new lease 10.0.0.9")
    check_first_packets(problems, "new lease", vm=NS_VM2, good="10.0.0.9", spoofed="10.0.0.5")


@on_host(NS_VM1, NS_VM2)
def case_daemon_killed(host, problems, servers):
    """Both ports learned ('any' on vnet1, a DHCP lease on vnet2), then
    nwfilterd is killed and started again: the rules it applies at start
    are the learned ones, and the guests' first packets after are judged
    by them."""
    dhcp_server(NS_SRV, servers, ["10.0.0.7"])
    learn_any(host, problems)
    learn_dhcp(host, problems, want="10.0.0.7")
    learned = host.rules()
    host.stop(signal.SIGKILL)
    # The killed daemon's rules go, so that what is checked next is what
    # the new one applies itself from its state dir and leases.
    sh("nft", "flush", "ruleset", ns=NS_BR)
    host.start()
    expect_rules(problems, host, learned, "after the restart the rules are not the learned ones")
    check_first_packets(problems, "vnet1 after the restart")
    check_first_packets(problems, "vnet2 after the restart", vm=NS_VM2, good="10.0.0.7",
                        spoofed="10.0.0.5")


@on_host(NS_VM1)
def case_port_gone_while_down(host, problems, servers):
    """The VM stops (its tap goes) while nwfilterd is down, so the daemon
    drops the binding at start (its device has gone). The VM's next
    binding without IP learns afresh, as after a delete: what the old port
    taught must neither come back nor stay in the lease file."""
    phase, _ = learn_any(host, problems)
    host.stop()
    rename_port("vnet1", "vsaved1")
    host.start()
    if host.conn.listAllNWFilterBindings(0) or host.status_files():
        problems.append("the binding of the gone port was not dropped at start")
    if "10.0.0.5" in host.leases():
        problems.append("the address learned from traffic outlived the dropped binding")
    rename_port("vsaved1", "vnet1")
    relearn_any(host, problems, phase)


@on_host(NS_VM1)
def case_ipv6_with_ip(host, problems, servers):
    """IPv6 the same way: a port learns 2001:db8::100 from a DHCPv6 reply
    and is re-created with IPV6=2001:db8::100: the address is in the rules
    when the create call returns and the first IPv6 packets are judged by
    them."""
    host.create("vnet1", OWNER1, MAC_VM1, [], filt="no-ipv6-spoofing")
    peer(NS_SRV).dhcp6_reply("2001:db8::100", "fe80::a", MAC_VM1)
    if not wait_rules(host, "2001:db8::100"):
        problems.append("the rules never got the DHCPv6-leased 2001:db8::100")
    host.delete("vnet1")
    host.create("vnet1", OWNER1, MAC_VM1, [("IPV6", "2001:db8::100")], filt="no-ipv6-spoofing")
    if "2001:db8::100" not in text(host.rules()):
        problems.append("after the create call 2001:db8::100 is not in the rules")
    check_first_packets(problems, "re-created with IPV6", good="2001:db8::100",
                        spoofed="2001:db8::99")


def case_migration(work):
    """Host A learned 10.0.0.5 on vnet1 ('any') and leased 10.0.0.7 to
    vnet2 ('dhcp'). The VMs start on host B (same MACs, ports of the same
    names): vnet1's binding carries IP=10.0.0.5, vnet2's no IP. B enforces
    10.0.0.5 from the create call on; vnet2 on B learns by DHCP again.
    Both hosts enforce independently; the source's delete after the
    migration changes nothing on B."""
    problems, servers = [], []
    guests_quiet(NS_VM1, NS_VM2)
    net_b = Net(HOST_B)
    a = Host(os.path.join(work, "a"))
    b = Host(os.path.join(work, "b"), br=HOST_B[0])
    try:
        net_b.setup()
        guests_quiet(HOST_B[1], HOST_B[2])
        dhcp_server(NS_SRV, servers, ["10.0.0.7"])
        dhcp_server(HOST_B[3], servers, ["10.0.0.9"])
        a.start()
        b.start()
        _, learned_a = learn_any(a, problems)
        learn_dhcp(a, problems, want="10.0.0.7")
        rules_a = a.rules()

        b.create("vnet1", OWNER1, MAC_VM1, [("CTRL_IP_LEARNING", "any"), ("IP", "10.0.0.5")])
        # The same port, MAC and address on both hosts: when the create
        # call returns, B has the rules A had once it had learned.
        expect_rules(problems, b, learned_a,
                     "host B's rules after the create call are not those host A learned")
        b.create("vnet2", OWNER2, MAC_VM2, DHCP_PARAMS)
        if "10.0.0.7" in text(b.rules()) or "10.0.0.7" in b.leases():
            problems.append("host B knows host A's lease")
        check_first_packets(problems, "host B vnet1", vm=HOST_B[1], srv=HOST_B[3])
        seen = delivered(HOST_B[2], HOST_B[3], ["10.0.0.7"])
        if seen:
            problems.append(f"host B vnet2 passed non-DHCP traffic before a lease: {seen}")
        r = peer(HOST_B[2]).dora("10.0.0.1", xid=5)
        if r != "leased 10.0.0.9":
            problems.append(f"the DHCP exchange on host B failed: {r}")
        if not wait_rules(b, "10.0.0.9"):
            problems.append("host B's rules never got the lease 10.0.0.9")
        check_first_packets(problems, "host B vnet2", vm=HOST_B[2], srv=HOST_B[3],
                            good="10.0.0.9", spoofed="10.0.0.7")

        expect_rules(problems, a, rules_a, "host A's rules changed while host B worked")
        check_first_packets(problems, "host A vnet1")
        check_first_packets(problems, "host A vnet2", vm=NS_VM2, good="10.0.0.7",
                            spoofed="10.0.0.5")

        rules_b = b.rules()
        a.delete("vnet1")
        a.delete("vnet2")
        if "vnet" in text(a.rules()):
            problems.append("host A kept rules for deleted bindings")
        expect_rules(problems, b, rules_b, "deleting on host A changed host B's rules")
        if b.status_files() != ["vnet1.xml", "vnet2.xml"] or a.status_files():
            problems.append(f"state dirs: A {a.status_files()}, B {b.status_files()}")
        if "10.0.0.5" in b.leases():
            problems.append("host B recorded 10.0.0.5, which it was given, as learned")
        check_first_packets(problems, "host B vnet1 after A's delete", vm=HOST_B[1],
                            srv=HOST_B[3])
    finally:
        stop_all(problems, servers, [a, b])
        net_b.teardown()
    return problems


CASES = [(f"{BACKEND}: any: re-created with the learned IP: final rules when the create "
          "returns, first packets enforced", case_any_with_ip),
         (f"{BACKEND}: dhcp: re-created with the leased IP: final rules when the create "
          "returns, first packets enforced", case_dhcp_with_ip),
         (f"{BACKEND}: any: re-created without IP: learning-phase rules, the new address "
          "learned and enforced", case_any_without_ip),
         (f"{BACKEND}: dhcp: re-created without IP: valid lease in force at once (on a new "
          "tap name too); after expiry DHCP-only rules and a new lease", case_dhcp_without_ip),
         (f"{BACKEND}: nwfilterd killed and restarted: learned any and dhcp addresses "
          "enforced before any guest packet", case_daemon_killed),
         (f"{BACKEND}: two daemons (migration): IP passed enforced at once on the "
          "destination, source independent, dhcp relearned", case_migration),
         (f"{BACKEND}: ipv6: re-created with the DHCPv6-learned IPV6: in the rules when the "
          "create returns, first packets enforced", case_ipv6_with_ip),
         (f"{BACKEND}: any: a binding dropped at start (port gone while nwfilterd was down) "
          "forgets what the port taught; the next binding learns afresh",
          case_port_gone_while_down)]

if __name__ == "__main__":
    libvirt.registerErrorHandler(lambda *_: None, None)
    sys.exit(run_cases(CASES, only=sys.argv[2:]))
