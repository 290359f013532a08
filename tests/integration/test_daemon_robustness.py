#!/usr/bin/env python3
"""nwfilterd under abuse and load, with the real driver and backend:
hostile frames, 10,000 idle connections, a client that never reads,
50 concurrent libvirt clients (no descriptor or memory growth after they
leave), and 50 kill -9 / restart cycles in the middle of changes (every
acknowledged change survives, the kernel matches the bindings).

Usage: test_daemon_robustness.py --backend=NAME (TAP output)."""

import os
import random
import resource
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

import libvirt

sys.path.insert(0, os.path.dirname(__file__))
from nwfd_harness import (NWFILTERD, STOCK, Daemon, Netns, backend_from_argv, daemon_usage, eq,  # noqa: E402
                          kernel_ports, require_root, run_tap, teardown_context, test, virsh)

BACKEND = backend_from_argv()
REMOTE = 0x20008086
PORTS = ["cr%d" % i for i in range(5)]


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


def message(proc, serial, payload=b"", prog=REMOTE, vers=1, mtype=0, status=0):
    body = struct.pack(">IIiIII", prog, vers, proc, mtype, serial, status) + payload
    return struct.pack(">I", len(body) + 4) + body


def recv_message(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    (length,) = struct.unpack(">I", head)
    body = b""
    while len(body) < length - 4:
        chunk = s.recv(length - 4 - len(body))
        if not chunk:
            return None
        body += chunk
    prog, vers, proc, mtype, serial, status = struct.unpack(">IIiIII", body[:24])
    return {"proc": proc, "serial": serial, "status": status, "payload": body[24:]}


def connect(path, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A blocking connect waits for room in the listen backlog.
    s.connect(path)
    s.settimeout(timeout)
    return s


def handshake(s):
    """AUTH_LIST, OPEN; returns the next serial."""
    s.sendall(message(66, 0))
    eq(recv_message(s)["status"], 0)
    s.sendall(message(1, 1, struct.pack(">I", 1) + xdr_string("nwfilter:///system")
                      + struct.pack(">I", 0)))
    eq(recv_message(s)["status"], 0)
    return 2


def sanitized():
    """Whether nwfilterd was built with AddressSanitizer: its quarantine
    keeps freed memory resident, so RSS says nothing about leaks there
    (LeakSanitizer checks those at exit instead)."""
    with open(NWFILTERD, "rb") as f:
        return b"__asan_init" in f.read()


def check_growth(before, after, limit, what):
    if sanitized():
        print("# %s: RSS not checked in an ASan build" % what)
        return
    assert after - before < limit, "%s: daemon grew by %d KiB" % (what, after - before)


def served(ctx):
    rc, out, err = virsh(ctx.d.uri, "nwfilter-binding-list")
    eq(rc, 0, "virsh after abuse: " + err)


def setup(ctx):
    libvirt.registerErrorHandler(lambda *_: None, None)
    ctx.tmp = tempfile.mkdtemp(prefix="nwf-rpc-robust-")
    ctx.ns = Netns("robust")
    for port in PORTS:
        ctx.ns.run("ip", "link", "add", port, "type", "veth", "peer", "name", port + "p")
        ctx.ns.run("ip", "link", "set", port, "up")
    ctx.d = Daemon(ctx.ns, BACKEND, root=os.path.join(ctx.tmp, "d"))
    ctx.d.start()
    for name in ("clean-traffic", "no-mac-spoofing", "no-ip-spoofing", "no-arp-spoofing",
                 "no-arp-mac-spoofing", "no-arp-ip-spoofing", "allow-incoming-ipv4",
                 "no-other-l2-traffic", "qemu-announce-self", "qemu-announce-self-rarp",
                 "no-other-rarp-traffic"):
        rc, out, err = virsh(ctx.d.uri, "nwfilter-define", os.path.join(STOCK, name + ".xml"))
        eq(rc, 0, err)


@test
def hostile_frames(ctx):
    for length in (0, 3, 27, 0x02000005, 0x80000000, 0xFFFFFFFF):
        s = connect(ctx.d.rw)
        s.sendall(struct.pack(">I", length) + b"\0" * 60)
        eq(s.recv(1), b"", "connection with length word %#x not closed" % length)
        s.close()
    # A frame cut short by a hang-up, and one left hanging.
    full = message(66, 0)
    for n in range(1, len(full)):
        s = connect(ctx.d.rw)
        s.sendall(full[:n])
        s.close()
    hanging = connect(ctx.d.rw)
    hanging.sendall(full[:10])
    # Undecodable payloads, unknown procedure/program/version: answered.
    s = connect(ctx.d.rw)
    serial = handshake(s)
    for msg in (message(175, serial, struct.pack(">I", 1000) + b"abc"),
                message(9999, serial + 1), message(66, serial + 2, vers=2),
                message(1, serial + 3, prog=0x12345678)):
        s.sendall(msg)
        reply = recv_message(s)
        eq(reply["status"], 1, "error reply")
    s.close()
    served(ctx)
    hanging.sendall(full[10:])
    eq(recv_message(hanging)["status"], 0)
    hanging.close()


def settled_fds(pid):
    """The daemon's descriptor count once connections that are closing
    (asynchronously, on its side) are gone."""
    last = daemon_usage(pid)[0]
    for _ in range(50):
        time.sleep(0.2)
        now = daemon_usage(pid)[0]
        if now == last:
            return now
        last = now
    return last


@test
def idle_connections(ctx):
    want = 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    want = min(want, hard - 200)
    assert want >= 1000, "descriptor limit too low: %d" % hard
    print("# %d idle connections" % want)
    base_fds = settled_fds(ctx.d.proc.pid)
    socks = []
    try:
        for _ in range(want):
            socks.append(connect(ctx.d.rw))
        start = time.monotonic()
        served(ctx)
        took = time.monotonic() - start
        print("# virsh with %d idle connections open: %.2f s" % (want, took))
        assert took < 3, "virsh took %.1f s" % took
        fds, _ = daemon_usage(ctx.d.proc.pid)
        assert fds >= want, "daemon holds %d fds for %d connections" % (fds, want)
    finally:
        for s in socks:
            s.close()
    for _ in range(100):
        if daemon_usage(ctx.d.proc.pid)[0] == base_fds:
            break
        time.sleep(0.1)
    eq(daemon_usage(ctx.d.proc.pid)[0], base_fds, "daemon descriptors after the idle clients left")


@test
def never_reads(ctx):
    _, rss_before = daemon_usage(ctx.d.proc.pid)
    s = connect(ctx.d.rw)
    serial = handshake(s)
    s.setblocking(False)
    call = message(286, 0, struct.pack(">iI", 1, 0))
    sent = 0
    stalled = 0
    while stalled < 20:
        try:
            s.send(message(286, serial + sent, struct.pack(">iI", 1, 0)))
            sent += 1
            stalled = 0
        except BlockingIOError:
            stalled += 1
            time.sleep(0.05)
    del call
    served(ctx)
    _, rss = daemon_usage(ctx.d.proc.pid)
    print("# %d calls pipelined without reading; daemon RSS %d -> %d KiB" % (sent, rss_before, rss))
    check_growth(rss_before, rss, 16384, "client that never reads")
    s.close()
    served(ctx)


def load_client(uri, n, calls, failures):
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as e:
        failures.append("open: %s" % e)
        return
    name = "load-%d" % n
    xml = "<filter name='%s' chain='ipv4'><rule action='drop' direction='in'><ip srcipaddr='192.0.2.%d'/></rule></filter>"
    binding = ("<filterbinding><owner><name>vm%d</name><uuid>00000000-0000-4000-8000-%012d</uuid>"
               "</owner><portdev name='ld%d'/><mac address='52:54:00:00:01:%02x'/>"
               "<filterref filter='%s'/></filterbinding>" % (n, n, n, n, name))
    try:
        for i in range(calls):
            step = i % 10
            if step == 0:
                # A redefinition carries the uuid, as dumpxml gives it.
                try:
                    current = conn.nwfilterLookupByName(name).XMLDesc(0)
                except libvirt.libvirtError:
                    current = xml % (name, n)
                conn.nwfilterDefineXML(current)
            elif step in (1, 5):
                conn.nwfilterLookupByName(name).XMLDesc(0)
            elif step in (2, 6):
                conn.listAllNWFilters()
            elif step == 3:
                conn.nwfilterBindingCreateXML(binding, 0)
            elif step == 4:
                conn.nwfilterBindingLookupByPortDev("ld%d" % n).XMLDesc(0)
            elif step == 7:
                conn.listAllNWFilterBindings()
            elif step == 8:
                conn.nwfilterBindingLookupByPortDev("ld%d" % n).delete()
            else:
                conn.nwfilterLookupByUUID(conn.nwfilterLookupByName(name).UUID())
    except libvirt.libvirtError as e:
        failures.append("%s call %d: %s" % (name, i, e))
    finally:
        conn.close()


def load_round(uri, calls):
    failures = []
    threads = [threading.Thread(target=load_client, args=(uri, n, calls, failures))
               for n in range(50)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures, time.monotonic() - start


@test
def load(ctx):
    pid = ctx.d.proc.pid
    # A warm-up round with every kind of call once per client, so the
    # measured round starts from a heap that has seen all of them.
    failures, took = load_round(ctx.d.uri, 10)
    eq(failures, [], "failures in the warm-up round")
    fds1 = settled_fds(pid)
    rss1 = daemon_usage(pid)[1]
    failures, took = load_round(ctx.d.uri, 100)
    eq(failures, [], "failures in the measured round")
    fds2 = settled_fds(pid)
    rss2 = daemon_usage(pid)[1]
    print("# 50 clients x 100 calls: %.2f s (%.0f calls/s); fds %d -> %d, RSS %d -> %d KiB"
          % (took, 5000 / took, fds1, fds2, rss1, rss2))
    eq(fds2, fds1, "daemon descriptors after the measured round")
    check_growth(rss1, rss2, 4096, "measured load round")
    conn = libvirt.open(ctx.d.uri)
    try:
        for n in range(50):
            conn.nwfilterLookupByName("load-%d" % n).undefine()
    finally:
        conn.close()


def binding_xml(port, ip):
    return ("<filterbinding><owner><name>vm-%s</name>"
            "<uuid>11111111-2222-4333-8444-55555555555%d</uuid></owner>"
            "<portdev name='%s'/><mac address='52:54:00:00:02:0%d'/>"
            "<filterref filter='clean-traffic'><parameter name='IP' value='%s'/></filterref>"
            "</filterbinding>" % (port, int(port[2:]), port, int(port[2:]), ip))


class Model:
    """What the daemon acknowledged; names with a call in flight at the
    kill are uncertain until the next acknowledged call settles them."""

    def __init__(self):
        self.filters = {}        # name -> marker value acknowledged
        self.bindings = {}       # port -> ip acknowledged (None: deleted)
        self.uncertain = set()


def burst(uri, model, rng, stop):
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return
    try:
        while not stop.is_set():
            if rng.random() < 0.5:
                name = "crash-%d" % rng.randrange(4)
                value = rng.randrange(1, 250)
                try:
                    xml = conn.nwfilterLookupByName(name).XMLDesc(0)
                    xml = xml.split("<rule", 1)[0] + (
                        "<rule action='drop' direction='in' priority='500'>"
                        "<ip srcipaddr='192.0.2.%d'/></rule></filter>" % value)
                except libvirt.libvirtError:
                    xml = ("<filter name='%s' chain='ipv4'><rule action='drop' direction='in' "
                           "priority='500'><ip srcipaddr='192.0.2.%d'/></rule></filter>"
                           % (name, value))
                model.uncertain.add(("f", name))
                conn.nwfilterDefineXML(xml)
                model.filters[name] = value
                model.uncertain.discard(("f", name))
            else:
                port = rng.choice(PORTS)
                key = ("b", port)
                model.uncertain.add(key)
                if model.bindings.get(port):
                    conn.nwfilterBindingLookupByPortDev(port).delete()
                    model.bindings[port] = None
                else:
                    ip = "10.1.0.%d" % rng.randrange(1, 250)
                    conn.nwfilterBindingCreateXML(binding_xml(port, ip), 0)
                    model.bindings[port] = ip
                model.uncertain.discard(key)
    except libvirt.libvirtError:
        pass
    finally:
        try:
            conn.close()
        except libvirt.libvirtError:
            pass


def settle(conn, model):
    """Bring uncertain names to a known state after a restart."""
    for kind, name in list(model.uncertain):
        if kind == "f":
            try:
                xml = conn.nwfilterLookupByName(name).XMLDesc(0)
                model.filters[name] = int(xml.split("192.0.2.", 1)[1].split("'", 1)[0])
            except libvirt.libvirtError:
                model.filters.pop(name, None)
        else:
            try:
                xml = conn.nwfilterBindingLookupByPortDev(name).XMLDesc(0)
                model.bindings[name] = xml.split("name='IP' value='", 1)[1].split("'", 1)[0]
            except libvirt.libvirtError:
                model.bindings[name] = None
        model.uncertain.discard((kind, name))


@test
def kill9_cycles(ctx):
    rng = random.Random(20261124)
    model = Model()
    for cycle in range(50):
        stop = threading.Event()
        t = threading.Thread(target=burst, args=(ctx.d.uri, model, rng, stop))
        t.start()
        time.sleep(rng.uniform(0.0, 0.3))
        ctx.d.stop(signal.SIGKILL)
        stop.set()
        t.join(30)
        ctx.d.start()
        try:
            conn = libvirt.open(ctx.d.uri)
        except libvirt.libvirtError as e:
            raise AssertionError("cycle %d: connecting after the restart: %s" % (cycle, e))
        try:
            # Every file of the config dir loaded: the daemon lists all.
            names = set(conn.listNWFilters())
            for name, value in model.filters.items():
                if ("f", name) in model.uncertain:
                    continue
                assert name in names, "cycle %d: acknowledged filter %s lost" % (cycle, name)
                xml = conn.nwfilterLookupByName(name).XMLDesc(0)
                assert "192.0.2.%d'" % value in xml, "cycle %d: %s lost its last change" % (cycle, name)
            live = {b.portDev() for b in conn.listAllNWFilterBindings()}
            for port, ip in model.bindings.items():
                if ("b", port) in model.uncertain:
                    continue
                eq(port in live, ip is not None, "cycle %d: binding %s" % (cycle, port))
            settle(conn, model)
        finally:
            conn.close()
        eq(kernel_ports(ctx.ns, BACKEND, PORTS), {p for p in PORTS if model.bindings.get(p)},
           "cycle %d: the ports with kernel rules" % cycle)
    files = [f for f in os.listdir(ctx.d.config_dir) if not f.endswith(".xml")]
    eq(files, [], "stray files in the config dir")


if __name__ == "__main__":
    require_root()
    sys.exit(run_tap(setup, teardown_context))
