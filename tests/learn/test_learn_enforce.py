#!/usr/bin/python3
"""End to end: the driver with IP address learning on a real backend
(learn-driver-probe, no RPC), bindings on a bridge port in test
namespaces, and traffic from the "VM" namespace counted at the server
namespace. Checks that a port runs learning-phase rules first, that the
learned address is enforced (a spoofed source is dropped), and that a
driver restart keeps enforcing from the lease file.

Needs root. Prints TAP; without root outside CI every case is skipped,
under CI=true a missing capability fails."""
import glob
import os
import shutil
import subprocess
import sys
import time

from netns_harness import (HERE, MAC_SRV, MAC_VM1, NS_BR, NS_SRV, NS_VM1, Probe,
                           delivered as delivered_from, peer, run_cases, sh)

OWNER = "5b1c7a0e-3f7d-4c55-8a2e-00000000c0de"
# The backend: the first argument (nftables or ebiptables), default nftables.
BACKEND = sys.argv[1] if len(sys.argv) > 1 else "nftables"


def stock_dir():
    root = os.environ.get("NWF_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
    return os.path.join(root, "src", "nwfilter", "xml")


class Driver:
    """learn-driver-probe with a config dir of stock filters, restartable."""

    def __init__(self, work, filt, params, extra_filters=()):
        self.dirs = {n: os.path.join(work, n) for n in ("config", "state", "leases")}
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        for f in glob.glob(os.path.join(stock_dir(), "*.xml")):
            shutil.copy(f, self.dirs["config"])
        for name, xml in extra_filters:
            with open(os.path.join(self.dirs["config"], name + ".xml"), "w") as fh:
                fh.write(xml)
        self.binding = os.path.join(work, "binding.xml")
        plist = "".join(f"<parameter name='{k}' value='{v}'/>" for k, v in params)
        with open(self.binding, "w") as fh:
            fh.write(f"<filterbinding><owner><name>vm1</name><uuid>{OWNER}</uuid></owner>"
                     f"<portdev name='vnet1'/><mac address='{MAC_VM1}'/>"
                     f"<filterref filter='{filt}'>{plist}</filterref></filterbinding>")
        self.probe = None

    def start(self):
        self.probe = Probe("--config-dir", self.dirs["config"], "--state-dir", self.dirs["state"],
                           "--lease-dir", self.dirs["leases"], "--backend", BACKEND,
                           "--binding", self.binding, program="learn-driver-probe")

    def stop(self):
        if self.probe:
            self.probe.stop()
            self.probe = None


class Daemon(Driver):
    """nwfilterd itself on the same directories; the binding is created
    with virsh over its socket, as libvirt's QEMU driver would."""

    def start(self):
        build = os.environ.get("NWF_BUILD_ROOT", os.path.join(HERE, "..", ".."))
        sock_dir = os.path.join(os.path.dirname(self.binding), "run")
        self.uri = "nwfilter:///system?socket=" + os.path.join(sock_dir, "virtnwfilterd-sock")
        self.log = open(os.path.join(os.path.dirname(self.binding), "nwfilterd.log"), "a")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_BR, os.path.join(build, "src", "daemon", "nwfilterd"),
             "--socket-dir", sock_dir, "--config-dir", self.dirs["config"],
             "--state-dir", self.dirs["state"], "--backend", BACKEND],
            stdout=self.log, stderr=self.log)
        sock = os.path.join(sock_dir, "virtnwfilterd-sock")
        for _ in range(500):
            if os.path.exists(sock):
                break
            time.sleep(0.02)
        else:
            raise RuntimeError("nwfilterd did not create its socket")

    def virsh(self, *args):
        return subprocess.run(["virsh", "-c", self.uri] + list(args), capture_output=True,
                              text=True, timeout=60)

    def lease_file(self):
        return os.path.join(os.path.dirname(self.dirs["state"]), "network", "nwfilter.leases")

    def stop(self):
        if getattr(self, "proc", None):
            self.proc.terminate()
            rc = self.proc.wait(15)
            self.proc = None
            self.log.close()
            if rc != 0:
                raise RuntimeError(f"nwfilterd exited with {rc}")


def ruleset():
    return sh("nft", "list", "ruleset", ns=NS_BR).stdout


