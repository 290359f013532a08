"""Network-namespace test bed shared by the backends' traffic tests.

A bridge namespace (br0, 10.0.0.254 / fd00::fe) with two veth ports: vnet0
leads to the "VM" namespace (the filtered port) and vnet1 to a peer
namespace. One long-running scapy agent per namespace (started through
`ip netns exec`, so scapy is imported once) sends tagged frames and reports
which tagged frames it saw. Every frame ends in b"NWF:<tag>:<n>", so a frame
is recognised whatever its protocol, also when it comes back quoted inside an
ICMP error (reported as "unreach:<tag>:<n>").

Also here: the shared case table (CASES) that every backend must pass with
the same verdicts. Namespaces are named nwf-<who>-<pid>-* and always
deleted, also on failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("NWF_BUILD_ROOT", "")
TOOL = os.path.join(BUILD, "tools", "nwfilter")

VM_MAC, PEER_MAC, HOST_IP = "52:54:00:00:00:02", "52:54:00:00:00:03", "10.0.0.254"
VM_IP, PEER_IP, FAR_IP = "10.0.0.2", "10.0.0.3", "10.0.0.50"
HOST_MAC = "02:00:00:00:00:fe"    # given to br0
VM_IP6, PEER_IP6, HOST_IP6 = "fd00::2", "fd00::3", "fd00::fe"
HOST_PORTS = (7777, 7778)
# seconds an exchange waits on after the frames that must arrive did
GRACE = 0.2


def scapy_python():
    # finding the package, not importing it: an import of scapy.all costs
    # a second of CPU, and the agents import it anyway (a broken scapy then
    # fails the test instead of skipping it)
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('scapy') is None)"
    for cand in (os.environ.get("NWF_PROBE_PYTHON"), "/usr/bin/python3", sys.executable):
        if cand and subprocess.run([cand, "-c", probe], capture_output=True).returncode == 0:
            return cand
    return None


def missing_capability(tools=("ip", "conntrack")):
    if os.geteuid() != 0:
        return "needs root"
    for tool in tools:
        if not shutil.which(tool):
            return "needs " + tool
    if not scapy_python():
        return "needs python3-scapy"
    if not os.path.exists(TOOL):
        return "nwfilter tool not built"
    return None


def unmet_prerequisites(what, tools=("ip", "conntrack")):
    """None when the test can run; otherwise print the TAP plan (a skip, or
    under CI=true a failure) and return the exit code."""
    reason = missing_capability(tools)
    if not reason:
        return None
    if os.environ.get("CI") == "true":
        print("1..1\nnot ok 1 - %s prerequisites: %s" % (what, reason))
        return 1
    print("1..0 # SKIP %s" % reason)
    return 0


class Tap:
    """TAP output: ok()/done()."""

    def __init__(self):
        self.results = []

    def ok(self, cond, desc, detail="", todo=None):
        """TODO: a known bug outside this project; a failure does not count."""
        self.results.append(bool(cond) or bool(todo))
        print("%sok %d - %s%s" % ("" if cond else "not ", len(self.results), desc,
                                  " # TODO " + todo if todo else ""))
        if not cond and detail:
            for line in str(detail).splitlines()[:40]:
                print("#   " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % len(self.results))
        return 0 if self.results and all(self.results) else 1


def run(*argv, check=True, ns=None, **kw):
    if ns:
        argv = ("ip", "netns", "exec", ns) + tuple(argv)
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), proc.stderr))
    return proc


class Agent:
    """A scapy process in one namespace, driven by JSON lines."""

    def __init__(self, ns, iface, python):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, python, os.path.abspath(__file__), "agent", iface],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def call(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("agent died: " + self.proc.stderr.read())
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError("agent: " + reply["error"])
        return reply

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


class Bed:
    """The namespaces, ports and agents."""

    def __init__(self, who):
        tag = "nwf-%s-%d" % (who, os.getpid())
        self.br, self.vm, self.peer = tag + "-br", tag + "-vm", tag + "-pe"
        self.agents = {}
        self.tmp = tempfile.mkdtemp(prefix=tag)

    def __enter__(self):
        try:
            self.setup()
        except Exception:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()

    def setup(self):
        for ns in (self.br, self.vm, self.peer):
            run("ip", "netns", "add", ns)
            run("ip", "link", "set", "lo", "up", ns=ns)
        run("ip", "-n", self.br, "link", "add", "br0", "type", "bridge")
        for port, ns, mac, ip, ip6 in (("vnet0", self.vm, VM_MAC, VM_IP, VM_IP6),
                                       ("vnet1", self.peer, PEER_MAC, PEER_IP, PEER_IP6)):
            run("ip", "-n", self.br, "link", "add", port, "type", "veth", "peer", "name",
                "eth0", "netns", ns)
            run("ip", "-n", self.br, "link", "set", port, "master", "br0")
            run("ip", "-n", self.br, "link", "set", port, "up")
            run("ip", "-n", ns, "link", "set", "eth0", "address", mac)
            run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0")
            run("ip", "-n", ns, "addr", "add", ip6 + "/64", "dev", "eth0", "nodad")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", self.br, "link", "set", "br0", "address", HOST_MAC)
        run("ip", "-n", self.br, "addr", "add", HOST_IP + "/24", "dev", "br0")
        run("ip", "-n", self.br, "addr", "add", HOST_IP6 + "/64", "dev", "br0", "nodad")
        run("ip", "-n", self.br, "link", "set", "br0", "up")
        if not os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
            run("modprobe", "br_netfilter", check=False)
        # per network namespace; only our bridge namespace is touched
        run("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1", ns=self.br)
        run("sysctl", "-qw", "net.bridge.bridge-nf-call-ip6tables=1", ns=self.br)
        python = scapy_python()
        self.agents = {"vm": Agent(self.vm, "eth0", python),
                       "peer": Agent(self.peer, "eth0", python),
                       "host": Agent(self.br, "", python)}
        self.agents["host"].call(op="listen", ports=list(HOST_PORTS))

    def teardown(self):
        for agent in self.agents.values():
            agent.close()
        for ns in (self.br, self.vm, self.peer):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def nwfilter(self, *args, expect_ok=True):
        proc = run(TOOL, *args, check=False, ns=self.br)
        if expect_ok and proc.returncode != 0:
            raise RuntimeError("nwfilter %s failed: %s" % (" ".join(args), proc.stderr))
        return proc

    def write_filters(self, filters):
        for name, xml in filters.items():
            with open(os.path.join(self.tmp, name + ".xml"), "w") as f:
                f.write(xml)

    def binding(self, top, params, port="vnet0", mac=VM_MAC):
        text = "".join("<parameter name='%s' value='%s'/>" % (k, v)
                       for k, vals in params.items() for v in (vals if isinstance(vals, list)
                                                               else [vals]))
        path = os.path.join(self.tmp, "binding-%s-%s.xml" % (port, top))
        with open(path, "w") as f:
            f.write("""<filterbinding>
  <owner><name>vm1</name><uuid>d217f2d7-5a04-0e01-8b98-ec2743436b74</uuid></owner>
  <portdev name='%s'/>
  <mac address='%s'/>
  <filterref filter='%s'>%s</filterref>
