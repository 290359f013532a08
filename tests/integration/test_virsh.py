#!/usr/bin/env python3
"""The real virsh 9.0 against nwfilterd: every nwfilter-* and
nwfilter-binding-* command, with the output and error lines libvirt prints
(spec/libvirt-rpc.md section 5), the read-only socket and virsh -r, and the
daemon's restart and SIGHUP behaviour. The daemon runs in a private network
namespace holding the port device, so rules land only there.

Usage: test_virsh.py --backend=nftables|ebiptables (TAP output)."""

import glob
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from nwfd_harness import (NWFILTERD, STOCK, Daemon, Netns, backend_from_argv, eq,  # noqa: E402
                          require_root, run_tap, teardown_context, test, virsh)
from nwfd_harness import kernel_has_port as harness_kernel_has_port  # noqa: E402

BACKEND = backend_from_argv()
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

BINDING = """<filterbinding>
  <owner>
    <name>vm1</name>
    <uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid>
  </owner>
  <portdev name='vnet0'/>
  <mac address='52:54:00:aa:bb:cc'/>
  <filterref filter='clean-traffic'>
    <parameter name='IP' value='10.0.0.2'/>
  </filterref>
</filterbinding>
"""


def write(ctx, name, text):
    path = os.path.join(ctx.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def ok(ctx, *args, **kw):
    rc, out, err = virsh(kw.pop("uri", ctx.d.uri), *args, **kw)
    if rc != 0:
        raise AssertionError("virsh %s failed (%d): %s" % (" ".join(args), rc, err))
    return out


def fails(ctx, *args, **kw):
    rc, out, err = virsh(kw.pop("uri", ctx.d.uri), *args, **kw)
    eq(rc, 1, "exit status of virsh %s" % " ".join(args))
    return err


def kernel_has_port(ctx, port):
    return harness_kernel_has_port(ctx.ns, BACKEND, port)


def setup(ctx):
    ctx.tmp = tempfile.mkdtemp(prefix="nwf-rpc-virsh-")
    ctx.ns = Netns("virsh")
    ctx.ns.run("ip", "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet0p")
    ctx.ns.run("ip", "link", "set", "vnet0", "up")
    ctx.ns.run("ip", "link", "add", "vnet1", "type", "veth", "peer", "name", "vnet1p")
    ctx.uuids = {}
    ctx.d = Daemon(ctx.ns, BACKEND, root=os.path.join(ctx.tmp, "d"))
    ctx.d.start()


@test
def list_empty(ctx):
    eq(ok(ctx, "nwfilter-list"), " UUID   Name\n--------------\n\n")


@test
def define_stock_filters(ctx):
    for path in sorted(glob.glob(os.path.join(STOCK, "*.xml"))):
        name = os.path.basename(path)[:-4]
        eq(ok(ctx, "nwfilter-define", path), "Network filter %s defined from %s\n\n" % (name, path))


@test
def list_filters(ctx):
    lines = ok(ctx, "nwfilter-list").splitlines()
    eq(lines[0].split(), ["UUID", "Name"])
    names = []
    for line in lines[2:]:
        if not line.strip():
            continue
        uuid, name = line.split()
        assert UUID_RE.match(uuid), line
        ctx.uuids[name] = uuid
        names.append(name)
    want = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(STOCK, "*.xml")))
    eq(names, want, "filters listed by name")


@test
def define_validate(ctx):
    # Redefining an existing name needs its uuid, as dumpxml gives it.
    path = write(ctx, "allow-arp.xml", ok(ctx, "nwfilter-dumpxml", "allow-arp"))
    eq(ok(ctx, "nwfilter-define", "--validate", path),
       "Network filter allow-arp defined from %s\n\n" % path)
    bad = write(ctx, "bogus.xml", "<filter name='rp-bad'><bogus/></filter>\n")
    err = fails(ctx, "nwfilter-define", "--validate", bad)
    assert err.startswith("error: Failed to define network filter from %s\n"
                          "error: XML document failed to validate against schema: "
                          "Unable to validate doc against " % bad), err
    assert "bogus" in err, err


