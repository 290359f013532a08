#!/usr/bin/env python3
"""nwfilterd next to a real firewalld (Debian's package, its iptables
backend, which flushes every iptables/ebtables table on start, reload and
stop) in private network namespaces, with a private D-Bus system bus.

Usage: test_firewalld.py BACKEND (ebiptables or nftables).

Two VM ports (vnet0, vnet1) on a bridge get bindings through python3-libvirt
against nwfilterd. After firewall-cmd --reload, a firewalld stop, a start
and a restart: `nwfilter status` reports every binding present within 1 s,
and scapy probes show the filters enforced (a spoofed source and TCP port
2323 dropped, legitimate UDP delivered). For the nftables backend a probe
stream runs through every event: no probe that must be dropped may arrive,
ever, and nwfilterd must find nothing to repair. External flushes are
reported as drift by `nwfilter status` and repaired on the next firewalld
signal and on a daemon restart.

firewalld runs as `ip netns exec NS unshare -m`: its own mount namespace
with a tmpfs on /run and a private /etc/firewalld (firewalld.conf written
here, the rest from the package's /usr/lib/firewalld), so it never reads or
writes the host's configuration or pid files, and its rules live in NS."""

import os
import datetime
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import nwf_netns as nn  # noqa: E402
from nwfd_harness import STOCK, Daemon  # noqa: E402

BACKEND = sys.argv[1] if len(sys.argv) > 1 else "ebiptables"
WHO = "firewalld-" + ("eb" if BACKEND == "ebiptables" else "nft")

TOP = """<filter name='fw-test' chain='root'>
  <filterref filter='clean-traffic'/>
  <rule action='drop' direction='out' priority='500'>
    <tcp dstportstart='2323'/>
  </rule>
</filter>
"""

BINDING = """<filterbinding>
  <owner><name>%(vm)s</name><uuid>%(uuid)s</uuid></owner>
  <portdev name='%(port)s'/>
  <mac address='%(mac)s'/>
  <filterref filter='fw-test'><parameter name='IP' value='%(ip)s'/></filterref>
</filterbinding>
"""

PORTS = (
    dict(vm="vm0", uuid="0b7f3c55-6f1c-4b0e-9d36-3a4a1c0f0e01", port="vnet0",
         mac=nn.VM_MAC, ip=nn.VM_IP),
    dict(vm="vm1", uuid="0b7f3c55-6f1c-4b0e-9d36-3a4a1c0f0e02", port="vnet1",
         mac=nn.PEER_MAC, ip=nn.PEER_IP),
)

FIREWALLD_CONF = """DefaultZone=trusted
CleanupOnExit=yes
CleanupModulesOnExit=no
Lockdown=no
IPv6_rpfilter=yes
IndividualCalls=no
LogDenied=off
FirewallBackend=iptables
FlushAllOnReload=yes
"""

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

# the ones that must always be dropped, and the one that must pass
MUST_DROP = [nn.frame("udp", "spoof", src_ip="10.0.0.77"),
             nn.frame("tcp", "telnet2323", dport=2323)]
MUST_PASS = [nn.frame("udp", "legit")]


class Ns:
    """What Daemon needs of a namespace (the bed's bridge namespace)."""

    def __init__(self, name):
        self.name = name


