#!/usr/bin/env python3
"""Our schema must accept exactly the attribute values our parser accepts
and keeps. For each (element, attribute) below, every value is put in a
one-rule filter, checked with xmllint against docs/schemas/nwfilter.rng and
run through `nwfilter format`; the two verdicts must agree, and a value the
schema accepts must still be in the formatted output. The few deliberate
differences are listed with their reason and asserted as such. One TAP case
per attribute."""

import os
import sys
import tempfile
from xml.sax.saxutils import quoteattr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import Tap, run_tool, source_root, tool_missing_commands, tool_path  # noqa: E402
from test_schemas import xmllint_batch  # noqa: E402

VALUES = [
    ('ip', 'srcipaddr', ['10.0.0.1', '10.1', '0x0a.0.0.1', '010.0.0.1',
                         '08.0.0.1', '1.2.3', '1.2.3.256', '0', '10.0.0.1 ',
                         ' 10.0.0.1', 'a.b.c.d', '1..2.3']),
    ('ip', 'srcipmask', ['0', '32', '33', '255.255.255.0', '255.0.255.0',
                         ' 24', '+24', '024', '24 ', '0.0.0.0']),
    ('ipv6', 'srcipaddr', ['::', '::1', 'fe80::1%eth0', '::ffff:1.2.3.4',
                           '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', 'FE80::',
                           '1::2::3', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4',
                           '::256.1.1.1', '::01.2.3.4', '10.0.0.1', 'a:b:c']),
    ('ipv6', 'srcipmask', ['0', '128', '129', 'ffff::', 'FFFF:ffff::',
                           'ffff:0:0:0:0:0:0:0', '::', 'fffe::', 'f000::',
                           'ffff:0:ffff::', '+64', '064']),
    ('mac', 'srcmacaddr', ['1:2:3:4:5:6', '01:02:03:04:05:06',
                           '001:2:3:4:5:6', '1:2:3:4:5', '1-2-3-4-5-6',
                           'AA:BB:CC:DD:EE:FF', ' 1:2:3:4:5:6']),
    ('mac', 'srcmacmask', ['ff:ff:ff:ff:ff:ff', '0:0:0:0:0:0',
                           'ff:0:0:0:0:0', 'f0:0:0:0:0:0', 'f:0:0:0:0:0',
                           '80:0:0:0:0:0', 'ff:80:0:0:0:0', 'ff:ff:0:ff:0:0',
                           '01:00:00:00:00:00']),
    ('mac', 'protocolid', ['arp', 'ARP', 'Vlan', '0x600', '0x5ff', '1536',
                           '1535', 'ffff', '600', '6ff', '5ff', '0xffff',
                           '0x10000', '65535', '65536', ' 1536', '+1536',
                           '1536 ', 'abc', '0600', '0x0600', 'fff', 'dead']),
    ('vlan', 'vlanid', ['0', '4095', '4096', '0xfff', '0x1000', 'fff', 'abc',
                        '0x0', '+5', ' 5', '5 ']),
    ('vlan', 'encap-protocol', ['60', '59', '0x3c', '0x3b', '3c', '3b', 'arp',
                                'ipv6', 'ffff', '65535', '65536', '100',
                                'abc', '4f', '0x10000']),
    ('arp', 'opcode', ['Request', 'request', 'REQUEST', 'reply_reverse',
                       'ARP_NAK', '1', '9', '10', '65535', '65536', '0x2',
                       'ff', 'foo']),
    ('arp', 'gratuitous', ['true', 'yes', '1', 'false', 'no', '0', 'TRUE',
                           'maybe']),
    ('ip', 'protocol', ['tcp', 'TCP', 'icmpv6', '255', '256', '0x11', 'ff',
                        '100', 'dccp', '6']),
    ('ip', 'dscp', ['0', '63', '64', '3f', '40', '0x3f', '0x40', '+5', ' 5',
                    '5 ', '-1', '010']),
    ('tcp', 'srcportstart', ['0', '65535', '65536', 'ffff', '10000', 'fffff',
                             '0x10000', ' 5', '5 ', '+5', '-1', '010', '0x']),
    ('tcp', 'connlimit-above', ['5', '65535', '65536', '0x5', 'ff', ' 5',
                                '+5']),
    ('stp', 'root-cost', ['0', '4294967295', '4294967296', '-1',
                          '-4294967295', 'ffffffff', '100000000',
                          '0xffffffff', '+1']),
    ('stp', 'type', ['0', '255', '256', 'ff', '100', '0x100', '-1']),
    ('icmp', 'type', ['255', '256', 'ff', '0x100']),
    ('tcp', 'state', ['NEW', 'new', 'NEW,ESTABLISHED', 'NEW ESTABLISHED',
                      'NONE', 'NEW,,ESTABLISHED', ',NEW', 'NEW,', 'FOO',
                      'NEWESTABLISHED', 'NEW , RELATED', '', ',']),
    ('tcp', 'flags', ['SYN/SYN', 'SYN,ACK/SYN', 'syn/ack', 'ALL/NONE', 'SYN',
                      '/SYN', 'SYN/', 'SYN ACK/SYN', 'SYN,,ACK/SYN',
                      'SYN/SYN/SYN', 'FOO/SYN']),
    ('tcp', 'ipset', ['a', 'a b', 'a-b', 'a' * 31, 'a' * 32, 'a/b', 'a$b']),
    ('all', 'ipsetflags', ['src', 'SRC', 'src,dst', 'src,dst,src,dst,src,dst',
                           'src,dst,src,dst,src,dst,src', 'src dst', 'src,',
                           '']),
    ('ip', 'srcipaddr', ['$IP', '$IP[@3]', '$IP[ @ 3 ]', '$IP[1]',
                         '$IP[@1000]', '$IP[@1001]', '$ IP', '$IP-x', '$',
                         '$IP[1] ', '$_', '$1a', '$IP[@01000]', '$IP[ 2 ]',
                         '$IP[]', '$IP[@]']),
    ('tcp', 'comment', ['x', 'a' * 256, 'a' * 257, '<&>']),
]

