#include "config.h"

#include <string.h>

#include "conf/nwfilter_attrs.h"

#define NONE NWF_FIELD_LAST
#define NUM_DH (NWF_FORM_DEC | NWF_FORM_HEX)

#define A(f, t, forms, partner) { NWF_FIELD_##f, NWF_TYPE_##t, forms, partner }

/* Ethernet source/destination group; the masks follow their address only
 * where libvirt copies the negation (mac, vlan), not for arp or ip. */
#define MAC4(mp) \
    A(SRCMACADDR, MAC_ADDR, 0, NONE), \
    A(SRCMACMASK, MAC_MASK, 0, (mp) ? NWF_FIELD_SRCMACADDR : NONE), \
    A(DSTMACADDR, MAC_ADDR, 0, NONE), \
    A(DSTMACMASK, MAC_MASK, 0, (mp) ? NWF_FIELD_DSTMACADDR : NONE)

#define COMMENT A(COMMENT, STRING, 0, NONE)

static const NwfAttrSpec mac_attrs[] = {
    MAC4(TRUE),
    A(PROTOCOLID, UINT16, NUM_DH | NWF_FORM_NAME, NONE),
    COMMENT,
};

static const NwfAttrSpec vlan_attrs[] = {
    MAC4(TRUE),
    A(VLANID, UINT16, NUM_DH, NONE),
    A(ENCAP_PROTOCOL, UINT16, NUM_DH | NWF_FORM_NAME, NONE),
    COMMENT,
};

static const NwfAttrSpec stp_attrs[] = {
    A(SRCMACADDR, MAC_ADDR, 0, NONE),
    A(SRCMACMASK, MAC_MASK, 0, NWF_FIELD_SRCMACADDR),
    A(STP_TYPE, UINT8, NUM_DH, NONE),
    A(STP_FLAGS, UINT8, NUM_DH, NONE),
    A(ROOT_PRIORITY, UINT16, NUM_DH, NONE),
    A(ROOT_PRIORITY_HI, UINT16, NUM_DH, NWF_FIELD_ROOT_PRIORITY),
    A(ROOT_ADDRESS, MAC_ADDR, 0, NONE),
    A(ROOT_ADDRESS_MASK, MAC_MASK, 0, NWF_FIELD_ROOT_ADDRESS),
    A(ROOT_COST, UINT32, NUM_DH, NONE),
    A(ROOT_COST_HI, UINT32, NUM_DH, NWF_FIELD_ROOT_COST),
    A(SENDER_PRIORITY, UINT16, NUM_DH, NONE),
    A(SENDER_PRIORITY_HI, UINT16, NUM_DH, NWF_FIELD_SENDER_PRIORITY),
    A(SENDER_ADDRESS, MAC_ADDR, 0, NONE),
    A(SENDER_ADDRESS_MASK, MAC_MASK, 0, NWF_FIELD_SENDER_ADDRESS),
    A(PORT, UINT16, NUM_DH, NONE),
    A(PORT_HI, UINT16, NUM_DH, NWF_FIELD_PORT),
    A(AGE, UINT16, NUM_DH, NONE),
    A(AGE_HI, UINT16, NUM_DH, NWF_FIELD_AGE),
    A(MAX_AGE, UINT16, NUM_DH, NONE),
    A(MAX_AGE_HI, UINT16, NUM_DH, NWF_FIELD_MAX_AGE),
    A(HELLO_TIME, UINT16, NUM_DH, NONE),
    A(HELLO_TIME_HI, UINT16, NUM_DH, NWF_FIELD_HELLO_TIME),
    A(FORWARD_DELAY, UINT16, NUM_DH, NONE),
    A(FORWARD_DELAY_HI, UINT16, NUM_DH, NWF_FIELD_FORWARD_DELAY),
    COMMENT,
};

static const NwfAttrSpec arp_attrs[] = {
    MAC4(FALSE),
    A(HWTYPE, UINT16, NUM_DH, NONE),
    A(PROTOCOLTYPE, UINT16, NUM_DH, NONE),
    A(OPCODE, UINT16, NUM_DH | NWF_FORM_NAME, NONE),
    A(ARPSRCMACADDR, MAC_ADDR, 0, NONE),
    A(ARPDSTMACADDR, MAC_ADDR, 0, NONE),
    A(ARPSRCIPADDR, IPV4_ADDR, 0, NONE),
    A(ARPSRCIPMASK, IPV4_MASK, 0, NONE),
    A(ARPDSTIPADDR, IPV4_ADDR, 0, NONE),
    A(ARPDSTIPMASK, IPV4_MASK, 0, NONE),
    A(GRATUITOUS, BOOLEAN, 0, NONE),
    COMMENT,
};

