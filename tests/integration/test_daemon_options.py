#!/usr/bin/env python3
"""nwfilterd's command line and config file: settings from the file,
options overriding it, errors that name the culprit, sockets and modes,
clean exit on SIGTERM.

Usage: test_daemon_options.py (TAP output)."""

import os
import signal
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from nwfd_harness import (NWFILTERD, Netns, eq, require_root, run_tap,  # noqa: E402
                          teardown_context, test, virsh, wait_accepting)


def setup(ctx):
    ctx.tmp = tempfile.mkdtemp(prefix="nwf-rpc-opts-")
    ctx.ns = Netns("opts")


def start(ctx, *args):
    log = open(os.path.join(ctx.tmp, "log"), "a")
    p = subprocess.Popen(["ip", "netns", "exec", ctx.ns.name, NWFILTERD] + list(args),
                         stdout=log, stderr=log)
    log.close()
    return p


def run(ctx, *args):
    return subprocess.run(["ip", "netns", "exec", ctx.ns.name, NWFILTERD] + list(args),
                          capture_output=True, text=True, timeout=30)


def write_config(ctx, name, text):
    path = os.path.join(ctx.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


@test
def version(ctx):
    p = run(ctx, "--version")
    eq(p.returncode, 0)
    assert p.stdout.startswith("nwfilterd "), p.stdout


@test
def config_file_settings(ctx):
    root = os.path.join(ctx.tmp, "conf")
    conf = write_config(ctx, "a.conf",
                        "# every path from the file\n"
                        "firewall_backend = \"ebiptables\"\n"
                        "socket_dir = \"%s/run\"\n"
                        "config_dir = \"%s/filters\"\n"
                        "state_dir = \"%s/state\"\n"
                        "log_level = 2\n"
                        "unix_sock_group = \"libvirt\"\n" % (root, root, root))
    p = start(ctx, "--config", conf)
    rw = os.path.join(root, "run", "virtnwfilterd-sock")
    ro = rw + "-ro"
    try:
        wait_accepting(rw, 15, p)
        eq(stat.S_IMODE(os.stat(rw).st_mode), 0o600, "mode of the read-write socket")
        eq(stat.S_IMODE(os.stat(ro).st_mode), 0o666, "mode of the read-only socket")
        xml = os.path.join(ctx.tmp, "f.xml")
        with open(xml, "w") as f:
            f.write("<filter name='opt-test' chain='root'/>\n")
        rc, out, err = virsh("nwfilter:///system?socket=" + rw, "nwfilter-define", xml)
        eq(rc, 0, err)
        assert os.path.exists(os.path.join(root, "filters", "opt-test.xml"))
    finally:
        p.send_signal(signal.SIGTERM)
        eq(p.wait(15), 0, "exit status after SIGTERM")
    # Sockets it created itself are removed again.
    assert not os.path.exists(rw) and not os.path.exists(ro)
    log = open(os.path.join(ctx.tmp, "log")).read()
    assert "firewall backend: ebiptables" in log, log
    assert "ignoring unknown setting 'unix_sock_group'" in log, log


@test
def options_override_config(ctx):
    root = os.path.join(ctx.tmp, "override")
    conf = write_config(ctx, "b.conf", "socket_dir = \"%s/from-file\"\n"
                        "firewall_backend = \"no-such-backend\"\n" % root)
    p = start(ctx, "--config", conf, "--socket-dir", root + "/from-option",
              "--config-dir", root + "/filters", "--state-dir", root + "/state",
              "--backend", "nftables")
    try:
        wait_accepting(root + "/from-option/virtnwfilterd-sock", 15, p)
        assert not os.path.exists(root + "/from-file")
    finally:
        p.send_signal(signal.SIGTERM)
        eq(p.wait(15), 0)


@test
def errors(ctx):
    root = os.path.join(ctx.tmp, "errors")
    dirs = ["--socket-dir", root + "/run", "--config-dir", root + "/f", "--state-dir", root + "/s"]
    p = run(ctx, "--config", os.path.join(ctx.tmp, "missing.conf"), *dirs)
    eq(p.returncode, 1)
    assert "cannot read config file" in p.stderr, p.stderr
    bad = write_config(ctx, "bad.conf", "\nlog_level = 9\n")
    p = run(ctx, "--config", bad, *dirs)
    eq(p.returncode, 1)
    assert "bad.conf:2: 'log_level' must be a number from 1 to 4" in p.stderr, p.stderr
    p = run(ctx, "--backend", "pf", *dirs)
    eq(p.returncode, 1)
    assert "unknown firewall backend 'pf'" in p.stderr, p.stderr
    p = run(ctx, "--bogus")
    eq(p.returncode, 1)
    assert "--bogus" in p.stderr, p.stderr


if __name__ == "__main__":
    require_root()
    sys.exit(run_tap(setup, teardown_context))