# (element, attribute, value) -> (schema verdict, parser verdict, reason)
DELIBERATE = {
    ('arp', 'gratuitous', 'TRUE'):
        (False, True, 'the parser reads anything but true/yes/1 as false'),
    ('arp', 'gratuitous', 'maybe'):
        (False, True, 'the parser reads anything but true/yes/1 as false'),
    ('tcp', 'comment', 'a' * 257):
        (False, True, 'the parser truncates comments to 256 characters'),
    ('tcp', 'state', ''):
        (False, True, "an empty state set means nothing; it prints as ''"),
    ('tcp', 'state', ','):
        (False, True, "an empty state set means nothing; it prints as ''"),
}


def document(element, attribute, value):
    # ipsetflags is only kept together with ipset; 'all' keeps both as given.
    extra = " ipset='s'" if attribute == 'ipsetflags' else ''
    return ("<filter name='p' chain='root'>\n"
            "  <rule action='accept' direction='out' priority='500'>\n"
            f"    <{element}{extra} {attribute}={quoteattr(value)}/>\n"
            "  </rule>\n</filter>\n")


def main():
    tap = Tap()
    tool = tool_path()
    missing = tool_missing_commands(tool, ['format'])
    schema = os.path.join(source_root(), 'docs', 'schemas', 'nwfilter.rng')
    tmp = tempfile.TemporaryDirectory(prefix='nwf-stock-agree-')

    paths = {}
    for element, attribute, values in VALUES:
        for value in values:
            path = os.path.join(tmp.name, f'v{len(paths):03d}.xml')
            with open(path, 'w', encoding='utf-8') as f:
                f.write(document(element, attribute, value))
            paths[(element, attribute, value)] = path
    verdicts = xmllint_batch(schema, list(paths.values()))

    for element, attribute, values in VALUES:
        label = f'schema and parser agree on <{element} {attribute}>'
        if missing:
            why = 'nwfilter tool lacks format'
            if os.environ.get('CI') == 'true':
                tap.case(label, [why])
            else:
                tap.case(label, [], skip=why)
            continue
        problems = []
        for value in values:
            key = (element, attribute, value)
            schema_ok = verdicts[paths[key]][0]
            res = run_tool(tool, 'format', paths[key])
            parser_ok = res.returncode == 0
            kept = f' {attribute}=' in res.stdout
            if key in DELIBERATE:
                want_schema, want_parser, reason = DELIBERATE[key]
                if (schema_ok, parser_ok) != (want_schema, want_parser):
                    problems.append(f'{value!r}: schema={schema_ok} '
                                    f'parser={parser_ok}, expected '
                                    f'{want_schema}/{want_parser} ({reason})')
            elif schema_ok != parser_ok:
                problems.append(f'{value!r}: schema={schema_ok} '
                                f'parser={parser_ok}')
            elif schema_ok and not kept:
                problems.append(f'{value!r}: accepted by both, but the '
                                f'parser drops it: {res.stdout.strip()}')
        tap.case(label, problems)
    tmp.cleanup()
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