#define PORTS(neg) \
    A(SRCPORTSTART, UINT16, NUM_DH, NONE), \
    A(SRCPORTEND, UINT16, NUM_DH, (neg) ? NWF_FIELD_SRCPORTSTART : NONE), \
    A(DSTPORTSTART, UINT16, NUM_DH, (neg) ? NWF_FIELD_SRCPORTSTART : NONE), \
    A(DSTPORTEND, UINT16, NUM_DH, (neg) ? NWF_FIELD_SRCPORTSTART : NONE)

static const NwfAttrSpec ip_attrs[] = {
    MAC4(FALSE),
    A(SRCIPADDR, IPV4_ADDR, 0, NONE),
    A(SRCIPMASK, IPV4_MASK, 0, NWF_FIELD_SRCIPADDR),
    A(DSTIPADDR, IPV4_ADDR, 0, NONE),
    A(DSTIPMASK, IPV4_MASK, 0, NWF_FIELD_DSTIPADDR),
    A(PROTOCOL, UINT8, NUM_DH | NWF_FORM_NAME, NONE),
    PORTS(FALSE),
    A(DSCP, UINT8, NUM_DH, NONE),
    COMMENT,
};

static const NwfAttrSpec ipv6_attrs[] = {
    MAC4(FALSE),
    A(SRCIPADDR, IPV6_ADDR, 0, NONE),
    A(SRCIPMASK, IPV6_MASK, 0, NWF_FIELD_SRCIPADDR),
    A(DSTIPADDR, IPV6_ADDR, 0, NONE),
    A(DSTIPMASK, IPV6_MASK, 0, NWF_FIELD_DSTIPADDR),
    A(PROTOCOL, UINT8, NUM_DH | NWF_FORM_NAME, NONE),
    PORTS(FALSE),
    A(ICMP_TYPE, UINT8, NUM_DH, NONE),
    A(ICMP_TYPEEND, UINT8, NUM_DH, NWF_FIELD_ICMP_TYPE),
    A(ICMP_CODE, UINT8, NUM_DH, NWF_FIELD_ICMP_TYPE),
    A(ICMP_CODEEND, UINT8, NUM_DH, NWF_FIELD_ICMP_TYPE),
    COMMENT,
};

/* The common group of every iptables-layer protocol. dstipto is typed IPv6
 * on the -ipv6 protocols here; the value parser still accepts IPv4 there,
 * as libvirt does. */
#define IPC(addr, mask) \
    A(SRCMACADDR, MAC_ADDR, 0, NONE), \
    A(SRCIPADDR, addr, 0, NONE), \
    A(SRCIPMASK, mask, 0, NWF_FIELD_SRCIPADDR), \
    A(DSTIPADDR, addr, 0, NONE), \
    A(DSTIPMASK, mask, 0, NWF_FIELD_DSTIPADDR), \
    A(SRCIPFROM, addr, 0, NONE), \
    A(SRCIPTO, addr, 0, NWF_FIELD_SRCIPFROM), \
    A(DSTIPFROM, addr, 0, NONE), \
    A(DSTIPTO, addr, 0, NWF_FIELD_DSTIPFROM), \
    A(DSCP, UINT8, NUM_DH, NONE), \
    A(CONNLIMIT_ABOVE, UINT16, NWF_FORM_DEC, NONE), \
    A(STATE, STATE, 0, NONE), \
    A(IPSET, IPSET_NAME, 0, NONE), \
    A(IPSETFLAGS, IPSET_FLAGS, 0, NONE)

#define IPC4 IPC(IPV4_ADDR, IPV4_MASK)
#define IPC6 IPC(IPV6_ADDR, IPV6_MASK)

#define TCP_ATTRS(ipc) \
    ipc, PORTS(TRUE), \
    A(TCP_OPTION, UINT8, NUM_DH, NONE), \
    A(TCP_FLAGS, TCP_FLAGS, 0, NONE), \
    COMMENT

#define ICMP_ATTRS(ipc) \
    ipc, \
    A(ICMP_TYPE, UINT8, NUM_DH, NONE), \
    A(ICMP_CODE, UINT8, NUM_DH, NWF_FIELD_ICMP_TYPE), \
    COMMENT

static const NwfAttrSpec tcp_attrs[] = { TCP_ATTRS(IPC4) };
static const NwfAttrSpec udp_attrs[] = { IPC4, PORTS(TRUE), COMMENT };
static const NwfAttrSpec plain4_attrs[] = { IPC4, COMMENT };
static const NwfAttrSpec icmp_attrs[] = { ICMP_ATTRS(IPC4) };

