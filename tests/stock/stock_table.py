"""What each stock filter must contain, transcribed from
spec/nwfilter-semantics.md section 9.7 (behaviour column), with the chain
defaults of section 1.2 and the dumpxml rules of sections 1.4 and 9.6.

Facts the section 9.7 table leaves open (the priorities of rules it does not
number, the exact addresses of the qemu announcement) were checked against
the filters of the Debian package libvirt-daemon-config-nwfilter 9.0.0.

Deliberate difference from the spec text: section 9.7 gives no-ip-spoofing's
"return src == $IP" rule priority 501 and its drop priority 999. libvirt 9.0
(the Debian package and upstream) ships 500 and 1000, like the sibling
no-ipv6-spoofing filter, so the table below follows libvirt.

qemu-announce-self-rarp: only the 'out' rule matches the frame's source MAC
against $MAC; the 'in' rule checks the RARP payload MACs, the addresses and
the broadcast destination but not the frame's source MAC. That is how
libvirt 9.0 ships it; section 9.7 summarizes both rules in one line.

Each filter maps to (chain, printed chain priority or None, entries). An
entry is ('ref', FILTER) or ('rule', ACTION, DIRECTION, PRIORITY, PROTOCOL,
ATTRIBUTES) where PROTOCOL is the protocol element's name, or None for a rule
without one, and ATTRIBUTES holds every attribute of that element in dumpxml
form.
"""


def ref(name):
    return ('ref', name)


def rule(action, direction, priority, element=None, **attrs):
    return ('rule', action, direction, priority, element, attrs)


DHCP_REQUEST = dict(srcipaddr='0.0.0.0', dstipaddr='255.255.255.255',
                    protocol='udp', srcportstart='68', dstportstart='67')
DHCPV6_REQUEST = dict(srcipaddr='fe80::', srcipmask='10',
                      dstipaddr='ff02::1:2', protocol='udp',
                      srcportstart='546', dstportstart='547')
RARP_ANNOUNCE = dict(dstmacaddr='ff:ff:ff:ff:ff:ff', opcode='Request_Reverse',
                     arpsrcmacaddr='$MAC', arpdstmacaddr='$MAC',
                     arpsrcipaddr='0.0.0.0', arpdstipaddr='0.0.0.0')