@test
def define_errors(ctx):
    cases = [
        ("<filter name='rp-bad'><rule action='foo' direction='in'/></filter>\n",
         "unsupported configuration: unknown rule action attribute value"),
        ("<foo name='rp-bad'/>\n",
         "XML error: expecting root element of 'filter', not 'foo'"),
        ("<filter chain='root'/>\n", "internal error: filter has no name"),
        ("<filter name='clean-traffic' chain='root'/>\n",
         "operation failed: filter 'clean-traffic' already exists with uuid %s"
         % ctx.uuids["clean-traffic"]),
        ("<filter name='rp-other'><uuid>%s</uuid></filter>\n" % ctx.uuids["allow-ipv4"],
         "operation failed: filter with same UUID but different name ('allow-ipv4') already exists"),
    ]
    for n, (xml, message) in enumerate(cases):
        path = write(ctx, "bad%d.xml" % n, xml)
        eq(fails(ctx, "nwfilter-define", path),
           "error: Failed to define network filter from %s\nerror: %s\n" % (path, message))
    # Not well-formed: libxml2's text after the libvirt prefix.
    path = write(ctx, "broken.xml", "<filter name='rp-bad'><rule action='accept' direction='in'\n")
    err = fails(ctx, "nwfilter-define", path)
    assert err.startswith("error: Failed to define network filter from %s\nerror: " % path), err


@test
def define_loop(ctx):
    a = write(ctx, "loop-a.xml", "<filter name='rp-loop-a'><filterref filter='rp-loop-b'/></filter>\n")
    b = write(ctx, "loop-b.xml", "<filter name='rp-loop-b'><filterref filter='rp-loop-c'/></filter>\n")
    ok(ctx, "nwfilter-define", a)
    ok(ctx, "nwfilter-define", b)
    c = write(ctx, "loop-c.xml", "<filter name='rp-loop-c'><filterref filter='rp-loop-a'/></filter>\n")
    eq(fails(ctx, "nwfilter-define", c),
       "error: Failed to define network filter from %s\n"
       "error: operation failed: filter would introduce a loop\n" % c)


@test
def dumpxml_by_name_and_uuid(ctx):
    by_name = ok(ctx, "nwfilter-dumpxml", "clean-traffic")
    by_uuid = ok(ctx, "nwfilter-dumpxml", ctx.uuids["clean-traffic"])
    eq(by_uuid, by_name, "dumpxml by uuid and by name")
    assert by_name.startswith("<filter name='clean-traffic' chain='root'>\n  <uuid>%s</uuid>\n"
                              % ctx.uuids["clean-traffic"]), by_name


@test
def dumpxml_not_found(ctx):
    eq(fails(ctx, "nwfilter-dumpxml", "rp-nonexist"),
       "error: failed to get nwfilter 'rp-nonexist'\n"
       "error: Network filter not found: no nwfilter with matching name 'rp-nonexist'\n")
    # A 36-character argument is tried as a uuid first, then as a name.
    uuid = "00000000-1111-2222-3333-444444444444"
    eq(fails(ctx, "nwfilter-dumpxml", uuid),
       "error: failed to get nwfilter '%s'\n"
       "error: Network filter not found: no nwfilter with matching name '%s'\n" % (uuid, uuid))


@test
def edit(ctx):
    editor = write(ctx, "editor.sh",
                   "#!/bin/sh\nsed -i \"s/priority='500'/priority='400'/\" \"$1\"\n")
    os.chmod(editor, 0o755)
    eq(ok(ctx, "nwfilter-edit", "no-mac-spoofing", env={"EDITOR": editor}),
       "Network filter no-mac-spoofing XML configuration edited.\n\n")
    assert "priority='400'" in ok(ctx, "nwfilter-dumpxml", "no-mac-spoofing")
    eq(ok(ctx, "nwfilter-edit", "allow-arp", env={"EDITOR": "true"}),
       "Network filter allow-arp XML configuration not changed.\n\n")


@test
def binding_create(ctx):
    path = write(ctx, "binding.xml", BINDING)
    eq(ok(ctx, "nwfilter-binding-create", path),
       "Network filter binding on vnet0 created from %s\n\n" % path)
    assert kernel_has_port(ctx, "vnet0"), "no rules for vnet0 in the namespace"
    eq(fails(ctx, "nwfilter-binding-create", path),
       "error: Failed to create network filter from %s\n"
       "error: operation failed: binding 'vnet0' already exists\n" % path)


@test
def binding_create_errors(ctx):
    # vnet1 exists in the namespace, as rp-veth1 did in libvirt's capture.
    missing = write(ctx, "missing.xml", BINDING.replace("vnet0", "vnet1")
                    .replace("clean-traffic", "rp-missing"))
    eq(fails(ctx, "nwfilter-binding-create", missing),
       "error: Failed to create network filter from %s\n"
       "error: internal error: referenced filter 'rp-missing' is missing\n" % missing)
    no_owner = write(ctx, "no-owner.xml", re.sub(r"<owner>.*</owner>\n", "",
                                                 BINDING.replace("vnet0", "vnet9"), flags=re.S))
    err = fails(ctx, "nwfilter-binding-create", "--validate", no_owner)
    assert err.startswith("error: Failed to create network filter from %s\n"
                          "error: XML document failed to validate against schema: "
                          "Unable to validate doc against " % no_owner), err
    eq(fails(ctx, "nwfilter-binding-create", no_owner),
       "error: Failed to create network filter from %s\n"
       "error: internal error: filter binding has no owner name\n" % no_owner)


