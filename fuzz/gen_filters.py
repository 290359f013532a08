"""Random filter documents for the differential check (developer tool).

Each document has 1-4 entries: rules with 0-3 protocol elements whose
attributes mostly get values of the right type (sometimes a variable,
sometimes a wrong or malformed value), and now and then a filterref.

  python3 fuzz/gen_filters.py OUTDIR SEED COUNT
"""

import os
import random
import sys

IPC = ('srcmacaddr srcipaddr srcipmask dstipaddr dstipmask srcipfrom srcipto dstipfrom '
       'dstipto dscp connlimit-above state ipset ipsetflags comment').split()
PORTS = 'srcportstart srcportend dstportstart dstportend'.split()
MAC4 = 'srcmacaddr srcmacmask dstmacaddr dstmacmask'.split()
PROTOCOLS = {
    'mac': MAC4 + ['protocolid', 'comment'],
    'vlan': MAC4 + ['vlanid', 'encap-protocol', 'comment'],
    'stp': ['srcmacaddr', 'srcmacmask', 'type', 'flags', 'root-priority', 'root-priority-hi',
            'root-address', 'root-address-mask', 'root-cost', 'root-cost-hi', 'port', 'port-hi',
            'age', 'max-age-hi', 'comment'],
    'arp': MAC4 + ['hwtype', 'protocoltype', 'opcode', 'arpsrcmacaddr', 'arpsrcipaddr',
                   'arpsrcipmask', 'arpdstipaddr', 'gratuitous', 'comment'],
    'ip': MAC4 + ['srcipaddr', 'srcipmask', 'dstipaddr', 'protocol'] + PORTS + ['dscp', 'comment'],
    'ipv6': MAC4 + ['srcipaddr', 'dstipmask', 'protocol'] + PORTS + ['type', 'typeend', 'code',
                                                                    'codeend', 'comment'],
}
for name in ('tcp', 'udp', 'sctp', 'udplite', 'esp', 'ah', 'all', 'igmp', 'icmp'):
    attrs = IPC + (PORTS if name in ('tcp', 'udp', 'sctp') else [])
    attrs += ['option', 'flags'] if name == 'tcp' else []
    attrs += ['type', 'code'] if name == 'icmp' else []
    PROTOCOLS[name] = attrs
    if name != 'igmp':
        PROTOCOLS['icmpv6' if name == 'icmp' else name + '-ipv6'] = attrs

