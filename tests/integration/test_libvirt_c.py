#!/usr/bin/env python3
"""Runs the C program on libvirt's public API (libvirt_client.c) against
nwfilterd and reports each of its steps as a TAP case.

Usage: test_libvirt_c.py PROGRAM --backend=NAME"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from nwfd_harness import (Daemon, Netns, backend_from_argv, require_root,  # noqa: E402
                          unwind_on_sigterm)


def main():
    require_root()
    unwind_on_sigterm()
    program = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="nwf-rpc-c-")
    ns = Netns("c")
    d = None
    try:
        ns.run("ip", "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet0p")
        ns.run("ip", "link", "set", "vnet0", "up")
        d = Daemon(ns, backend_from_argv(), root=os.path.join(tmp, "d"))
        d.start()
        p = subprocess.run([program, d.uri, d.ro_uri], capture_output=True, text=True, timeout=120)
    finally:
        if d:
            d.stop()
        ns.delete()
        shutil.rmtree(tmp, ignore_errors=True)
    steps = [line for line in p.stdout.splitlines() if line.startswith(("ok", "not ok"))]
    print("1..%d" % (len(steps) + 1))
    for n, line in enumerate(steps, 1):
        status, name = line.split(" - ", 1)
        print("%s %d - %s" % (status, n, name))
    for line in p.stdout.splitlines():
        if line.startswith("#"):
            print(line)
    status = "ok" if p.returncode == 0 and steps else "not ok"
    print("%s %d - exit status %d" % (status, len(steps) + 1, p.returncode))
    if p.stderr:
        print("# " + p.stderr.replace("\n", "\n# "))
    return 0 if status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