@test
def binding_list_and_dumpxml(ctx):
    eq(ok(ctx, "nwfilter-binding-list"),
       " Port Dev   Filter\n---------------------------\n vnet0      clean-traffic\n\n")
    eq(ok(ctx, "nwfilter-binding-dumpxml", "vnet0"),
       BINDING.replace("    <parameter name='IP' value='10.0.0.2'/>\n",
                       "    <parameter name='IP' value='10.0.0.2'/>\n"
                       "    <parameter name='MAC' value='52:54:00:aa:bb:cc'/>\n") + "\n")
    eq(fails(ctx, "nwfilter-binding-dumpxml", "rp-nodev9"),
       "error: failed to get nwfilter binding 'rp-nodev9'\n"
       "error: Network filter binding not found: no nwfilter binding for port dev 'rp-nodev9'\n")


@test
def undefine_in_use(ctx):
    # Directly and through clean-traffic's filterref.
    for name in ("clean-traffic", "no-ip-spoofing"):
        eq(fails(ctx, "nwfilter-undefine", name),
           "error: Failed to undefine network filter %s\n"
           "error: Requested operation is not valid: nwfilter is in use\n" % name)


@test
def readonly_refusals(ctx):
    path = os.path.join(STOCK, "allow-arp.xml")
    bpath = os.path.join(ctx.tmp, "binding.xml")
    api = "operation forbidden: read only access prevents "
    # virsh -r: refused by the client library, and by the server too.
    for uri in (ctx.d.uri, ctx.d.ro_uri):
        eq(fails(ctx, "nwfilter-define", path, uri=uri, ro=True),
           "error: Failed to define network filter from %s\nerror: %svirNWFilterDefineXML\n"
           % (path, api))
    ro = ctx.d.ro_uri
    eq(fails(ctx, "nwfilter-define", path, uri=ro),
       "error: Failed to define network filter from %s\nerror: %svirNWFilterDefineXML\n"
       % (path, api))
    err = fails(ctx, "nwfilter-define", "--validate", path, uri=ro)
    assert err.endswith("error: %svirNWFilterDefineXMLFlags\n" % api), err
    eq(fails(ctx, "nwfilter-undefine", "allow-arp", uri=ro),
       "error: Failed to undefine network filter allow-arp\nerror: %svirNWFilterUndefine\n" % api)
    eq(fails(ctx, "nwfilter-binding-create", bpath, uri=ro),
       "error: Failed to create network filter from %s\nerror: %svirNWFilterBindingCreateXML\n"
       % (bpath, api))
    eq(fails(ctx, "nwfilter-binding-delete", "vnet0", uri=ro),
       "error: Failed to delete network filter binding on vnet0\n"
       "error: %svirNWFilterBindingDelete\n" % api)
    # Reads stay allowed.
    eq(ok(ctx, "nwfilter-list", uri=ro), ok(ctx, "nwfilter-list"))
    eq(ok(ctx, "nwfilter-dumpxml", "allow-arp", uri=ro), ok(ctx, "nwfilter-dumpxml", "allow-arp"))
    eq(ok(ctx, "nwfilter-binding-list", uri=ro), ok(ctx, "nwfilter-binding-list"))
    eq(ok(ctx, "nwfilter-binding-dumpxml", "vnet0", uri=ro),
       ok(ctx, "nwfilter-binding-dumpxml", "vnet0"))


@test
def session_uri_refused(ctx):
    rc, out, err = virsh("nwfilter:///session?socket=" + ctx.d.rw, "nwfilter-list")
    eq(rc, 1)
    eq(err, "error: failed to connect to the hypervisor\n"
            "error: internal error: unexpected nwfilter URI path '/session', "
            "try nwfilter:///system\n")


@test
def restart_keeps_state(ctx):
    filters = ok(ctx, "nwfilter-list")
    bindings = ok(ctx, "nwfilter-binding-list")
    eq(ctx.d.stop(), 0, "exit status after SIGTERM")
    # The rules stay while the daemon is down.
    assert kernel_has_port(ctx, "vnet0"), "rules gone after SIGTERM"
    ctx.d.start()
    eq(ok(ctx, "nwfilter-list"), filters)
    eq(ok(ctx, "nwfilter-binding-list"), bindings)
    assert kernel_has_port(ctx, "vnet0")


