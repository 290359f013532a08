#!/usr/bin/env python3
"""python3-libvirt against nwfilterd: the filter and binding life cycle
through the public API, libvirt's error codes and domains as the bindings
raise them, and read-only connections refused writes."""

import os
import sys
import tempfile
import threading
import time

import libvirt

sys.path.insert(0, os.path.dirname(__file__))
from nwfd_harness import (Daemon, Netns, backend_from_argv, eq, require_root,  # noqa: E402
                          run_tap, teardown_context, test)

BACKEND = backend_from_argv()

FILTER = """<filter name='py-test' chain='ipv4' priority='-700'>
  <rule action='drop' direction='in' priority='500'>
    <ip srcipaddr='192.0.2.1'/>
  </rule>
</filter>
"""

BINDING = """<filterbinding>
  <owner>
    <name>pyvm</name>
    <uuid>6c9a1f06-79a6-4a52-9e2c-07f2fb6d1dd1</uuid>
  </owner>
  <portdev name='vnet0'/>
  <mac address='52:54:00:12:34:56'/>
  <filterref filter='py-test'/>
</filterbinding>
"""


def setup(ctx):
    # The library prints every error to stderr by default; keep TAP clean.
    libvirt.registerErrorHandler(lambda *_: None, None)
    # An event loop lets the client library run keepalive.
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=event_loop, daemon=True).start()
    ctx.tmp = tempfile.mkdtemp(prefix="nwf-rpc-py-")
    ctx.ns = Netns("py")
    ctx.ns.run("ip", "link", "add", "vnet0", "type", "veth", "peer", "name", "vnet0p")
    ctx.ns.run("ip", "link", "set", "vnet0", "up")
    ctx.d = Daemon(ctx.ns, BACKEND, root=os.path.join(ctx.tmp, "d"))
    ctx.d.start()
    ctx.conn = libvirt.open(ctx.d.uri)


def event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def raises(code, domain, message, fn, *args):
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        eq((e.get_error_code(), e.get_error_domain(), e.get_error_message()),
           (code, domain, message), "libvirt error")
        return
    raise AssertionError("%s did not fail" % fn.__name__)


@test
def connection(ctx):
    eq(ctx.conn.getURI(), ctx.d.uri)
    eq(ctx.conn.getType(), "nwfilter")
    eq(ctx.conn.isSecure(), 1)
    eq(ctx.conn.listAllNWFilters(), [])


@test
def define_and_lookup(ctx):
    f = ctx.conn.nwfilterDefineXML(FILTER)
    eq(f.name(), "py-test")
    ctx.uuid = f.UUIDString()
    eq(ctx.conn.nwfilterLookupByName("py-test").UUIDString(), ctx.uuid)
    eq(ctx.conn.nwfilterLookupByUUIDString(ctx.uuid).name(), "py-test")
    xml = f.XMLDesc(0)
    assert "<uuid>%s</uuid>" % ctx.uuid in xml, xml
    # Redefinition with the uuid (flags: validate against the schema).
    f2 = ctx.conn.nwfilterDefineXMLFlags(xml.replace("192.0.2.1", "192.0.2.9"),
                                          libvirt.VIR_NWFILTER_DEFINE_VALIDATE)
    eq(f2.UUIDString(), ctx.uuid)
    assert "192.0.2.9" in f2.XMLDesc(0)
    eq([x.name() for x in ctx.conn.listAllNWFilters()], ["py-test"])
    eq(ctx.conn.numOfNWFilters(), 1)
    eq(ctx.conn.listNWFilters(), ["py-test"])


@test
def errors(ctx):
    raises(libvirt.VIR_ERR_NO_NWFILTER, libvirt.VIR_FROM_NWFILTER,
           "Network filter not found: no nwfilter with matching name 'nope'",
           ctx.conn.nwfilterLookupByName, "nope")
    raises(libvirt.VIR_ERR_OPERATION_FAILED, libvirt.VIR_FROM_NWFILTER,
           "operation failed: filter 'py-test' already exists with uuid %s" % ctx.uuid,
           ctx.conn.nwfilterDefineXML, FILTER)
    raises(libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_NWFILTER,
           "unsupported flags (0x2) in function nwfilterDefineXMLFlags",
           ctx.conn.nwfilterDefineXMLFlags, FILTER, 2)
    raises(libvirt.VIR_ERR_NO_NWFILTER_BINDING, libvirt.VIR_FROM_NWFILTER,
           "Network filter binding not found: no nwfilter binding for port dev 'nodev'",
           ctx.conn.nwfilterBindingLookupByPortDev, "nodev")


@test
def bindings(ctx):
    b = ctx.conn.nwfilterBindingCreateXML(BINDING, 0)
    eq((b.portDev(), b.filterName()), ("vnet0", "py-test"))
    eq([(x.portDev(), x.filterName()) for x in ctx.conn.listAllNWFilterBindings()],
       [("vnet0", "py-test")])
    xml = ctx.conn.nwfilterBindingLookupByPortDev("vnet0").XMLDesc(0)
    assert "<parameter name='MAC' value='52:54:00:12:34:56'/>" in xml, xml
    raises(libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_NWFILTER,
           "Requested operation is not valid: nwfilter is in use",
           ctx.conn.nwfilterLookupByName("py-test").undefine)


@test
def read_only(ctx):
    for uri in (ctx.d.ro_uri, ctx.d.uri):
        ro = libvirt.openReadOnly(uri)
        try:
            eq([x.name() for x in ro.listAllNWFilters()], ["py-test"])
            for fn, args, api in (
                    (ro.nwfilterDefineXML, (FILTER,), "virNWFilterDefineXML"),
                    (ro.nwfilterBindingCreateXML, (BINDING, 0), "virNWFilterBindingCreateXML"),
                    (ro.nwfilterLookupByName("py-test").undefine, (), "virNWFilterUndefine"),
                    (ro.nwfilterBindingLookupByPortDev("vnet0").delete, (),
                     "virNWFilterBindingDelete")):
                raises(libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_FROM_NWFILTER,
                       "operation forbidden: read only access prevents " + api, fn, *args)
        finally:
            ro.close()


@test
def teardown_objects(ctx):
    ctx.conn.nwfilterBindingLookupByPortDev("vnet0").delete()
    eq(ctx.conn.listAllNWFilterBindings(), [])
    ctx.conn.nwfilterLookupByUUIDString(ctx.uuid).undefine()
    eq(ctx.conn.listAllNWFilters(), [])


@test
def keepalive(ctx):
    # The client pings after every idle second and gives up after three
    # unanswered pings; the server's answers keep the connection alive.
    conn = libvirt.open(ctx.d.uri)
    try:
        eq(conn.setKeepAlive(1, 3), 0)
        time.sleep(6)
        eq(conn.isAlive(), 1)
        eq(conn.listAllNWFilters(), [])
        assert "keepalive PING, answering PONG" in ctx.d.log(), "no PING reached the daemon"
    finally:
        conn.close()


if __name__ == "__main__":
    require_root()
    sys.exit(run_tap(setup, teardown_context))