/* tcp-ipv6 accepts 'flags' too: libvirt drops it silently, which the spec
 * marks as a bug to fix. */
static const NwfAttrSpec tcp6_attrs[] = { TCP_ATTRS(IPC6) };
static const NwfAttrSpec udp6_attrs[] = { IPC6, PORTS(TRUE), COMMENT };
static const NwfAttrSpec plain6_attrs[] = { IPC6, COMMENT };
static const NwfAttrSpec icmp6_attrs[] = { ICMP_ATTRS(IPC6) };

typedef struct {
    const char *name;
    const NwfAttrSpec *attrs;
    guint n_attrs;
    NwfLayer layer;
} NwfProtocolInfo;

#define P(name, tbl, layer) { name, tbl, G_N_ELEMENTS(tbl), NWF_LAYER_##layer }

static const NwfProtocolInfo protocols[NWF_PROTO_LAST] = {
    [NWF_PROTO_NONE] = { "", NULL, 0, NWF_LAYER_ETHERNET },
    [NWF_PROTO_MAC] = P("mac", mac_attrs, ETHERNET),
    [NWF_PROTO_VLAN] = P("vlan", vlan_attrs, ETHERNET),
    [NWF_PROTO_STP] = P("stp", stp_attrs, ETHERNET),
    [NWF_PROTO_ARP] = P("arp", arp_attrs, ETHERNET),
    [NWF_PROTO_RARP] = P("rarp", arp_attrs, ETHERNET),
    [NWF_PROTO_IP] = P("ip", ip_attrs, ETHERNET),
    [NWF_PROTO_IPV6] = P("ipv6", ipv6_attrs, ETHERNET),
    [NWF_PROTO_TCP] = P("tcp", tcp_attrs, IPV4),
    [NWF_PROTO_ICMP] = P("icmp", icmp_attrs, IPV4),
    [NWF_PROTO_IGMP] = P("igmp", plain4_attrs, IPV4),
    [NWF_PROTO_UDP] = P("udp", udp_attrs, IPV4),
    [NWF_PROTO_UDPLITE] = P("udplite", plain4_attrs, IPV4),
    [NWF_PROTO_ESP] = P("esp", plain4_attrs, IPV4),
    [NWF_PROTO_AH] = P("ah", plain4_attrs, IPV4),
    [NWF_PROTO_SCTP] = P("sctp", udp_attrs, IPV4),
    [NWF_PROTO_ALL] = P("all", plain4_attrs, IPV4),
    [NWF_PROTO_TCP_IPV6] = P("tcp-ipv6", tcp6_attrs, IPV6),
    [NWF_PROTO_ICMPV6] = P("icmpv6", icmp6_attrs, IPV6),
    [NWF_PROTO_UDP_IPV6] = P("udp-ipv6", udp6_attrs, IPV6),
    [NWF_PROTO_UDPLITE_IPV6] = P("udplite-ipv6", plain6_attrs, IPV6),
    [NWF_PROTO_ESP_IPV6] = P("esp-ipv6", plain6_attrs, IPV6),
    [NWF_PROTO_AH_IPV6] = P("ah-ipv6", plain6_attrs, IPV6),
    [NWF_PROTO_SCTP_IPV6] = P("sctp-ipv6", udp6_attrs, IPV6),
    [NWF_PROTO_ALL_IPV6] = P("all-ipv6", plain6_attrs, IPV6),
};