@test
def second_daemon_refused(ctx):
    p = subprocess.run(ctx.d.argv(), capture_output=True, text=True, timeout=30)
    eq(p.returncode, 1)
    assert "another nwfilterd" in p.stderr, p.stderr
    # The first one still serves.
    ok(ctx, "nwfilter-binding-list")


@test
def sighup_reapplies(ctx):
    if BACKEND == "ebiptables":
        ctx.ns.run("ebtables", "-t", "nat", "-F")
        ctx.ns.run("ebtables", "-t", "nat", "-X")
    else:
        ctx.ns.run("nft", "flush", "ruleset")
    assert not kernel_has_port(ctx, "vnet0")
    ctx.d.send_signal(signal.SIGHUP)
    for _ in range(100):
        if kernel_has_port(ctx, "vnet0"):
            break
        subprocess.run(["sleep", "0.1"])
    assert kernel_has_port(ctx, "vnet0"), "SIGHUP did not re-apply vnet0"


@test
def binding_delete(ctx):
    eq(ok(ctx, "nwfilter-binding-delete", "vnet0"), "Network filter binding on vnet0 deleted\n\n")
    assert not kernel_has_port(ctx, "vnet0"), "rules for vnet0 left after delete"
    eq(fails(ctx, "nwfilter-binding-delete", "vnet0"),
       "error: failed to get nwfilter binding 'vnet0'\n"
       "error: Network filter binding not found: no nwfilter binding for port dev 'vnet0'\n")
    eq(ok(ctx, "nwfilter-binding-list"), " Port Dev   Filter\n--------------------\n\n")


@test
def undefine(ctx):
    eq(ok(ctx, "nwfilter-undefine", "clean-traffic"), "Network filter clean-traffic undefined\n\n")
    uuid = ctx.uuids["no-ip-spoofing"]
    eq(ok(ctx, "nwfilter-undefine", uuid), "Network filter %s undefined\n\n" % uuid)
    names = [line.split()[1] for line in ok(ctx, "nwfilter-list").splitlines()[2:] if line.strip()]
    assert "clean-traffic" not in names and "no-ip-spoofing" not in names, names
    eq(fails(ctx, "nwfilter-undefine", "clean-traffic"),
       "error: failed to get nwfilter 'clean-traffic'\n"
       "error: Network filter not found: no nwfilter with matching name 'clean-traffic'\n")


@test
def socket_activation(ctx):
    """Sockets handed over the systemd way (LISTEN_FDS, names)."""
    import socket as pysocket
    root = os.path.join(ctx.tmp, "activated")
    os.makedirs(root)
    rw_path = os.path.join(root, "rw")
    ro_path = os.path.join(root, "ro")
    socks = []
    for path in (rw_path, ro_path):
        s = pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM)
        s.bind(path)
        s.listen(16)
        socks.append(s)

    env = dict(os.environ, LISTEN_FDS="2", LISTEN_FDNAMES="nwfilterd.socket:nwfilterd-ro.socket")
    argv = ["ip", "netns", "exec", ctx.ns.name, NWFILTERD, "--socket-dir", os.path.join(root, "run"),
            "--config-dir", ctx.d.config_dir, "--state-dir", os.path.join(root, "state"),
            "--backend", BACKEND]
    # Done by hand, as systemd does: the sockets at fds 3 and 4 and
    # LISTEN_PID naming the process that execs the daemon (ip netns exec
    # keeps its pid when it execs nwfilterd).
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(socks[0].fileno(), 3)
            os.dup2(socks[1].fileno(), 4)
            # dup2 onto itself keeps close-on-exec: clear it explicitly.
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)
            env["LISTEN_PID"] = str(os.getpid())
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    for s in socks:
        s.close()
    try:
        out = ok(ctx, "nwfilter-list", uri="nwfilter:///system?socket=" + rw_path)
        assert "allow-arp" in out, out
        path = os.path.join(STOCK, "allow-arp.xml")
        err = fails(ctx, "nwfilter-define", path, uri="nwfilter:///system?socket=" + ro_path)
        assert "read only access prevents virNWFilterDefineXML" in err, err
        assert not os.path.exists(os.path.join(root, "run", "virtnwfilterd-sock"))
    finally:
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    eq(os.waitstatus_to_exitcode(status), 0)
    # Inherited sockets belong to the service manager: left in place.
    assert os.path.exists(rw_path)


if __name__ == "__main__":
    require_root()
    sys.exit(run_tap(setup, teardown_context))