STOCK = {
    'no-mac-spoofing': ('mac', '-800', [
        rule('return', 'out', 500, 'mac', srcmacaddr='$MAC'),
        rule('drop', 'out', 500, 'mac'),
    ]),
    'no-ip-spoofing': ('ipv4-ip', '-710', [
        rule('return', 'out', 100, 'ip', srcipaddr='0.0.0.0', protocol='udp'),
        rule('return', 'out', 500, 'ip', srcipaddr='$IP'),
        rule('drop', 'out', 1000),
    ]),
    'no-ipv6-spoofing': ('ipv6-ip', '-610', [
        rule('return', 'out', 100, 'ipv6', srcipaddr='fe80::',
             srcipmask='10', protocol='udp'),
        rule('return', 'out', 500, 'ipv6', srcipaddr='$IPV6'),
        rule('drop', 'out', 1000),
    ]),
    'no-arp-mac-spoofing': ('arp-mac', '-520', [
        rule('return', 'out', 350, 'arp', arpsrcmacaddr='$MAC'),
        rule('drop', 'out', 1000),
    ]),
    'no-arp-ip-spoofing': ('arp-ip', '-510', [
        rule('return', 'out', 400, 'arp', arpsrcipaddr='$IP'),
        rule('drop', 'out', 1000),
    ]),
    'no-arp-spoofing': ('root', None, [
        ref('no-arp-mac-spoofing'),
        ref('no-arp-ip-spoofing'),
    ]),
    'allow-arp': ('arp', '-500', [rule('accept', 'inout', 500)]),
    'allow-ipv4': ('ipv4', '-700', [rule('accept', 'inout', 500)]),
    'allow-ipv6': ('ipv6', '-600', [rule('accept', 'inout', 500)]),
    'allow-incoming-ipv4': ('ipv4', '-700', [rule('accept', 'in', 500)]),
    'allow-incoming-ipv6': ('ipv6', '-600', [rule('accept', 'in', 500)]),
    'allow-dhcp': ('ipv4', '-700', [
        rule('accept', 'out', 100, 'ip', **DHCP_REQUEST),
        rule('accept', 'in', 100, 'ip', protocol='udp', srcportstart='67',
             dstportstart='68'),
    ]),
    'allow-dhcp-server': ('ipv4', '-700', [
        rule('accept', 'out', 100, 'ip', **DHCP_REQUEST),
        rule('accept', 'in', 100, 'ip', srcipaddr='$DHCPSERVER',
             protocol='udp', srcportstart='67', dstportstart='68'),
    ]),
    'allow-dhcpv6': ('ipv6', '-600', [
        rule('accept', 'out', 100, 'ipv6', **DHCPV6_REQUEST),
        rule('accept', 'in', 100, 'ipv6', protocol='udp', srcportstart='547',
             dstportstart='546'),
    ]),
    'allow-dhcpv6-server': ('ipv6', '-600', [
        rule('accept', 'out', 100, 'ipv6', **DHCPV6_REQUEST),
        rule('accept', 'in', 100, 'ipv6', srcipaddr='$DHCPSERVER',
             protocol='udp', srcportstart='547', dstportstart='546'),
    ]),
    'no-ip-multicast': ('ipv4', '-700', [
        rule('drop', 'out', 500, 'ip', dstipaddr='224.0.0.0', dstipmask='4'),
    ]),
    'no-ipv6-multicast': ('ipv6', '-600', [
        rule('drop', 'out', 500, 'ipv6', dstipaddr='ff00::', dstipmask='8'),
    ]),
    # A mac rule in the ipv4 chain: it only ever sees IPv4 frames
    # (enforcement-findings.md).
    'no-mac-broadcast': ('ipv4', '-700', [
        rule('drop', 'out', 500, 'mac', dstmacaddr='ff:ff:ff:ff:ff:ff'),
    ]),
    'no-other-l2-traffic': ('root', None, [rule('drop', 'inout', 1000)]),
    'no-other-rarp-traffic': ('rarp', '-400', [rule('drop', 'inout', 1000)]),
    'qemu-announce-self-rarp': ('rarp', '-400', [
        rule('accept', 'out', 500, 'rarp', srcmacaddr='$MAC',
             **RARP_ANNOUNCE),
        rule('accept', 'in', 500, 'rarp', **RARP_ANNOUNCE),
    ]),
    'qemu-announce-self': ('root', None, [
        rule('accept', 'out', 500, 'mac', protocolid='0x835'),
        ref('qemu-announce-self-rarp'),
        ref('no-other-rarp-traffic'),
    ]),
    'clean-traffic': ('root', None, [
        ref('no-mac-spoofing'),
        ref('no-ip-spoofing'),
        rule('accept', 'out', -650, 'mac', protocolid='ipv4'),
        ref('allow-incoming-ipv4'),
        ref('no-arp-spoofing'),
        rule('accept', 'inout', -500, 'mac', protocolid='arp'),
        ref('no-other-l2-traffic'),
        ref('qemu-announce-self'),
    ]),
    'clean-traffic-gateway': ('root', None, [
        ref('no-mac-spoofing'),
        ref('no-ip-spoofing'),
        ref('no-arp-spoofing'),
        rule('accept', 'inout', -500, 'mac', protocolid='arp'),
        rule('accept', 'in', 500, 'mac', srcmacaddr='$GATEWAY_MAC'),
        rule('accept', 'out', 500, 'mac', dstmacaddr='$GATEWAY_MAC'),
        ref('no-other-l2-traffic'),
        ref('qemu-announce-self'),
    ]),
}