def wait_rules(text, timeout=6):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in ruleset():
            return True
        time.sleep(0.05)
    return False


def delivered(sources, src_mac=None):
    """The sources (of SOURCES, sent by VM1 to the server, from SRC_MAC when
    given) the server saw."""
    return set(delivered_from(NS_VM1, NS_SRV, sources, src_mac=src_mac))


def case_any(work):
    problems = []
    drv = Driver(work, "clean-traffic", [("CTRL_IP_LEARNING", "any")])
    try:
        drv.start()
        # Learning-phase rules, not an open port: a foreign source MAC is
        # dropped before anything is learned.
        seen = delivered(["10.0.0.7"], src_mac="52:54:00:66:66:66")
        if seen:
            problems.append(f"before learning, a spoofed MAC passed: {sorted(seen)}")
        peer(NS_VM1).send_ip(["10.0.0.5"], dst_mac=MAC_SRV)
        if not wait_rules("10.0.0.5"):
            problems.append("the rules never got the learned 10.0.0.5")
        seen = delivered(["10.0.0.5", "10.0.0.6"])
        if seen != {"10.0.0.5"}:
            problems.append(f"after learning, the server saw {sorted(seen)} (want only 10.0.0.5)")

        # A restart re-applies from the state dir and the lease file: the
        # port keeps its learned address, not the learning-phase rules.
        drv.stop()
        drv.start()
        if "10.0.0.5" not in ruleset():
            problems.append("after a restart the learned address is not in the rules")
        seen = delivered(["10.0.0.5", "10.0.0.6"])
        if seen != {"10.0.0.5"}:
            problems.append(f"after a restart, the server saw {sorted(seen)}")
    finally:
        drv.stop()
    return problems


def case_dhcp(work):
    problems = []
    server = peer(NS_SRV).dhcp_server("10.0.0.1", ["10.0.0.50"])
    drv = Driver(work, "clean-traffic", [("CTRL_IP_LEARNING", "dhcp"), ("DHCPSERVER", "10.0.0.1")])
    try:
        drv.start()
        seen = delivered(["10.0.0.50"])
        if seen:
            problems.append(f"before any lease, non-DHCP traffic passed: {sorted(seen)}")
        r = peer(NS_VM1).dora("10.0.0.1")
        if r != "leased 10.0.0.50":
            problems.append(f"the DHCP exchange failed through the learning rules: {r}")
        if not wait_rules("10.0.0.50"):
            problems.append("the rules never got the leased 10.0.0.50")
        seen = delivered(["10.0.0.50", "10.0.0.51"])
        if seen != {"10.0.0.50"}:
            problems.append(f"after the lease, the server saw {sorted(seen)} (want only 10.0.0.50)")
    finally:
        drv.stop()
        problems += server.stop()
    return problems


def case_ipv6(work):
    problems = []
    drv = Driver(work, "no-ipv6-spoofing", [])
    try:
        drv.start()
        seen = delivered(["2001:db8::99"])
        if seen:
            problems.append(f"before learning, IPv6 data passed: {sorted(seen)}")
        sh("ip", "-6", "addr", "add", "2001:db8::5/64", "dev", "eth0", ns=NS_VM1)
        if not wait_rules("2001:db8::5", timeout=8):
            problems.append("the DAD-completed 2001:db8::5 never reached the rules")
        peer(NS_SRV).dhcp6_reply("2001:db8::100", "fe80::a", MAC_VM1)
        if not wait_rules("2001:db8::100"):
            problems.append("the DHCPv6-leased 2001:db8::100 never reached the rules")
        seen = delivered(["2001:db8::5", "2001:db8::100", "2001:db8::99"])
        if seen != {"2001:db8::5", "2001:db8::100"}:
            problems.append(f"after learning, the server saw {sorted(seen)} "
                            "(want 2001:db8::5 and 2001:db8::100 only)")
    finally:
        drv.stop()
    return problems


BOTH = ("t-both", "<filter name='t-both' chain='root'><filterref filter='no-ip-spoofing'/>"
        "<filterref filter='no-ipv6-spoofing'/></filter>")