</filterbinding>""" % (port, mac, top, text))
        return path

    def apply(self, backend, top, params, expect_ok=True, port="vnet0"):
        return self.nwfilter("apply", "--backend", backend, "--binding",
                             self.binding(top, params, port=port), "--filter-dir", self.tmp,
                             expect_ok=expect_ok)

    def remove(self, backend, port="vnet0"):
        return self.nwfilter("remove", "--backend", backend, "--port", port)

    def flush_conntrack(self):
        run("conntrack", "-F", check=False, ns=self.br)

    def exchange(self, steps, settle=0.6, arrive=None):
        """STEPS: [(sender, [frame, ...]), ...] sent in order. Returns
        {"vm": set, "peer": set, "host": set} of what each side received
        within SETTLE seconds. ARRIVE: {receiver: [item, ...]} that must
        arrive; once all have, the wait ends GRACE later instead (every
        frame was sent before the wait began, so one that should have been
        dropped had GRACE more than those took to show up), and if they
        have not it lasts up to SETTLE + 1 s, so a loaded machine does not
        lose them."""
        for agent in self.agents.values():
            # returns once the sniffer's socket is open
            agent.call(op="start")
        for who, frames in steps:
            self.agents[who].call(op="send", frames=frames)
        if arrive:
            deadline = time.monotonic() + settle + 1.0
            while time.monotonic() < deadline:
                if all(set(items) <= set(self.agents[who].call(op="peek")["seen"])
                       for who, items in arrive.items()):
                    time.sleep(GRACE)
                    break
                time.sleep(0.02)
        else:
            time.sleep(settle)
        return {who: set(agent.call(op="collect")["seen"])
                for who, agent in self.agents.items()}


# --- frames ---------------------------------------------------------------

def frame(kind, tag, **kw):
    """A frame from the VM unless told otherwise."""
    six = kind in ("udp6", "tcp6", "icmp6")
    spec = dict(kind=kind, tag=tag, src_mac=VM_MAC, dst_mac=PEER_MAC,
                src_ip=VM_IP6 if six else VM_IP, dst_ip=PEER_IP6 if six else PEER_IP)
    spec.update(kw)
    return spec


def to_vm(kind, tag, **kw):
    six = kind in ("udp6", "tcp6", "icmp6")
    spec = dict(src_mac=PEER_MAC, dst_mac=VM_MAC, src_ip=PEER_IP6 if six else PEER_IP,
                dst_ip=VM_IP6 if six else VM_IP)
    spec.update(kw)
    return frame(kind, tag, **spec)


# --- the shared case table -------------------------------------------------
# Each case: filters (name -> XML), the top filter and binding parameters,
# the exchange steps, and per receiver the tags that must arrive ("pass") and
# must not ("block"). Tags are "<tag>:0" (first frame of that tag).

def rule_filter(name, body, chain="root", priority=None):
    prio = "" if priority is None else " priority='%d'" % priority
    return "<filter name='%s' chain='%s'%s>%s</filter>" % (name, chain, prio, body)


ALLOW_REST = ""   # libvirt's default: what no rule drops passes

CASES = [
    dict(name="clean-traffic with IP: spoofed MAC/IP/ARP dropped, legit delivered",
         filters={"t-clean": rule_filter("t-clean", "<filterref filter='clean-traffic'/>")},
         top="t-clean", params={"IP": VM_IP},
         steps=[("vm", [frame("udp", "legit"), frame("udp", "smac", src_mac="52:54:00:00:00:99"),
                        frame("udp", "sip", src_ip="10.0.0.99"),
                        frame("arp", "arpok", psrc=VM_IP, pdst=PEER_IP),
                        frame("arp", "arpip", psrc="10.0.0.98", pdst=PEER_IP),
                        frame("arp", "arpmac", psrc=VM_IP, pdst=PEER_IP,
                              hwsrc="52:54:00:00:00:98"),
                        frame("udp6", "v6")]),
                ("peer", [to_vm("udp", "tovm")])],
         expect={"peer": {"pass": ["legit", "arpok"],
                          "block": ["smac", "sip", "arpip", "arpmac", "v6"]},
                 "vm": {"pass": ["tovm"]}}),
    dict(name="tcp/udp port ranges (mirrored into the to-VM direction)",
         filters={"t-ports": rule_filter("t-ports",
                  "<rule action='drop' direction='out'><udp dstportstart='6000' "
                  "dstportend='6010'/></rule>"
                  "<rule action='drop' direction='out'><tcp srcportstart='3000' "
                  "srcportend='3005'/></rule>")},
         top="t-ports", params={},
         steps=[("vm", [frame("udp", "u5999", dport=5999), frame("udp", "u6000", dport=6000),
                        frame("udp", "u6010", dport=6010), frame("udp", "u6011", dport=6011),
                        frame("tcp", "t3003", sport=3003), frame("tcp", "t3006", sport=3006)]),
                ("peer", [to_vm("udp", "rin", sport=6005), to_vm("udp", "rout", sport=7000)])],
         expect={"peer": {"pass": ["u5999", "u6011", "t3006"],
                          "block": ["u6000", "u6010", "t3003"]},
                 "vm": {"pass": ["rout"], "block": ["rin"]}}),
    dict(name="icmp type/code",
         filters={"t-icmp": rule_filter("t-icmp",
                  "<rule action='drop' direction='out'><icmp type='8' code='0'/></rule>")},
         top="t-icmp", params={},
         steps=[("vm", [frame("icmp", "echo", type=8, code=0),
                        frame("icmp", "echo1", type=8, code=1),
                        frame("icmp", "ts", type=13, code=0)])],
         expect={"peer": {"pass": ["echo1", "ts"], "block": ["echo"]}}),
    dict(name="match='no' at both layers",
         filters={"t-neg": rule_filter("t-neg",
                  "<rule action='drop' direction='out'><udp match='no' "
                  "dstipaddr='10.0.0.3'/></rule>"
                  "<rule action='drop' direction='out'><mac match='no' "
                  "srcmacaddr='52:54:00:00:00:02'/></rule>")},
         top="t-neg", params={},
         steps=[("vm", [frame("udp", "n3"), frame("udp", "n9", dst_ip="10.0.0.9"),
                        frame("udp", "nmac", src_mac="52:54:00:00:00:77")]),
                ("peer", [to_vm("udp", "f3"), to_vm("udp", "f8", src_ip="10.0.0.8")])],
         expect={"peer": {"pass": ["n3"], "block": ["n9", "nmac"]},
                 "vm": {"pass": ["f3"], "block": ["f8"]}}),
    # dstportstart takes its negation from srcportstart (spec 1.5); both
    # negated ports must differ for the rule to match (an AND)
    dict(name="match='no' on both ports means each port differs",
         filters={"t-neg2": rule_filter("t-neg2",
                  "<rule action='drop' direction='out'><tcp match='no' srcportstart='1000' "
                  "dstportstart='5000'/></rule>")},
         top="t-neg2", params={},
         steps=[("vm", [frame("tcp", "s1000", sport=1000, dport=5001),
                        frame("tcp", "d5000", sport=1001, dport=5000),
                        frame("tcp", "both", sport=1001, dport=5001)])],
         expect={"peer": {"pass": ["s1000", "d5000"], "block": ["both"]}},
         todo={"ebiptables": "iptables-nft 1.8.9 merges the two negated port matches into "
                             "one 4-byte compare, so either differing port drops"}),
    dict(name="address masks at both layers",
         filters={"t-mask": rule_filter("t-mask",
                  "<rule action='drop' direction='out'><ip dstipaddr='10.0.0.0' "
                  "dstipmask='255.255.255.252'/></rule>"
                  "<rule action='drop' direction='out'><udp dstipaddr='10.0.0.8' "
                  "dstipmask='29'/></rule>"
                  "<rule action='drop' direction='out'><mac dstmacaddr='02:00:00:00:00:00' "
                  "dstmacmask='ff:ff:00:00:00:00' protocolid='ipv4'/></rule>")},
         top="t-mask", params={},
         steps=[("vm", [frame("udp", "d3"), frame("udp", "d5", dst_ip="10.0.0.5"),
                        frame("udp", "d9", dst_ip="10.0.0.9"),
                        frame("udp", "d16", dst_ip="10.0.0.16"),
                        frame("udp", "macm", dst_ip="10.0.0.16", dst_mac="02:00:12:34:56:78")])],
         expect={"peer": {"pass": ["d5", "d16"], "block": ["d3", "d9", "macm"]}}),
    dict(name="list variables: parallel pairs and iterator products",
         filters={"t-iter": rule_filter("t-iter",
                  "<rule action='accept' direction='out'><udp dstipaddr='$DST[@1]' "
                  "dstportstart='$PORT[@2]'/></rule>"
                  "<rule action='accept' direction='out'><udp dstipaddr='$PD' "
                  "dstportstart='$PP'/></rule>"
                  "<rule action='drop' direction='out' priority='900'><udp/></rule>")},
         top="t-iter", params={"DST": ["10.0.0.3", "10.0.0.5"], "PORT": ["7001", "7002"],
                               "PD": ["10.0.0.6", "10.0.0.7"], "PP": ["7101", "7102"]},
         steps=[("vm", [frame("udp", "a31", dport=7001), frame("udp", "a32", dport=7002),
                        frame("udp", "a51", dst_ip="10.0.0.5", dport=7001),
                        frame("udp", "a52", dst_ip="10.0.0.5", dport=7002),
                        frame("udp", "a33", dport=7003),
                        frame("udp", "p61", dst_ip="10.0.0.6", dport=7101),
                        frame("udp", "p72", dst_ip="10.0.0.7", dport=7102),
                        frame("udp", "p62", dst_ip="10.0.0.6", dport=7102)])],
         expect={"peer": {"pass": ["a31", "a32", "a51", "a52", "p61", "p72"],
                          "block": ["a33", "p62"]}}),
    dict(name="state: outgoing TCP to port 80 and its replies only",
         filters={"t-state": rule_filter("t-state",
                  "<rule action='accept' direction='out'><tcp dstportstart='80'/></rule>"
                  "<rule action='drop' direction='inout' priority='1000'><all/></rule>")},
         top="t-state", params={},
         # 10.0.0.50 is nobody's address, so no kernel answers with a RST
         steps=[("vm", [frame("tcp", "syn", dst_ip=FAR_IP, sport=40000, dport=80, flags="S")]),
                ("peer", [to_vm("tcp", "synack", src_ip=FAR_IP, sport=80, dport=40000,
                                flags="SA", ack=101, seq=1000),
                          to_vm("tcp", "stray", src_ip=FAR_IP, sport=80, dport=40001,
                                flags="SA", ack=1),
                          to_vm("tcp", "in22", src_ip=FAR_IP, sport=40002, dport=22,
                                flags="S")]),
                ("vm", [frame("tcp", "syn81", dst_ip=FAR_IP, sport=40003, dport=81,
                              flags="S")])],
         expect={"peer": {"pass": ["syn"], "block": ["syn81"]},
                 "vm": {"pass": ["synack"], "block": ["stray", "in22"]}}),
    dict(name="explicit state: NEW inbound UDP dropped, replies pass",
         filters={"t-state2": rule_filter("t-state2",
                  "<rule action='drop' direction='in'><udp state='NEW'/></rule>")},
         top="t-state2", params={},
         steps=[("vm", [frame("udp", "out1", dst_ip=FAR_IP, sport=4500, dport=4600)]),
                ("peer", [to_vm("udp", "reply1", src_ip=FAR_IP, sport=4600, dport=4500),
                          to_vm("udp", "new1", src_ip=FAR_IP, sport=4700, dport=4800)])],
         expect={"peer": {"pass": ["out1"]}, "vm": {"pass": ["reply1"], "block": ["new1"]}}),
    dict(name="ipv6 protocols at both layers",
         filters={"t-v6": rule_filter("t-v6",
                  "<rule action='drop' direction='out'><udp-ipv6 dstportstart='6000'/></rule>"
                  "<rule action='drop' direction='out'><icmpv6 type='128'/></rule>"
                  "<rule action='drop' direction='out'><ipv6 dstipaddr='fd00::100' "
                  "dstipmask='120'/></rule>")},
         top="t-v6", params={},
         steps=[("vm", [frame("udp6", "v6000", dport=6000), frame("udp6", "v6001", dport=6001),
                        frame("icmp6", "echo6", type=128), frame("icmp6", "other6", type=130),
                        frame("udp6", "net6", dst_ip="fd00::1ff")])],
         expect={"peer": {"pass": ["v6001", "other6"], "block": ["v6000", "echo6", "net6"]}}),
    dict(name="arp opcode",
         filters={"t-arp": rule_filter("t-arp",
                  "<rule action='drop' direction='out'><arp opcode='Reply'/></rule>")},
         top="t-arp", params={},
         steps=[("vm", [frame("arp", "req", psrc=VM_IP, pdst=PEER_IP, op=1),
                        frame("arp", "rep", psrc=VM_IP, pdst=PEER_IP, op=2)])],
         expect={"peer": {"pass": ["req"], "block": ["rep"]}}),
    dict(name="custom chains with priorities around a root rule",
         filters={"t-chain": rule_filter("t-chain",
                  "<filterref filter='t-chain-early'/><filterref filter='t-chain-late'/>"
                  "<rule action='accept' direction='out' priority='-700'><ip/></rule>"),
                  "t-chain-early": rule_filter("t-chain-early",
                  "<rule action='drop' direction='out'><ip protocol='udp' "
                  "dstportstart='5555'/></rule>", chain="ipv4-early", priority=-800),
                  "t-chain-late": rule_filter("t-chain-late",
                  "<rule action='drop' direction='out'><ip protocol='udp' "
                  "dstportstart='5556'/></rule>", chain="ipv4-late", priority=-600)},
         top="t-chain", params={},
         steps=[("vm", [frame("udp", "c5555", dport=5555), frame("udp", "c5556", dport=5556)])],
         expect={"peer": {"pass": ["c5556"], "block": ["c5555"]}}),
    dict(name="three-level filterref tree with parameter defaults and overrides",
         filters={"t-top": rule_filter("t-top", "<filterref filter='t-mid'><parameter "
                                       "name='Q' value='6102'/></filterref>"),
                  "t-mid": rule_filter("t-mid", "<filterref filter='t-leaf'><parameter "
                                       "name='P' value='6101'/></filterref>"),
                  "t-leaf": rule_filter("t-leaf",
                  "<rule action='drop' direction='out'><udp dstportstart='$P'/></rule>"
                  "<rule action='drop' direction='out'><udp dstportstart='$Q'/></rule>")},
         top="t-top", params={"P": "6201"},
         steps=[("vm", [frame("udp", "p6101", dport=6101), frame("udp", "p6201", dport=6201),
                        frame("udp", "q6102", dport=6102)])],
         expect={"peer": {"pass": ["p6101"], "block": ["p6201", "q6102"]}}),
    dict(name="reject answers with ICMP port unreachable; ethernet reject drops",
         filters={"t-rej": rule_filter("t-rej",
                  "<rule action='reject' direction='out'><tcp dstportstart='81'/></rule>"
                  "<rule action='reject' direction='out'><ip protocol='udp' "
                  "dstportstart='82'/></rule>")},
         top="t-rej", params={},
         steps=[("vm", [frame("tcp", "rej81", sport=41000, dport=81, flags="S"),
                        frame("udp", "rej82", dport=82)])],
         expect={"peer": {"block": ["rej81", "rej82"]},
                 "vm": {"pass": ["unreach:rej81"], "block": ["unreach:rej82"]}}),
    dict(name="traffic to the host goes through the host-in chain",
         filters={"t-host": rule_filter("t-host",
                  "<rule action='drop' direction='out'><udp dstportstart='7777'/></rule>")},
         top="t-host", params={},
         steps=[("vm", [frame("udp", "h7777", dst_mac=HOST_MAC, dst_ip=HOST_IP, dport=7777),
                        frame("udp", "h7778", dst_mac=HOST_MAC, dst_ip=HOST_IP, dport=7778)])],
         expect={"host": {"pass": ["h7778"], "block": ["h7777"]}}),
    dict(name="allow-dhcp sub-chain returns to the root's drop (no fail-open)",
         filters={"t-dhcp": rule_filter("t-dhcp", "<filterref filter='allow-dhcp'/>"
                                        "<rule action='drop' direction='inout' "
                                        "priority='1000'/>")},
         top="t-dhcp", params={},
         steps=[("vm", [frame("udp", "dhcp", src_ip="0.0.0.0", dst_ip="255.255.255.255",
                              dst_mac="ff:ff:ff:ff:ff:ff", sport=68, dport=67),
                        frame("udp", "other4")]),
                ("peer", [to_vm("udp", "server", sport=67, dport=68),
                          to_vm("udp", "rogue4")])],
         expect={"peer": {"pass": ["dhcp"], "block": ["other4"]},
                 "vm": {"pass": ["server"], "block": ["rogue4"]}}),
    dict(name="no-mac-broadcast drops IPv4 broadcast only",
         filters={"t-bcast": rule_filter("t-bcast", "<filterref filter='no-mac-broadcast'/>")},
         top="t-bcast", params={},
         steps=[("vm", [frame("udp", "b4", dst_mac="ff:ff:ff:ff:ff:ff"),
                        frame("arp", "barp", psrc=VM_IP, pdst=PEER_IP),
                        frame("udp6", "b6", dst_mac="ff:ff:ff:ff:ff:ff"),
                        frame("udp", "u4")])],
         expect={"peer": {"pass": ["barp", "b6", "u4"], "block": ["b4"]}}),
    dict(name="two layers: an ethernet accept does not override an IP-layer drop",
         filters={"t-layers": rule_filter("t-layers",
                  "<rule action='accept' direction='out' priority='-900'><ip/></rule>"
                  "<rule action='drop' direction='out'><udp dstportstart='6300'/></rule>")},
         top="t-layers", params={},
         steps=[("vm", [frame("udp", "l6300", dport=6300), frame("udp", "l6301", dport=6301)])],
         expect={"peer": {"pass": ["l6301"], "block": ["l6300"]}}),
    dict(name="ICMP replies are not derived from an accepted request type",
         filters={"t-icmpreply": rule_filter("t-icmpreply",
                  "<rule action='accept' direction='in'><icmp type='8'/></rule>"
                  "<rule action='drop' direction='inout' priority='1000'><all/></rule>")},
         top="t-icmpreply", params={},
         steps=[("peer", [to_vm("icmp", "req8", type=8)]),
                ("vm", [frame("icmp", "rep0", type=0)])],
         expect={"vm": {"pass": ["req8"]}, "peer": {"block": ["rep0"]}}),
    dict(name="stock no-ip-multicast and no-ipv6-multicast",
         filters={"t-mcast": rule_filter("t-mcast", "<filterref filter='no-ip-multicast'/>"
                                         "<filterref filter='no-ipv6-multicast'/>")},
         top="t-mcast", params={},
         steps=[("vm", [frame("udp", "m4", dst_ip="224.0.0.5", dst_mac="01:00:5e:00:00:05"),
                        frame("udp", "u4"),
                        frame("udp6", "m6", dst_ip="ff02::1", dst_mac="33:33:00:00:00:01"),
                        frame("udp6", "u6")])],
         expect={"peer": {"pass": ["u4", "u6"], "block": ["m4", "m6"]}}),
    dict(name="stock allow-arp, allow-ipv4, allow-ipv6 before a drop of the rest",
         filters={"t-allow": rule_filter("t-allow", "<filterref filter='allow-arp'/>"
                                         "<filterref filter='allow-ipv4'/>"
                                         "<filterref filter='allow-ipv6'/>"
                                         "<filterref filter='no-other-l2-traffic'/>")},
         top="t-allow", params={},
         steps=[("vm", [frame("arp", "a", psrc=VM_IP, pdst=PEER_IP), frame("udp", "v4"),
                        frame("udp6", "v6"), frame("ether", "other", ethertype=0x88b5)]),
                ("peer", [to_vm("udp", "in4"), to_vm("ether", "inother", ethertype=0x88b5)])],
         expect={"peer": {"pass": ["a", "v4", "v6"], "block": ["other"]},
                 "vm": {"pass": ["in4"], "block": ["inother"]}}),
    dict(name="stock allow-incoming-ipv4: in only",
         filters={"t-inc": rule_filter("t-inc", "<filterref filter='allow-incoming-ipv4'/>"
                                       "<filterref filter='no-other-l2-traffic'/>")},
         top="t-inc", params={},
         steps=[("vm", [frame("udp", "out4")]), ("peer", [to_vm("udp", "in4")])],
         expect={"peer": {"block": ["out4"]}, "vm": {"pass": ["in4"]}}),
    dict(name="stock no-ipv6-spoofing with IPV6",
         filters={"t-v6spoof": rule_filter("t-v6spoof", "<filterref filter='no-ipv6-spoofing'/>")},
         top="t-v6spoof", params={"IPV6": VM_IP6},
         steps=[("vm", [frame("udp6", "own"), frame("udp6", "spoof", src_ip="fd00::99"),
                        frame("udp6", "ll", src_ip="fe80::1")])],
         expect={"peer": {"pass": ["own", "ll"], "block": ["spoof"]}}),
    dict(name="stock allow-dhcp-server with DHCPSERVER",
         filters={"t-dhcps": rule_filter("t-dhcps", "<filterref filter='allow-dhcp-server'/>"
                                         "<rule action='drop' direction='inout' "
                                         "priority='1000'/>")},
         top="t-dhcps", params={"DHCPSERVER": PEER_IP},
         steps=[("vm", [frame("udp", "disc", src_ip="0.0.0.0", dst_ip="255.255.255.255",
                              dst_mac="ff:ff:ff:ff:ff:ff", sport=68, dport=67)]),
                ("peer", [to_vm("udp", "offer", sport=67, dport=68),
                          to_vm("udp", "rogue", src_ip="10.0.0.9", sport=67, dport=68)])],
         expect={"peer": {"pass": ["disc"]}, "vm": {"pass": ["offer"], "block": ["rogue"]}}),
    dict(name="stock clean-traffic-gateway with GATEWAY_MAC",
         filters={"t-gw": rule_filter("t-gw", "<filterref filter='clean-traffic-gateway'/>")},
         top="t-gw", params={"IP": VM_IP, "GATEWAY_MAC": PEER_MAC},
         steps=[("vm", [frame("udp", "togw"),
                        frame("udp", "toother", dst_mac="02:00:00:00:00:77")]),
                ("peer", [to_vm("udp", "fromgw")])],
         expect={"peer": {"pass": ["togw"], "block": ["toother"]}, "vm": {"pass": ["fromgw"]}}),
    dict(name="statematch='false' lets an unsolicited reply out",
         filters={"t-nostate": rule_filter("t-nostate",
                  "<rule action='accept' direction='in' statematch='false'><tcp "
                  "dstportstart='22'/></rule>"
                  "<rule action='drop' direction='inout' priority='1000'><all/></rule>")},
         top="t-nostate", params={},
         steps=[("vm", [frame("tcp", "synack22", sport=22, dport=45000, flags="SA", ack=1),
                        frame("tcp", "syn23", sport=45001, dport=23, flags="S")])],
         expect={"peer": {"pass": ["synack22"], "block": ["syn23"]}}),
]


def run_cases(bed, backend, tap, cases=CASES):
    for case in cases:
        bed.write_filters(case["filters"])
        proc = bed.apply(backend, case["top"], case["params"], expect_ok=False)
        if proc.returncode != 0:
            tap.ok(False, "%s: %s" % (backend, case["name"]), proc.stderr)
            continue
        bed.flush_conntrack()
        seen = bed.exchange(case["steps"], arrive={
            who: [tag + ":0" for tag in want.get("pass", [])]
            for who, want in case["expect"].items() if want.get("pass")})
        problems = []
        for who, want in case["expect"].items():
            for tag in want.get("pass", []):
                if tag + ":0" not in seen[who]:
                    problems.append("%s did not receive %s" % (who, tag))
            for tag in want.get("block", []):
                if tag + ":0" in seen[who]:
                    problems.append("%s received %s" % (who, tag))
        tap.ok(not problems, "%s: %s" % (backend, case["name"]),
               "\n".join(problems) + "\nseen: %r" % seen,
               todo=case.get("todo", {}).get(backend))


# --- the agent (runs inside a namespace) --------------------------------------

def agent_main(iface):
    import re
    import socket
    import threading
    from scapy.all import (ARP, ICMP, IP, TCP, UDP, AsyncSniffer, Ether, ICMPv6EchoRequest,
                           ICMPv6DestUnreach, IPerror, IPv6, Raw, conf)
    from scapy.layers.inet6 import ICMPv6Unknown
    conf.verb = 0
    tag_re = re.compile(rb"NWF:([A-Za-z0-9_.-]+):(\d+)")
    state = {"sniffer": None, "seen": [], "lock": threading.Lock()}

    def build(spec, n):
        load = Raw(("NWF:%s:%d" % (spec["tag"], n)).encode())
        eth = Ether(src=spec["src_mac"], dst=spec["dst_mac"])
        kind = spec["kind"]
        if kind == "ether":
            return Ether(src=spec["src_mac"], dst=spec["dst_mac"], type=spec["ethertype"]) / load
        if kind == "arp":
            return eth / ARP(op=spec.get("op", 1), hwsrc=spec.get("hwsrc", spec["src_mac"]),
                             psrc=spec["psrc"], pdst=spec["pdst"]) / load
        if kind in ("udp6", "tcp6", "icmp6"):
            l3 = IPv6(src=spec["src_ip"], dst=spec["dst_ip"])
        else:
            l3 = IP(src=spec["src_ip"], dst=spec["dst_ip"])
        if kind in ("udp", "udp6"):
            l4 = UDP(sport=spec.get("sport", 4000), dport=spec.get("dport", 5000))
        elif kind in ("tcp", "tcp6"):
            l4 = TCP(sport=spec.get("sport", 4000), dport=spec.get("dport", 5000),
                     flags=spec.get("flags", "S"), seq=spec.get("seq", 100),
                     ack=spec.get("ack", 0))
        elif kind == "icmp":
            l4 = ICMP(type=spec.get("type", 8), code=spec.get("code", 0))
        else:
            l4 = ICMPv6Unknown(type=spec.get("type", 128), code=spec.get("code", 0)) \
                if spec.get("type", 128) != 128 else ICMPv6EchoRequest()
        return eth / l3 / l4 / load

    def describe(pkt):
        m = tag_re.search(bytes(pkt))
        if not m:
            return None
        item = "%s:%s" % (m.group(1).decode(), m.group(2).decode())
        if (ICMP in pkt and pkt[ICMP].type == 3 and IPerror in pkt) or ICMPv6DestUnreach in pkt:
            return "unreach:" + item
        return item

    def keep(pkt):
        item = describe(pkt)
        if item:
            with state["lock"]:
                state["seen"].append(item)

    def listen(port, family):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
        while True:
            data = sock.recv(4096)
            m = tag_re.search(data)
            if m:
                with state["lock"]:
                    state["seen"].append("%s:%s" % (m.group(1).decode(), m.group(2).decode()))

    stream = {"thread": None, "stop": False, "sent": {}}
    sockets = {}

    def sendp(pkt, iface):
        if iface not in sockets:
            sockets[iface] = conf.L2socket(iface=iface)
        sockets[iface].send(pkt)

    def streamer(specs, gap):
        n = 0
        frames = [(s, None) for s in specs]
        while not stream["stop"]:
            for spec, _ in frames:
                sendp(build(spec, n), iface=iface)
                stream["sent"][spec["tag"]] = n + 1
            n += 1
            time.sleep(gap)

    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            reply = {}
            op = cmd["op"]
            if op == "start":
                with state["lock"]:
                    state["seen"] = []
                if iface:
                    ready = threading.Event()
                    state["sniffer"] = AsyncSniffer(iface=iface, prn=keep, store=False,
                                                    started_callback=ready.set)
                    state["sniffer"].start()
                    ready.wait(10)
            elif op == "send":
                for spec in cmd["frames"]:
                    for n in range(spec.get("count", 1)):
                        sendp(build(spec, n), iface=iface)
            elif op == "peek":
                with state["lock"]:
                    reply["seen"] = list(state["seen"])
            elif op == "collect":
                if state["sniffer"]:
                    state["sniffer"].stop()
                    state["sniffer"] = None
                with state["lock"]:
                    reply["seen"] = state["seen"]
                    state["seen"] = []
            elif op == "listen":
                for port in cmd["ports"]:
                    for family in (socket.AF_INET, socket.AF_INET6):
                        threading.Thread(target=listen, args=(port, family), daemon=True).start()
            elif op == "stream_start":
                stream["stop"] = False
                stream["sent"] = {}
                stream["thread"] = threading.Thread(target=streamer,
                                                    args=(cmd["frames"], cmd["gap"]), daemon=True)
                stream["thread"].start()
            elif op == "stream_stop":
                stream["stop"] = True
                stream["thread"].join()
                reply["sent"] = stream["sent"]
            else:
                raise ValueError("unknown op " + op)
        except Exception as exc:  # reported to the driving test
            reply = {"error": repr(exc)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__" and len(sys.argv) >= 2 and sys.argv[1] == "agent":
    agent_main(sys.argv[2] if len(sys.argv) > 2 else "")
