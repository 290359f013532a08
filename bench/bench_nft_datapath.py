#!/usr/bin/env python3
"""Benchmark (not a test): TCP throughput between two namespaces across a
bridge, the sending port filtered (clean-traffic plus an IP-layer rule, so
both tables and the port marks are on the path), with 1 filtered port and
then with N more filtered ports present (default 999), three such pairs.
Dispatch is by map lookup, so the second figure should match the first. Needs root and iperf3;
uses only namespaces it creates.

    bench_nft_datapath.py [N] [SECONDS]"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import nwf_netns as n  # noqa: E402

BENCH = os.path.join(n.BUILD, "bench", "bench_nft")


def throughput(bed, seconds):
    server = subprocess.Popen(["ip", "netns", "exec", bed.peer, "iperf3", "-s", "-1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    out = n.run("iperf3", "-c", n.PEER_IP, "-t", str(seconds), "-J", ns=bed.vm).stdout
    server.wait(timeout=30)
    return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6


def main():
    extra = int(sys.argv[1]) if len(sys.argv) > 1 else 999
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with n.Bed("nft-dp") as bed:
        bed.write_filters({"dp": n.rule_filter(
            "dp", "<filterref filter='clean-traffic'/><rule action='drop' direction='out' "
            "priority='100'><udp dstportstart='9999'/></rule>")})
        bed.apply("nftables", "dp", {"IP": n.VM_IP})
        # the peer's replies (ARP, TCP ACKs) go through the to-VM chains.
        # Three pairs, each a run with 1 port then one with N more, the
        # other ports installed and removed in between: a single iperf3
        # stream here varies by 10 % from run to run and drifts, so the
        # ratio is taken within each pair and the median of the three given
        ones, manys, ratios, installs = [], [], [], []
        for _ in range(3):
            ones.append(throughput(bed, seconds))
            t0 = time.time()
            n.run(BENCH, "--here", str(extra), ns=bed.br)
            installs.append(time.time() - t0)
            manys.append(throughput(bed, seconds))
            chains = n.run("nft", "list", "chains", ns=bed.br).stdout.count("chain ")
            n.run(BENCH, "--here-remove", str(extra), ns=bed.br)
            ratios.append(manys[-1] / ones[-1])
        print("1 filtered port:      %8.1f Mbit/s (median of 3)" % sorted(ones)[1])
        print("%d filtered ports: %8.1f Mbit/s (median of 3; %d chains; %d ports "
              "installed in one transaction in %.2f s)"
              % (extra + 1, sorted(manys)[1], chains, extra, sorted(installs)[1]))
        print("ratio within each pair: %s; median %.1f%%"
              % (", ".join("%.1f%%" % (100 * r) for r in ratios), 100 * sorted(ratios)[1]))


if __name__ == "__main__":
    sys.exit(main())