static const char *const field_names[NWF_FIELD_LAST] = {
    [NWF_FIELD_SRCMACADDR] = "srcmacaddr",
    [NWF_FIELD_SRCMACMASK] = "srcmacmask",
    [NWF_FIELD_DSTMACADDR] = "dstmacaddr",
    [NWF_FIELD_DSTMACMASK] = "dstmacmask",
    [NWF_FIELD_PROTOCOLID] = "protocolid",
    [NWF_FIELD_VLANID] = "vlanid",
    [NWF_FIELD_ENCAP_PROTOCOL] = "encap-protocol",
    [NWF_FIELD_STP_TYPE] = "type",
    [NWF_FIELD_STP_FLAGS] = "flags",
    [NWF_FIELD_ROOT_PRIORITY] = "root-priority",
    [NWF_FIELD_ROOT_PRIORITY_HI] = "root-priority-hi",
    [NWF_FIELD_ROOT_ADDRESS] = "root-address",
    [NWF_FIELD_ROOT_ADDRESS_MASK] = "root-address-mask",
    [NWF_FIELD_ROOT_COST] = "root-cost",
    [NWF_FIELD_ROOT_COST_HI] = "root-cost-hi",
    [NWF_FIELD_SENDER_PRIORITY] = "sender-priority",
    [NWF_FIELD_SENDER_PRIORITY_HI] = "sender-priority-hi",
    [NWF_FIELD_SENDER_ADDRESS] = "sender-address",
    [NWF_FIELD_SENDER_ADDRESS_MASK] = "sender-address-mask",
    [NWF_FIELD_PORT] = "port",
    [NWF_FIELD_PORT_HI] = "port-hi",
    [NWF_FIELD_AGE] = "age",
    [NWF_FIELD_AGE_HI] = "age-hi",
    [NWF_FIELD_MAX_AGE] = "max-age",
    [NWF_FIELD_MAX_AGE_HI] = "max-age-hi",
    [NWF_FIELD_HELLO_TIME] = "hello-time",
    [NWF_FIELD_HELLO_TIME_HI] = "hello-time-hi",
    [NWF_FIELD_FORWARD_DELAY] = "forward-delay",
    [NWF_FIELD_FORWARD_DELAY_HI] = "forward-delay-hi",
    [NWF_FIELD_HWTYPE] = "hwtype",
    [NWF_FIELD_PROTOCOLTYPE] = "protocoltype",
    [NWF_FIELD_OPCODE] = "opcode",
    [NWF_FIELD_ARPSRCMACADDR] = "arpsrcmacaddr",
    [NWF_FIELD_ARPDSTMACADDR] = "arpdstmacaddr",
    [NWF_FIELD_ARPSRCIPADDR] = "arpsrcipaddr",
    [NWF_FIELD_ARPSRCIPMASK] = "arpsrcipmask",
    [NWF_FIELD_ARPDSTIPADDR] = "arpdstipaddr",
    [NWF_FIELD_ARPDSTIPMASK] = "arpdstipmask",
    [NWF_FIELD_GRATUITOUS] = "gratuitous",
    [NWF_FIELD_SRCIPADDR] = "srcipaddr",
    [NWF_FIELD_SRCIPMASK] = "srcipmask",
    [NWF_FIELD_DSTIPADDR] = "dstipaddr",
    [NWF_FIELD_DSTIPMASK] = "dstipmask",
    [NWF_FIELD_SRCIPFROM] = "srcipfrom",
    [NWF_FIELD_SRCIPTO] = "srcipto",
    [NWF_FIELD_DSTIPFROM] = "dstipfrom",
    [NWF_FIELD_DSTIPTO] = "dstipto",
    [NWF_FIELD_PROTOCOL] = "protocol",
    [NWF_FIELD_SRCPORTSTART] = "srcportstart",
    [NWF_FIELD_SRCPORTEND] = "srcportend",
    [NWF_FIELD_DSTPORTSTART] = "dstportstart",
    [NWF_FIELD_DSTPORTEND] = "dstportend",
    [NWF_FIELD_DSCP] = "dscp",
    [NWF_FIELD_ICMP_TYPE] = "type",
    [NWF_FIELD_ICMP_TYPEEND] = "typeend",
    [NWF_FIELD_ICMP_CODE] = "code",
    [NWF_FIELD_ICMP_CODEEND] = "codeend",
    [NWF_FIELD_CONNLIMIT_ABOVE] = "connlimit-above",
    [NWF_FIELD_STATE] = "state",
    [NWF_FIELD_IPSET] = "ipset",
    [NWF_FIELD_IPSETFLAGS] = "ipsetflags",
    [NWF_FIELD_TCP_OPTION] = "option",
    [NWF_FIELD_TCP_FLAGS] = "flags",
    [NWF_FIELD_COMMENT] = "comment",
};

typedef struct {
    guint32 value;
    const char *name;
} NwfNamedNumber;

static const NwfNamedNumber ethertypes[] = {
    { 0x0806, "arp" }, { 0x8035, "rarp" }, { 0x0800, "ipv4" },
    { 0x86dd, "ipv6" }, { 0x8100, "vlan" }, { 0, NULL },
};

static const NwfNamedNumber arp_opcodes[] = {
    { 1, "Request" }, { 2, "Reply" }, { 3, "Request_Reverse" },
    { 4, "Reply_Reverse" }, { 5, "DRARP_Request" }, { 6, "DRARP_Reply" },
    { 7, "DRARP_Error" }, { 8, "InARP_Request" }, { 9, "ARP_NAK" },
    { 0, NULL },
};

