#!/usr/bin/env python3
"""Zero-leak updates on the nftables backend: while the VM streams legitimate
and spoofed frames and the peer streams frames to the VM, the port's binding
is re-applied 200 times with its IP list alternating between [C, A] and
[C, B]. Frames from C (valid throughout) and to the VM must all arrive,
spoofed ones never; frames from A and B arrive only while valid. Then the
per-rule counters are read back with `nwfilter stats`. Root, private
network namespaces only; TAP."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import nwf_netns as n  # noqa: E402

# The issue asks for 200; the sanitized CI build (already covered at full
# size by the release build) may ask for fewer through NWF_ZERO_LEAK_ROUNDS.
ROUNDS = int(os.environ.get("NWF_ZERO_LEAK_ROUNDS", "200"))
IP_C, IP_A, IP_B = n.VM_IP, "10.0.0.20", "10.0.0.21"
PORT = 7777


def main():
    unmet = n.unmet_prerequisites("zero-leak")
    if unmet is not None:
        return unmet
    tap = n.Tap()
    try:
        with n.Bed("nft-zl") as bed:
            check(bed, tap)
    except Exception as exc:  # report; the bed is torn down already
        tap.ok(False, "zero-leak run", repr(exc))
    return tap.done()


def check(bed, tap):
    os.environ["NWF_NFT_COUNTERS"] = "1"
    bed.write_filters({"zl": n.rule_filter("zl", "<filterref filter='clean-traffic'/>")})
    bed.apply("nftables", "zl", {"IP": [IP_C, IP_A]})
    peer, vm = bed.agents["peer"], bed.agents["vm"]
    vm_listen = n.Agent(bed.vm, "", n.scapy_python())
    try:
        peer.call(op="listen", ports=[PORT])
        vm_listen.call(op="listen", ports=[PORT])
        udp = dict(dst_ip=n.PEER_IP, dport=PORT)
        vm.call(op="stream_start", gap=0.004, frames=[
            n.frame("udp", "c", src_ip=IP_C, **udp),
            n.frame("udp", "a", src_ip=IP_A, **udp),
            n.frame("udp", "b", src_ip=IP_B, **udp),
            n.frame("udp", "spoofip", src_ip="10.0.0.99", **udp),
            n.frame("udp", "spoofmac", src_ip=IP_C, src_mac="52:54:00:00:00:66", **udp)])
        peer.call(op="stream_start", gap=0.004, frames=[n.to_vm("udp", "tovm", dport=PORT)])
        time.sleep(0.5)
        failures, t0 = [], time.time()
        for i in range(ROUNDS):
            ips = [IP_C, IP_B] if i % 2 == 0 else [IP_C, IP_A]
            proc = bed.apply("nftables", "zl", {"IP": ips}, expect_ok=False)
            if proc.returncode != 0:
                failures.append(proc.stderr)
        elapsed = time.time() - t0
        time.sleep(0.5)
        sent = vm.call(op="stream_stop")["sent"]
        sent_in = peer.call(op="stream_stop")["sent"]
        time.sleep(0.5)
        got = count(peer.call(op="collect")["seen"])
        got_in = count(vm_listen.call(op="collect")["seen"])
    finally:
        vm_listen.close()
    tap.ok(not failures, "%d re-applications succeeded (%.1f ms each)"
           % (ROUNDS, 1000 * elapsed / ROUNDS), "\n".join(failures[:3]))
    tap.ok(sent.get("c", 0) > 500 and got.get("c", 0) == sent["c"],
           "no legitimate frame lost from the VM: %d of %d" % (got.get("c", 0), sent.get("c")))
    tap.ok(sent_in.get("tovm", 0) > 500 and got_in.get("tovm", 0) == sent_in["tovm"],
           "no frame to the VM lost: %d of %d" % (got_in.get("tovm", 0), sent_in.get("tovm")))
    tap.ok(got.get("spoofip", 0) == 0 and got.get("spoofmac", 0) == 0,
           "0 spoofed frames delivered (spoofed IP %d of %d, spoofed MAC %d of %d)"
           % (got.get("spoofip", 0), sent.get("spoofip"), got.get("spoofmac", 0),
              sent.get("spoofmac")))
    tap.ok(0 < got.get("a", 0) < sent["a"] and 0 < got.get("b", 0) < sent["b"],
           "the alternating addresses passed only while valid (A %d of %d, B %d of %d)"
           % (got.get("a", 0), sent["a"], got.get("b", 0), sent["b"]))

    stats = bed.nwfilter("stats", "--port", "vnet0", expect_ok=False)
    lines = stats.stdout.splitlines()
    spoof = [l for l in lines if " no-ip-spoofing " in l and "drop" in l]
    tap.ok(stats.returncode == 0 and spoof and int(spoof[-1].split()[0]) > 0,
           "nwfilter stats shows the anti-spoofing drop rule counting packets",
           stats.stdout + stats.stderr)
    tap.ok(any(" no-mac-spoofing " in l and " 500 " in l for l in lines),
           "stats name each rule's filter and priority", stats.stdout)


def count(items):
    out = {}
    for item in items:
        tag = item.split(":")[0]
        out[tag] = out.get(tag, 0) + 1
    return out


if __name__ == "__main__":
    sys.exit(main())
