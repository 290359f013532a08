#!/usr/bin/env python3
"""Per-rule counters on the nftables backend, switched on by
`nwfilter apply --counters` and by the daemon's `nft_counters = 1`, read
back with `nwfilter stats --port DEV`: after N frames that only one rule
matches, that rule's packets went up by exactly N and its bytes by the
frames' IP lengths, the rules next to it did not move, and each line names
the filter and the rule priority it came from. Without the switch no rule
counts. Root; private network namespaces only (nwf_netns.Bed); TAP."""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import nwf_netns as n  # noqa: E402
import nwfd_harness as h  # noqa: E402

# A drop rule in a referenced filter, an accept rule in the top filter, and
# one rule no frame of the test matches.
FILTERS = {
    "cnt-leaf": n.rule_filter(
        "cnt-leaf",
        "<rule action='drop' direction='out' priority='654'>"
        "<udp dstportstart='6001'/></rule>"
        "<rule action='drop' direction='out' priority='655'>"
        "<udp dstportstart='6003'/></rule>"),
    "cnt-top": n.rule_filter(
        "cnt-top",
        "<rule action='accept' direction='out' priority='321'>"
        "<udp dstportstart='6002'/></rule>"
        "<filterref filter='cnt-leaf'/>"),
}
DROPPED, ACCEPTED = 12, 7


def frames(tag, dport, count):
    return [dict(n.frame("udp", tag, dport=dport), count=count)]


def ip_lengths(tag, count):
    """IP lengths of the agent's frames TAG:0 .. TAG:COUNT-1 (payload
    b"NWF:<tag>:<i>" after 20 bytes of IP and 8 of UDP header)."""
    return [28 + len("NWF:%s:%d" % (tag, i)) for i in range(count)]


def stats(bed):
    """{(filter, priority, chain, rule): (packets, bytes)} and the output."""
    proc = bed.nwfilter("stats", "--port", "vnet0", expect_ok=False)
    rows = {}
    for line in proc.stdout.splitlines()[1:]:
        cols = line.split(None, 5)
        if len(cols) == 6:
            rows[(cols[2], int(cols[3]), cols[4], cols[5])] = (int(cols[0]), int(cols[1]))
    return rows, proc


def delta(before, after, filter_name, priority):
    """(packets, bytes, lines) gained by the lines of FILTER_NAME/PRIORITY."""
    keys = [k for k in after if k[0] == filter_name and k[1] == priority]
    packets = sum(after[k][0] - before.get(k, (0, 0))[0] for k in keys)
    octets = sum(after[k][1] - before.get(k, (0, 0))[1] for k in keys)
    return packets, octets, keys


def send_and_count(bed, tap, what):
    """Send the test frames from the VM and check the counters they move."""
    before, proc = stats(bed)
    tap.ok(proc.returncode == 0 and before, "%s: stats lists counted rules" % what,
           proc.stdout + proc.stderr)
    seen = bed.exchange([("vm", frames("drop", 6001, DROPPED) +
                          frames("pass", 6002, ACCEPTED))])["peer"]
    after, proc = stats(bed)
    tap.ok(not any(s.startswith("drop:") for s in seen) and
           sum(s.startswith("pass:") for s in seen) == ACCEPTED,
           "%s: the drop rule dropped, the accept rule passed" % what, sorted(seen))

    packets, octets, keys = delta(before, after, "cnt-leaf", 654)
    want = sum(ip_lengths("drop", DROPPED))
    tap.ok(keys and packets == DROPPED and octets == want,
           "%s: drop rule (cnt-leaf, priority 654) counted %d packets, %d bytes"
           % (what, packets, octets), proc.stdout)
    packets, octets, keys = delta(before, after, "cnt-top", 321)
    want = sum(ip_lengths("pass", ACCEPTED))
    tap.ok(keys and packets == ACCEPTED and octets == want,
           "%s: accept rule (cnt-top, priority 321) counted %d packets, %d bytes"
           % (what, packets, octets), proc.stdout)
    packets, _, keys = delta(before, after, "cnt-leaf", 655)
    tap.ok(keys and packets == 0, "%s: a rule no frame matches stays at 0" % what,
           proc.stdout)
    tap.ok(all("6001" in k[3] for k in after if k[0] == "cnt-leaf" and k[1] == 654) and
           all("6002" in k[3] for k in after if k[0] == "cnt-top" and k[1] == 321),
           "%s: each counted line shows the rule its filter and priority name" % what,
           proc.stdout)