static const NwfNamedNumber ip_protocols[] = {
    { 6, "tcp" }, { 17, "udp" }, { 136, "udplite" }, { 50, "esp" },
    { 51, "ah" }, { 1, "icmp" }, { 2, "igmp" }, { 132, "sctp" },
    { 58, "icmpv6" }, { 0, NULL },
};

static const NwfNamedNumber *
named_numbers_for(NwfField field)
{
    switch (field) {
    case NWF_FIELD_PROTOCOLID:
    case NWF_FIELD_ENCAP_PROTOCOL:
        return ethertypes;
    case NWF_FIELD_OPCODE:
        return arp_opcodes;
    case NWF_FIELD_PROTOCOL:
        return ip_protocols;
    default:
        return NULL;
    }
}

gboolean
nwf_field_name_to_number(NwfField field, const char *name, guint32 *value)
{
    const NwfNamedNumber *map = named_numbers_for(field);

    for (; map && map->name; map++) {
        if (g_ascii_strcasecmp(map->name, name) == 0) {
            *value = map->value;
            return TRUE;
        }
    }
    return FALSE;
}

const char *
nwf_field_number_to_name(NwfField field, guint32 value)
{
    const NwfNamedNumber *map = named_numbers_for(field);

    for (; map && map->name; map++) {
        if (map->value == value)
            return map->name;
    }
    return NULL;
}

const NwfAttrSpec *
nwf_protocol_attrs(NwfProtocol protocol, guint *n_out)
{
    g_return_val_if_fail(protocol < NWF_PROTO_LAST, NULL);
    *n_out = protocols[protocol].n_attrs;
    return protocols[protocol].attrs;
}

const NwfAttrSpec *
nwf_protocol_attr(NwfProtocol protocol, NwfField field)
{
    guint n = 0;
    const NwfAttrSpec *attrs;

    if (protocol >= NWF_PROTO_LAST)
        return NULL;
    attrs = nwf_protocol_attrs(protocol, &n);
    for (guint i = 0; i < n; i++) {
        if (attrs[i].field == field)
            return &attrs[i];
    }
    return NULL;
}

NwfProtocol
nwf_protocol_from_name(const char *name)
{
    for (int p = NWF_PROTO_MAC; p < NWF_PROTO_LAST; p++) {
        if (strcmp(protocols[p].name, name) == 0)
            return (NwfProtocol)p;
    }
    return NWF_PROTO_LAST;
}

gboolean
nwf_protocol_is_l3(NwfProtocol protocol)
{
    return protocol < NWF_PROTO_LAST && protocols[protocol].layer != NWF_LAYER_ETHERNET;
}

const char *
nwf_protocol_name(NwfProtocol protocol)
{
    g_return_val_if_fail(protocol < NWF_PROTO_LAST, "");
    return protocols[protocol].name;
}

NwfLayer
nwf_protocol_layer(NwfProtocol protocol)
{
    g_return_val_if_fail(protocol < NWF_PROTO_LAST, NWF_LAYER_ETHERNET);
    return protocols[protocol].layer;
}

const char *
nwf_field_name(NwfField field)
{
    g_return_val_if_fail(field < NWF_FIELD_LAST, "");
    return field_names[field];
}

gboolean
nwf_protocol_has_field(NwfProtocol protocol, NwfField field)
{
    return nwf_protocol_attr(protocol, field) != NULL;
}

NwfDataType
nwf_protocol_field_type(NwfProtocol protocol, NwfField field)
{
    const NwfAttrSpec *spec = nwf_protocol_attr(protocol, field);

    g_return_val_if_fail(spec != NULL, NWF_TYPE_STRING);
    return spec->type;
}

const char *
nwf_action_name(NwfAction action)
{
    static const char *const names[NWF_ACTION_LAST] = {
        "drop", "accept", "reject", "return", "continue",
    };
    g_return_val_if_fail(action < NWF_ACTION_LAST, "");
    return names[action];
}

const char *
nwf_direction_name(NwfDirection direction)
{
    switch (direction) {
    case NWF_DIR_IN: return "in";
    case NWF_DIR_OUT: return "out";
    case NWF_DIR_INOUT: return "inout";
    }
    g_return_val_if_reached("");
}

const char *
nwf_chain_kind_prefix(NwfChainKind kind)
{
    static const char *const names[] = {
        "root", "mac", "vlan", "stp", "arp", "rarp", "ipv4", "ipv6",
    };
    g_return_val_if_fail((guint)kind < G_N_ELEMENTS(names), "");
    return names[kind];
}