class Firewalld:
    def __init__(self, ns, tmp, env):
        self.ns, self.env = ns, env
        self.etc = os.path.join(tmp, "firewalld-etc")
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "firewalld.conf"), "w") as f:
            f.write(FIREWALLD_CONF)
        self.log_path = os.path.join(tmp, "firewalld.log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        script = ('mount -t tmpfs tmpfs /run && mount --bind "$1" /etc/firewalld && '
                  'exec firewalld --nofork --nopid --log-target console --system-config "$1"')
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "unshare", "-m", "--propagation", "private",
             "sh", "-c", script, "sh", self.etc], env=self.env, stdout=log,
            stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("firewalld exited: " + open(self.log_path).read())
            if self.cmd("--state", check=False).stdout.strip() == "running":
                return time.monotonic()
            time.sleep(0.1)
        raise RuntimeError("firewalld did not start: " + open(self.log_path).read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        return time.monotonic()

    def cmd(self, *args, check=True):
        proc = subprocess.run(["ip", "netns", "exec", self.ns, "firewall-cmd"] + list(args),
                              env=self.env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise RuntimeError("firewall-cmd %s: %s" % (" ".join(args), proc.stderr))
        return proc


def status(bed, d):
    return bed.nwfilter("status", "--backend", BACKEND, "--state-dir", d.state_dir,
                        "--config-dir", d.config_dir, expect_ok=False)


def wait_present(bed, d, since, limit=5.0):
    """Seconds from SINCE until `nwfilter status` says all present."""
    while True:
        proc = status(bed, d)
        now = time.monotonic()
        if proc.returncode == 0:
            return now - since, proc.stdout
        if now - since > limit:
            return None, proc.stdout + proc.stderr
        time.sleep(0.02)


def enforced(bed):
    """(ok, detail): the must-drop probes are dropped, the legit one passes."""
    seen = bed.exchange([("vm", MUST_DROP + MUST_PASS)])["peer"]
    leaked = [f["tag"] for f in MUST_DROP if f["tag"] + ":0" in seen]
    ok = "legit:0" in seen and not leaked
    return ok, "peer saw %s; leaked %s" % (sorted(seen), leaked)


REPAIR_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\+0000: \d+: info : "
                       r".*binding\(s\) were missing or changed and are restored", re.M)


def repair_times(d):
    """Wall-clock times (epoch s) of the daemon's repair batches."""
    return [datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
            .replace(tzinfo=datetime.timezone.utc).timestamp()
            for m in REPAIR_RE.finditer(d.log())]


def repairs(d):
    return len(repair_times(d))


def restored_after(bed, d, began, done):
    """After an event that ran from BEGAN to DONE (epoch s): (seconds from
    DONE to the last repair batch, 0 when the rules were back before DONE;
    None when `nwfilter status` never saw every binding present) and the
    last status output. The repair time comes from the daemon's log, so the
    status tool's own run time does not count."""
    elapsed, out = wait_present(bed, d, time.monotonic(), limit=15.0)
    if elapsed is None:
        return None, out
    found = time.time()
    batches = [t for t in repair_times(d) if began <= t <= found]
    return max([0.0] + [t - done for t in batches]), out


def timely(tap, elapsed, desc, out):
    """The 1 s bound. On a machine whose load is over twice its CPUs the
    measured figure is still reported, as a TODO instead of a failure."""
    if elapsed is None:
        tap.ok(False, desc + ": never", out)
        return
    desc = "%s within 1 s (%.3f s)" % (desc, elapsed)
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    todo = None
    if elapsed > 1.0 and load > 2.0:
        todo = "machine overloaded: load %.1f per CPU" % load
    tap.ok(elapsed <= 1.0, desc, out, todo=todo)


def main():
    code = nn.unmet_prerequisites("firewalld tests", tools=("ip", "firewalld", "firewall-cmd",
                                                            "dbus-daemon", "unshare"))
    if code is not None:
        return code
    tap = nn.Tap()
    env_backup = dict(os.environ)
    bus_proc = fw = d = None
    with nn.Bed(WHO) as bed:
        try:
            import libvirt
            libvirt.registerErrorHandler(lambda *_: None, None)
            tmp = tempfile.mkdtemp(prefix="nwf-%s-" % WHO, dir=bed.tmp)
            with open(os.path.join(tmp, "bus.conf"), "w") as f:
                f.write(BUS_CONF % os.path.join(tmp, "bus"))
            bus_proc = subprocess.Popen(["ip", "netns", "exec", bed.br, "dbus-daemon",
                                         "--config-file", os.path.join(tmp, "bus.conf"),
                                         "--nofork", "--print-address"],
                                        stdout=subprocess.PIPE, text=True)
            address = bus_proc.stdout.readline().strip()
            tap.ok(address.startswith("unix:path=" + tmp), "private bus at " + address)
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
            env = dict(os.environ)

            d = Daemon(Ns(bed.br), BACKEND, root=os.path.join(tmp, "d"))
            os.makedirs(d.config_dir, exist_ok=True)
            for name in os.listdir(STOCK):
                if name.endswith(".xml"):
                    shutil.copy(os.path.join(STOCK, name), d.config_dir)
            with open(os.path.join(d.config_dir, "fw-test.xml"), "w") as f:
                f.write(TOP)
            # no system bus at all: the daemon serves and says so once
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + os.path.join(tmp, "nobus")
            d.start()
            time.sleep(0.5)
            d.stop()
            tap.ok(d.log().count("not watching firewalld") == 1,
                   "no system bus: nwfilterd runs and says once that it will not watch",
                   d.log()[-2000:])
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
            # the private bus without firewalld: said once; firewalld starts later
            d.start()
            conn = libvirt.open(d.uri)
            for p in PORTS:
                conn.nwfilterBindingCreateXML(BINDING % p, 0)
            conn.close()
            elapsed, out = wait_present(bed, d, time.monotonic())
            tap.ok(elapsed is not None, "both bindings present after create", out)
            ok, detail = enforced(bed)
            tap.ok(ok, "enforced after create", detail)
            tap.ok(d.log().count("firewalld is not running") == 1,
                   "no firewalld on the bus: said once", d.log()[-2000:])

            fw = Firewalld(bed.br, tmp, env)
            began = time.time()
            fw.start()
            elapsed, out = restored_after(bed, d, began, time.time())
            tap.ok(fw.cmd("--state").stdout.strip() == "running", "firewalld runs in the netns")
            ipt = nn.run("iptables-save", ns=bed.br).stdout
            tap.ok("FWD_public" in ipt or "FORWARD_direct" in ipt,
                   "firewalld uses its iptables backend inside the namespace", ipt)
            timely(tap, elapsed, "firewalld's first start: every binding restored", out)

            stream = None
            if BACKEND == "nftables":
                bed.agents["peer"].call(op="start")
                bed.agents["vm"].call(op="stream_start", frames=MUST_DROP, gap=0.01)
                stream = True

            before = repairs(d)
            events = (
                ("firewall-cmd --reload", lambda: fw.cmd("--reload")),
                ("firewalld stop", fw.stop),
                ("firewalld start", fw.start),
                ("firewalld restart", lambda: (fw.stop(), fw.start())),
            )
            for name, action in events:
                began = time.time()
                action()
                elapsed, out = restored_after(bed, d, began, time.time())
                timely(tap, elapsed, "%s: every binding restored" % name, out)
                if stream is None:
                    ok, detail = enforced(bed)
                    tap.ok(ok, "%s: traffic shows the filters enforced" % name, detail)

            if BACKEND == "ebiptables":
                tap.ok(repairs(d) > before,
                       "firewalld's flushes were seen and repaired (%d repair batches)"
                       % (repairs(d) - before), d.log()[-3000:])
            else:
                sent = bed.agents["vm"].call(op="stream_stop")["sent"]
                seen = bed.agents["peer"].call(op="collect")["seen"]
                leaked = [s for s in seen if s.split(":")[0] in ("spoof", "telnet2323")]
                tap.ok(sum(sent.values()) > 100 and not leaked,
                       "nftables: no must-drop probe delivered during reload, stop, start and "
                       "restart (%d sent)" % sum(sent.values()), "leaked: %s" % leaked[:20])
                tap.ok(repairs(d) == before, "nftables: firewalld never touched the "
                       "backend's tables (nothing to repair)", d.log()[-3000:])
                ok, detail = enforced(bed)
                tap.ok(ok, "nftables: enforced after all firewalld events", detail)

            # a daemon restart with every rule in place rewrites nothing: each
            # rule keeps its nftables handle (both backends' tools use nf_tables)
            # (counters move with background traffic: they are left out)
            def listing():
                out = nn.run("nft", "-a", "list", "ruleset", ns=bed.br).stdout
                return re.sub(r"packets \d+ bytes \d+", "", out)
            handles = listing()
            d.stop()
            d.start()
            time.sleep(1.0)    # past the watch's rechecks
            after = listing()
            tap.ok(handles == after and "vnet0" in after,
                   "daemon restart with the rules in place: no rule rewritten (same handles)",
                   "before:\n%s\nafter:\n%s" % (handles[-1500:], after[-1500:]))

            # external flushes: detected, then repaired by a signal and by a restart
            flushes = ([["ebtables", "-t", "nat", "-F"], ["iptables", "-F"]]
                       if BACKEND == "ebiptables" else [["nft", "flush", "ruleset"]])
            for flush in flushes:
                for repair in ("reload", "daemon restart"):
                    nn.run(*flush, ns=bed.br)
                    proc = status(bed, d)
                    tap.ok(proc.returncode == 1 and "drift" in proc.stdout,
                           "%s: nwfilter status reports drift" % " ".join(flush),
                           proc.stdout + proc.stderr)
                    began = time.time()
                    if repair == "reload":
                        fw.cmd("--reload")
                    else:
                        d.stop()
                        d.start()
                    elapsed, out = restored_after(bed, d, began, time.time())
                    timely(tap, elapsed, "%s, then %s: repaired" % (" ".join(flush), repair), out)
                    ok, detail = enforced(bed)
                    tap.ok(ok, "%s, then %s: enforced" % (" ".join(flush), repair), detail)
        except Exception as exc:
            import traceback
            tap.ok(False, "firewalld test ran to the end: %r" % exc, traceback.format_exc())
        finally:
            if d is not None:
                for line in d.log().splitlines():
                    if "firewalld" in line or "restored" in line:
                        print("# daemon: " + line)
                rc = d.stop()
                tap.ok(rc == 0, "nwfilterd exited cleanly", d.log()[-3000:])
            if fw is not None:
                fw.stop()
            if bus_proc is not None:
                bus_proc.terminate()
                bus_proc.wait()
            os.environ.clear()
            os.environ.update(env_backup)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