def check_tool(bed, tap):
    bed.write_filters(FILTERS)
    binding = bed.binding("cnt-top", {})
    apply = ("apply", "--backend", "nftables", "--binding", binding, "--filter-dir", bed.tmp)
    bed.nwfilter(*apply)
    _, proc = stats(bed)
    tap.ok(proc.returncode == 1 and "no counted rules" in proc.stderr,
           "apply without --counters: no rule counts", proc.stdout + proc.stderr)
    # the same program again, now with counters: the rules are rewritten
    bed.nwfilter(*apply, "--counters")
    send_and_count(bed, tap, "apply --counters")
    proc = bed.nwfilter("apply", "--backend", "ebiptables", "--counters", "--binding", binding,
                        "--filter-dir", bed.tmp, expect_ok=False)
    tap.ok(proc.returncode == 1 and "--counters needs the nftables backend" in proc.stderr,
           "--counters with the ebiptables backend is refused", proc.stderr)
    bed.nwfilter("remove", "--backend", "nftables", "--port", "vnet0")


def start_daemon(bed, root, counters):
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "nwfilterd.conf")
    with open(conf, "w") as f:
        f.write('firewall_backend = "nftables"\nnft_counters = %d\n'
                'socket_dir = "%s/run"\nconfig_dir = "%s/filters"\nstate_dir = "%s/state"\n'
                % (counters, root, root, root))
    log = open(os.path.join(root, "log"), "a")
    proc = subprocess.Popen(["ip", "netns", "exec", bed.br, h.NWFILTERD, "--config", conf],
                            stdout=log, stderr=log)
    log.close()
    h.wait_accepting(os.path.join(root, "run", "virtnwfilterd-sock"), 15, proc,
                     os.path.join(root, "log"))
    return proc


def stop_daemon(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def check_daemon(bed, tap):
    root = os.path.join(bed.tmp, "daemon")
    uri = "nwfilter:///system?socket=%s/run/virtnwfilterd-sock" % root
    bad = os.path.join(bed.tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("nft_counters = 2\n")
    proc = n.run(h.NWFILTERD, "--config", bad, check=False, ns=bed.br, timeout=30)
    tap.ok(proc.returncode != 0 and
           "bad.conf:1: 'nft_counters' must be a number from 0 to 1" in proc.stderr,
           "nft_counters = 2 is refused with file, line and range", proc.stderr)
    proc = start_daemon(bed, root, 1)
    try:
        for name in FILTERS:
            rc, _, err = h.virsh(uri, "nwfilter-define", os.path.join(bed.tmp, name + ".xml"))
            tap.ok(rc == 0, "daemon: define %s" % name, err)
        rc, _, err = h.virsh(uri, "nwfilter-binding-create", bed.binding("cnt-top", {}))
        tap.ok(rc == 0, "daemon: binding on vnet0 created", err)
        send_and_count(bed, tap, "nwfilterd with nft_counters = 1")
    finally:
        tap.ok(stop_daemon(proc) == 0, "daemon: clean exit")
    # a restart without the key re-applies the binding without counters
    proc = start_daemon(bed, root, 0)
    try:
        deadline = time.monotonic() + 10
        while True:
            rows, out = stats(bed)
            if not rows or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        tap.ok(out.returncode == 1 and "no counted rules" in out.stderr and
               "cnt-top" in n.run("nft", "list", "ruleset", ns=bed.br).stdout,
               "nwfilterd with nft_counters = 0: the binding's rules carry no counters",
               out.stdout + out.stderr)
    finally:
        stop_daemon(proc)


def main():
    unmet = n.unmet_prerequisites("counters", ("ip", "nft", "virsh"))
    if unmet is not None:
        return unmet
    tap = n.Tap()
    try:
        with n.Bed("nft-cnt") as bed:
            check_tool(bed, tap)
            check_daemon(bed, tap)
    except Exception as exc:  # report; the bed is torn down already
        tap.ok(False, "counters run", repr(exc))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