VALUES = {
    'mac': ['00:11:22:33:44:55', '0:1:2:A:B:C', 'FF:FF:FF:FF:FF:FF', '01:00:5e:0:0:1'],
    'macmask': ['ff:ff:ff:00:00:00', '0:0:0:0:0:0', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:fe'],
    'ip4': ['10.1.2.3', '10.1', '010.000.000.001', '192.168.0.255', '0x0a000001'],
    'ip4mask': ['0', '8', '24', '32', '255.255.255.128', '255.255.0.0'],
    'ip6': ['fe80::1', 'FE80::1', '::ffff:10.1.2.3', '::10.1.2.3', 'a:b:c::d:e:f', 'fe80::1%lo'],
    'ip6mask': ['0', '64', '128', 'ffff:ffff:ffff:ffff::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:8000'],
    'u8': ['0', '1', '63', '0x3f', 'ff', '010', ' 7', '+7'],
    'u16': ['0', '22', '0x50', 'ffff', '65535', '1024'],
    'u32': ['0', '-1', '4294967295', '0x11223344'],
    'state': ['NEW', 'new,established', 'NONE,NEW', 'NEW ESTABLISHED', 'RELATED,INVALID'],
    'tcpflags': ['SYN,ACK/SYN', 'ALL/NONE', 'syn fin/rst', 'PSH/', 'URG,ACK/ALL'],
    'ipset': ['myset', 'test:_.-+', 'a b', '$IPSETNAME'],
    'ipsetflags': ['src', 'SRC,dst', 'dst,dst,dst,dst,dst,src', '$F'],
    'bool': ['true', 'yes', '1', 'TRUE', 'maybe'],
    'comment': ['hello', 'a <b> & "c"', "it's", 'x' * 300],
    'ethertype': ['arp', 'RARP', 'ipv4', '0x86dd', '2048', '0x835', '2101', 'vlan'],
    'opcode': ['request', 'Reply', '0x2', '9', '10'],
    'ipproto': ['tcp', 'UDP', '0x11', '17', '99', '0x63', 'sctp', '33'],
    'vlanid': ['0', '4095', '0x10'],
}
BAD = ['', '256', '65536', '-1', '0x', 'abc', '7 ', '00-11-22-33-44-55', '1.2.3.256',
       '255.0.255.0', 'a:b:c', '129', 'BOGUS', 'SYN', 'src,', '$', '$IP[1]x', '$X[@1001]', '$ IP']
VARIABLES = ['$IP', '$A[@1]', '$B[2]', '$P[ @ 2 ]']


def kind(protocol, attr):
    v6 = protocol.endswith('-ipv6') or protocol in ('ipv6', 'icmpv6')
    if attr.endswith('macaddr') or attr == 'root-address':
        return 'mac'
    if attr.endswith('macmask') or attr == 'root-address-mask':
        return 'macmask'
    if attr in ('srcipaddr', 'dstipaddr', 'srcipfrom', 'srcipto', 'dstipfrom', 'dstipto'):
        return 'ip6' if v6 else 'ip4'
    if attr in ('arpsrcipaddr', 'arpdstipaddr'):
        return 'ip4'
    if attr.endswith('ipmask'):
        return 'ip6mask' if v6 and not attr.startswith('arp') else 'ip4mask'
    if attr == 'flags':
        return 'tcpflags' if protocol.startswith('tcp') else 'u8'
    if attr in ('type', 'typeend', 'code', 'codeend', 'dscp', 'option'):
        return 'u8'
    if attr.startswith('root-cost'):
        return 'u32'
    table = {'protocolid': 'ethertype', 'encap-protocol': 'ethertype', 'opcode': 'opcode',
             'protocol': 'ipproto', 'gratuitous': 'bool'}
    return table.get(attr, attr if attr in VALUES else 'u16')


def escape(text):
    return (text.replace('&', '&amp;').replace('<', '&lt;')
            .replace("'", '&apos;').replace('"', '&quot;'))


def value(rng, protocol, attr):
    r = rng.random()
    if r < 0.08:
        return rng.choice(BAD)
    if r < 0.18:
        return rng.choice(VARIABLES)
    return rng.choice(VALUES[kind(protocol, attr)])


def element(rng, protocol):
    attrs = PROTOCOLS[protocol]
    text = '<' + protocol
    if rng.random() < 0.3:
        text += " match='%s'" % rng.choice(['no', 'NO', 'yes'])
    for attr in rng.sample(attrs, rng.randint(0, min(5, len(attrs)))):
        text += " %s='%s'" % (attr, escape(value(rng, protocol, attr)))
    return text + '/>'


def rule(rng):
    protocol = rng.choice(list(PROTOCOLS))
    attrs = " action='%s' direction='%s'" % (
        rng.choice(['drop', 'accept', 'reject', 'return', 'continue', 'DROP']),
        rng.choice(['in', 'out', 'inout', 'IN']))
    if rng.random() < 0.5:
        attrs += " priority='%s'" % rng.choice(['-1000', '1000', '1001', 'abc', ' 7', '0x10'])
    if rng.random() < 0.2:
        attrs += " statematch='%s'" % rng.choice(['0', 'false', 'FALSE', 'no', 'true'])
    body = ''.join(element(rng, protocol if rng.random() < 0.8 else rng.choice(list(PROTOCOLS)))
                   for _ in range(rng.randint(0, 3)))
    return '<rule%s>%s</rule>' % (attrs, body)


def document(rng):
    chain = rng.choice(['', " chain='root'", " chain='mac'", " chain='stp-x'", " chain='ipv4'",
                        " chain='arp-xyz'", " chain='foo'", " chain='rootx'"])
    priority = rng.choice(['', '', " priority='-100'", " priority='abc'", " priority='0'"])
    entries = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.9:
            entries.append(rule(rng))
        else:
            entries.append("<filterref filter='x'><parameter name='%s' value='%s'/></filterref>"
                           % (rng.choice(['IP', 'A-B', 'x']), rng.choice(['1.2.3.4', 'a/b', ''])))
    return ("<filter name='f'%s%s><uuid>01a992d2-f8c8-7c27-f69b-ab0a9d377379</uuid>%s</filter>\n"
            % (chain, priority, ''.join(entries)))


def main():
    outdir, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    os.makedirs(outdir, exist_ok=True)
    for i in range(count):
        with open(os.path.join(outdir, '%05d.xml' % i), 'w') as f:
            f.write(document(rng))


if __name__ == '__main__':
    main()
