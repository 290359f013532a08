#!/usr/bin/env python3
"""The shared traffic case table (nwf_netns.CASES) against one backend:
test_traffic.py nftables|ebiptables. Root and network namespaces only; TAP.
Under CI=true a missing capability is a failure, elsewhere a skip."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nwf_netns  # noqa: E402


def main():
    backend = sys.argv[1]
    tools = ("ip", "conntrack") if backend == "nftables" else \
        ("ip", "conntrack", "ebtables-restore", "iptables-restore", "ip6tables-restore")
    unmet = nwf_netns.unmet_prerequisites("traffic", tools)
    if unmet is not None:
        return unmet
    tap = nwf_netns.Tap()
    try:
        with nwf_netns.Bed("tr%s" % backend[:3]) as bed:
            nwf_netns.run_cases(bed, backend, tap)
            proc = bed.remove(backend)
            tap.ok(proc.returncode == 0, "%s: remove the port's rules" % backend, proc.stderr)
            seen = bed.exchange([("vm", [nwf_netns.frame("udp", "after",
                                                         src_mac="52:54:00:00:00:99")])])
            tap.ok("after:0" in seen["peer"], "%s: after remove nothing is filtered" % backend,
                   seen)
    except Exception as exc:  # report, the bed is already torn down
        tap.ok(False, "%s: traffic run" % backend, repr(exc))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