def case_both(work):
    """A tree that needs IP and IPV6: once IPv4 is known the full filter runs
    with :: standing in for IPV6, so only DAD gets through for IPv6 until an
    address is learned."""
    problems = []
    drv = Driver(work, "t-both", [], extra_filters=[BOTH])
    try:
        drv.start()
        peer(NS_VM1).send_ip(["10.0.0.5"], dst_mac=MAC_SRV)
        if not wait_rules("10.0.0.5"):
            problems.append("the rules never got the learned 10.0.0.5")
        seen = delivered(["10.0.0.5", "10.0.0.6"])
        if seen != {"10.0.0.5"}:
            problems.append(f"IPv4 learned, the server saw {sorted(seen)} (want only 10.0.0.5)")
        seen = delivered(["2001:db8::99"])
        if seen:
            problems.append(f"IPv6 not learned yet, yet IPv6 data passed: {sorted(seen)}")
        sh("ip", "-6", "addr", "add", "2001:db8::5/64", "dev", "eth0", ns=NS_VM1)
        if not wait_rules("2001:db8::5", timeout=8):
            problems.append("the DAD-completed 2001:db8::5 never reached the rules")
        seen = delivered(["2001:db8::5", "2001:db8::99"])
        if seen != {"2001:db8::5"}:
            problems.append(f"IPv6 learned, the server saw {sorted(seen)} (want only 2001:db8::5)")
        seen = delivered(["10.0.0.5", "10.0.0.6"])
        if seen != {"10.0.0.5"}:
            problems.append(f"after IPv6 learning, IPv4 saw {sorted(seen)}")
    finally:
        drv.stop()
    return problems


def case_daemon(work):
    problems = []
    drv = Daemon(work, "clean-traffic", [])
    try:
        drv.start()
        r = drv.virsh("nwfilter-binding-create", drv.binding)
        if r.returncode != 0:
            return [f"virsh nwfilter-binding-create failed: {r.stdout} {r.stderr}"]
        seen = delivered(["10.0.0.7"], src_mac="52:54:00:66:66:66")
        if seen:
            problems.append(f"before learning, a spoofed MAC passed: {sorted(seen)}")
        peer(NS_VM1).send_ip(["10.0.0.5"], dst_mac=MAC_SRV)
        if not wait_rules("10.0.0.5"):
            problems.append("nwfilterd never put the learned 10.0.0.5 into the rules")
        seen = delivered(["10.0.0.5", "10.0.0.6"])
        if seen != {"10.0.0.5"}:
            problems.append(f"after learning, the server saw {sorted(seen)} (want only 10.0.0.5)")
        if not os.path.exists(drv.lease_file()):
            problems.append("nwfilterd wrote no lease file beside its state dir")
        # The binding as libvirt sees it is unchanged (learned addresses do
        # not show, as in libvirt).
        xml = drv.virsh("nwfilter-binding-dumpxml", "vnet1").stdout
        if "10.0.0.5" in xml:
            problems.append("the learned address shows in the binding XML")
        r = drv.virsh("nwfilter-binding-delete", "vnet1")
        if r.returncode != 0 or "10.0.0.5" in ruleset():
            problems.append(f"binding delete left rules or failed: {r.stderr}")
        with open(drv.lease_file()) as fh:
            if "10.0.0.5" in fh.read():
                problems.append("the address learned from traffic survived the binding delete")
    finally:
        try:
            drv.stop()
        except RuntimeError as e:
            problems.append(str(e))
    return problems


CASES = [(f"{BACKEND}: any: learning rules, then 10.0.0.5 enforced, spoofed 10.0.0.6 dropped, "
          "kept over a restart", case_any),
         (f"{BACKEND}: dhcp: only DHCP before the lease, then the leased address enforced", case_dhcp),
         (f"{BACKEND}: ipv6: DAD-completed and DHCPv6 addresses enforced, others dropped", case_ipv6),
         (f"{BACKEND}: IP and IPV6 both needed: IPv4 enforced first, IPv6 joins after DAD",
          case_both),
         (f"{BACKEND}: nwfilterd + virsh: binding without IP learns 10.0.0.5, spoofing dropped",
          case_daemon)]

if __name__ == "__main__":
    sys.exit(run_cases(CASES, only=sys.argv[2:]))
