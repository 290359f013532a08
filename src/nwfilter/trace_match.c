/* Rule-against-frame matching, one function per kernel match. A match that
 * needs a header the frame lacks does not match, negated or not, as in the
 * kernel (the header check comes before the inversion). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "nwfilter/trace_match.h"

static const guint8 stp_bga[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };

static const NwfValue *
field(const NwfRuleInst *rule, NwfField f)
{
    const NwfValue *value = nwf_rule_field(rule, f);

    return value->present ? value : NULL;
}

/* COND, inverted when the rule said match='no' for this attribute. */
static gboolean
inv(const NwfValue *value, gboolean cond)
{
    return value->negated ? !cond : cond;
}

static gboolean
any_field(const NwfRuleInst *rule, const NwfField *fields, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        if (nwf_rule_field(rule, fields[i])->present)
            return TRUE;
    }
    return FALSE;
}

static gboolean
mac_masked_equal(const guint8 *pkt, const guint8 *addr, const guint8 *mask)
{
    for (guint i = 0; i < 6; i++) {
        guint8 m = mask ? mask[i] : 0xff;
        if ((pkt[i] & m) != (addr[i] & m))
            return FALSE;
    }
    return TRUE;
}

static gboolean
ipv4_prefix_equal(const void *pkt, const struct in_addr *addr, guint prefix)
{
    guint32 a, b, m;

    memcpy(&a, pkt, 4);
    a = ntohl(a);
    b = ntohl(addr->s_addr);
    m = prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
    return (a & m) == (b & m);
}

static gboolean
ipv6_prefix_equal(const struct in6_addr *pkt, const struct in6_addr *addr, guint prefix)
{
    for (guint i = 0; i < 16; i++) {
        guint bits = prefix > i * 8 ? MIN(prefix - i * 8, 8u) : 0;
        guint8 m = (guint8)(bits == 0 ? 0 : 0xff << (8 - bits));
        if ((pkt->s6_addr[i] & m) != (addr->s6_addr[i] & m))
            return FALSE;
    }
    return TRUE;
}

static gboolean
in_range(guint v, const NwfValue *lo, const NwfValue *hi)
{
    return v >= lo->u.num && v <= (hi ? hi->u.num : lo->u.num);
}

/* --- ethernet layer ---------------------------------------------------- */

/* ebtables -s/-d with an optional mask */
static gboolean
match_eth_header(const NwfRuleInst *rule, const NwfTracePacket *pkt)
{
    const NwfValue *src = field(rule, NWF_FIELD_SRCMACADDR);
    const NwfValue *dst = field(rule, NWF_FIELD_DSTMACADDR);
    const NwfValue *smask = field(rule, NWF_FIELD_SRCMACMASK);
    const NwfValue *dmask = field(rule, NWF_FIELD_DSTMACMASK);

    if (src && !inv(src, mac_masked_equal(pkt->src, src->u.mac, smask ? smask->u.mac : NULL)))
        return FALSE;
    if (dst && !inv(dst, mac_masked_equal(pkt->dst, dst->u.mac, dmask ? dmask->u.mac : NULL)))
        return FALSE;
    return TRUE;
}

/* libvirt's ebtables rules give --vlan-encap the number in decimal, and
 * ebtables reads it as hex: encap-protocol='2048' matches type 0x2048. */
static gboolean
vlan_encap_value(const NwfValue *encap, const NwfTraceOptions *opt, guint *out)
{
    g_autofree char *digits = NULL;
    guint64 v;

    if (opt->backend != NWF_TRACE_BACKEND_EBIPTABLES) {
        *out = encap->u.num;
        return TRUE;
    }
    digits = g_strdup_printf("%u", encap->u.num);
    v = g_ascii_strtoull(digits, NULL, 16);
    *out = (guint)v;
    return v <= G_MAXUINT16;
}

static gboolean
match_vlan(const NwfRuleInst *rule, const NwfTracePacket *pkt, const NwfTraceOptions *opt)
{
    const NwfValue *id = field(rule, NWF_FIELD_VLANID);
    const NwfValue *encap = field(rule, NWF_FIELD_ENCAP_PROTOCOL);
    guint encap_type;

    if (pkt->ethertype != NWF_TRACE_ETHERTYPE_VLAN)
        return FALSE;
    if (!id && !encap)
        return TRUE;
    if (!pkt->vlan)
        return FALSE;
    if (id && !inv(id, pkt->vlan_id == id->u.num))
        return FALSE;
    if (!encap)
        return TRUE;
    return vlan_encap_value(encap, opt, &encap_type) &&
           inv(encap, pkt->inner_type == encap_type);
}

/* Where each BPDU field sits, in bytes from the LLC header's first byte,
 * in the real layout: LLC 42 42 03, protocol id (2), version, type, flags,
 * root id (priority 2, address 6), root cost (4), sender id (priority 2,
 * address 6), port, message age, max age, hello time, forward delay (2
 * each). */
static const struct {
    NwfField lo, hi;
    guint offset, width;
    gboolean mac;
} stp_fields[] = {
    { NWF_FIELD_STP_FLAGS, NWF_FIELD_LAST, 7, 1, FALSE },
    { NWF_FIELD_ROOT_PRIORITY, NWF_FIELD_ROOT_PRIORITY_HI, 8, 2, FALSE },
    { NWF_FIELD_ROOT_ADDRESS, NWF_FIELD_ROOT_ADDRESS_MASK, 10, 6, TRUE },
    { NWF_FIELD_ROOT_COST, NWF_FIELD_ROOT_COST_HI, 16, 4, FALSE },
    { NWF_FIELD_SENDER_PRIORITY, NWF_FIELD_SENDER_PRIORITY_HI, 20, 2, FALSE },
    { NWF_FIELD_SENDER_ADDRESS, NWF_FIELD_SENDER_ADDRESS_MASK, 22, 6, TRUE },
    { NWF_FIELD_PORT, NWF_FIELD_PORT_HI, 28, 2, FALSE },
    { NWF_FIELD_AGE, NWF_FIELD_AGE_HI, 30, 2, FALSE },
    { NWF_FIELD_MAX_AGE, NWF_FIELD_MAX_AGE_HI, 32, 2, FALSE },
    { NWF_FIELD_HELLO_TIME, NWF_FIELD_HELLO_TIME_HI, 34, 2, FALSE },
    { NWF_FIELD_FORWARD_DELAY, NWF_FIELD_FORWARD_DELAY_HI, 36, 2, FALSE },
};
#define STP_TYPE_OFFSET 6
#define STP_CONFIG_END 38

static gboolean
stp_field_match(const NwfRuleInst *rule, guint i, const guint8 *at)
{
    const NwfValue *lo = field(rule, stp_fields[i].lo);
    const NwfValue *hi = stp_fields[i].hi < NWF_FIELD_LAST ? field(rule, stp_fields[i].hi) : NULL;
    guint value = 0;

    if (stp_fields[i].mac)
        return inv(lo, mac_masked_equal(at, lo->u.mac, hi ? hi->u.mac : NULL));
    for (guint b = 0; b < stp_fields[i].width; b++)
        value = (value << 8) | at[b];
    return inv(lo, in_range(value, lo, hi));
}

/* ebt_stp compares six bytes 42 42 03 00 00 00, so the version byte must
 * be 0, and reads the type and every configuration field one byte earlier
 * than the real layout: its "type" is the version byte, its "flags" the
 * real type, and so on. The nft rules read the real layout after checking
 * the LLC header only. */
static gboolean
match_stp_bpdu(const NwfRuleInst *rule, const NwfTracePacket *pkt, const NwfTraceOptions *opt)
{
    static const guint8 llc_head[6] = { 0x42, 0x42, 0x03, 0x00, 0x00, 0x00 };
    gboolean ebt = opt->backend == NWF_TRACE_BACKEND_EBIPTABLES;
    guint shift = ebt ? 1 : 0;
    gsize len;
    const guint8 *data = g_bytes_get_data(pkt->frame, &len);
    const guint8 *llc = data + pkt->l3_offset;
    gsize avail = len - pkt->l3_offset;
    const NwfValue *type = field(rule, NWF_FIELD_STP_TYPE);
    gboolean config = FALSE;

    if (avail < (ebt ? 6u : 3u) || memcmp(llc, llc_head, ebt ? 6 : 3) != 0)
        return FALSE;
    if (type) {
        if (avail <= STP_TYPE_OFFSET - shift)
            return FALSE;
        if (!inv(type, type->u.num == llc[STP_TYPE_OFFSET - shift]))
            return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(stp_fields); i++)
        config |= field(rule, stp_fields[i].lo) != NULL;
    /* ebtables reads the configuration part whole, or not at all */
    if (config && ebt && avail < STP_CONFIG_END - shift)
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(stp_fields); i++) {
        guint at = stp_fields[i].offset - shift;
        if (!field(rule, stp_fields[i].lo))
            continue;
        if (avail < at + stp_fields[i].width || !stp_field_match(rule, i, llc + at))
            return FALSE;
    }
    return TRUE;
}

static gboolean
match_stp(const NwfRuleInst *rule, const NwfTracePacket *pkt, const NwfTraceOptions *opt)
{
    static const NwfField stp_all[] = {
        NWF_FIELD_STP_TYPE, NWF_FIELD_STP_FLAGS, NWF_FIELD_ROOT_PRIORITY, NWF_FIELD_ROOT_ADDRESS,
        NWF_FIELD_ROOT_COST, NWF_FIELD_SENDER_PRIORITY, NWF_FIELD_SENDER_ADDRESS, NWF_FIELD_PORT,
        NWF_FIELD_AGE, NWF_FIELD_MAX_AGE, NWF_FIELD_HELLO_TIME, NWF_FIELD_FORWARD_DELAY,
    };

    if (memcmp(pkt->dst, stp_bga, 6) != 0)
        return FALSE;
    return !any_field(rule, stp_all, G_N_ELEMENTS(stp_all)) || match_stp_bpdu(rule, pkt, opt);
}

static gboolean
arp_ip_match(const NwfRuleInst *rule, NwfField addr_f, NwfField mask_f, const guint8 *pkt_ip)
{
    const NwfValue *addr = field(rule, addr_f);
    const NwfValue *mask = field(rule, mask_f);

    return !addr || inv(addr, ipv4_prefix_equal(pkt_ip, &addr->u.ipv4, mask ? mask->u.num : 32));
}

static gboolean
match_arp(const NwfRuleInst *rule, const NwfTracePacket *pkt, guint16 ethertype)
{
    static const NwfField arp_fields[] = {
        NWF_FIELD_HWTYPE, NWF_FIELD_PROTOCOLTYPE, NWF_FIELD_OPCODE, NWF_FIELD_ARPSRCMACADDR,
        NWF_FIELD_ARPDSTMACADDR, NWF_FIELD_ARPSRCIPADDR, NWF_FIELD_ARPDSTIPADDR,
    };
    const NwfValue *grat = field(rule, NWF_FIELD_GRATUITOUS);
    const NwfValue *v;
    gboolean want_grat = grat && grat->u.num;
    gboolean want_ip = want_grat || field(rule, NWF_FIELD_ARPSRCIPADDR) ||
                       field(rule, NWF_FIELD_ARPDSTIPADDR);

    if (pkt->ethertype != ethertype)
        return FALSE;
    if (!want_grat && !any_field(rule, arp_fields, G_N_ELEMENTS(arp_fields)))
        return TRUE;
    if (pkt->l3 != NWF_TRACE_L3_ARP)
        return FALSE;
    if ((v = field(rule, NWF_FIELD_OPCODE)) && !inv(v, pkt->arp.op == v->u.num))
        return FALSE;
    if ((v = field(rule, NWF_FIELD_HWTYPE)) && !inv(v, pkt->arp.htype == v->u.num))
        return FALSE;
    if ((v = field(rule, NWF_FIELD_PROTOCOLTYPE)) && !inv(v, pkt->arp.ptype == v->u.num))
        return FALSE;
    if (want_ip) {
        if (pkt->arp.plen != 4 || pkt->arp.ptype != NWF_TRACE_ETHERTYPE_IPV4 || !pkt->arp.complete)
            return FALSE;
        if (!arp_ip_match(rule, NWF_FIELD_ARPSRCIPADDR, NWF_FIELD_ARPSRCIPMASK, pkt->arp.spa) ||
            !arp_ip_match(rule, NWF_FIELD_ARPDSTIPADDR, NWF_FIELD_ARPDSTIPMASK, pkt->arp.tpa))
            return FALSE;
        if (want_grat && !inv(grat, memcmp(pkt->arp.spa, pkt->arp.tpa, 4) == 0))
            return FALSE;
    }
    if (field(rule, NWF_FIELD_ARPSRCMACADDR) || field(rule, NWF_FIELD_ARPDSTMACADDR)) {
        if (pkt->arp.hlen != 6 || pkt->arp.htype != 1 || !pkt->arp.complete)
            return FALSE;
        if ((v = field(rule, NWF_FIELD_ARPSRCMACADDR)) &&
            !inv(v, memcmp(pkt->arp.sha, v->u.mac, 6) == 0))
            return FALSE;
        if ((v = field(rule, NWF_FIELD_ARPDSTMACADDR)) &&
            !inv(v, memcmp(pkt->arp.tha, v->u.mac, 6) == 0))
            return FALSE;
    }
    return TRUE;
}

static gboolean
ip_addr_match(const NwfRuleInst *rule, NwfField addr_f, NwfField mask_f,
              const NwfTracePacket *pkt, gboolean src)
{
    const NwfValue *addr = field(rule, addr_f);
    const NwfValue *mask = field(rule, mask_f);
    gboolean eq;

    if (!addr)
        return TRUE;
    if (pkt->l3 == NWF_TRACE_L3_IPV4) {
        if (addr->type != NWF_TYPE_IPV4_ADDR)
            return FALSE;
        eq = ipv4_prefix_equal(src ? &pkt->ip.src4 : &pkt->ip.dst4, &addr->u.ipv4,
                               mask ? mask->u.num : 32);
    } else {
        if (addr->type != NWF_TYPE_IPV6_ADDR)
            return FALSE;
        eq = ipv6_prefix_equal(src ? &pkt->ip.src6 : &pkt->ip.dst6, &addr->u.ipv6,
                               mask ? mask->u.num : 128);
    }
    return inv(addr, eq);
}

/* ebt_ip / ebt_ip6 */
static gboolean
match_ebt_ip(const NwfRuleInst *rule, const NwfTracePacket *pkt)
{
    static const NwfField ip_fields[] = {
        NWF_FIELD_SRCIPADDR, NWF_FIELD_DSTIPADDR, NWF_FIELD_PROTOCOL, NWF_FIELD_SRCPORTSTART,
        NWF_FIELD_DSTPORTSTART, NWF_FIELD_DSCP, NWF_FIELD_ICMP_TYPE, NWF_FIELD_ICMP_TYPEEND,
        NWF_FIELD_ICMP_CODE, NWF_FIELD_ICMP_CODEEND,
    };
    static const NwfField icmp_fields[] = {
        NWF_FIELD_ICMP_TYPE, NWF_FIELD_ICMP_TYPEEND, NWF_FIELD_ICMP_CODE, NWF_FIELD_ICMP_CODEEND,
    };
    gboolean v6 = rule->protocol == NWF_PROTO_IPV6;
    const NwfValue *proto = field(rule, NWF_FIELD_PROTOCOL);
    const NwfValue *sport = field(rule, NWF_FIELD_SRCPORTSTART);
    const NwfValue *dport = field(rule, NWF_FIELD_DSTPORTSTART);
    gboolean icmp = v6 && any_field(rule, icmp_fields, G_N_ELEMENTS(icmp_fields));
    const NwfValue *v;

    if (pkt->ethertype != (v6 ? NWF_TRACE_ETHERTYPE_IPV6 : NWF_TRACE_ETHERTYPE_IPV4))
        return FALSE;
    if (!any_field(rule, ip_fields, G_N_ELEMENTS(ip_fields)))
        return TRUE;
    if (pkt->l3 != (v6 ? NWF_TRACE_L3_IPV6 : NWF_TRACE_L3_IPV4))
        return FALSE;
    if (!v6 && (v = field(rule, NWF_FIELD_DSCP)) && !inv(v, pkt->ip.tos == v->u.num))
        return FALSE;
    if (!ip_addr_match(rule, NWF_FIELD_SRCIPADDR, NWF_FIELD_SRCIPMASK, pkt, TRUE) ||
        !ip_addr_match(rule, NWF_FIELD_DSTIPADDR, NWF_FIELD_DSTIPMASK, pkt, FALSE))
        return FALSE;
    if (!proto)
        return TRUE;
    if (!pkt->ip.proto_found || !inv(proto, pkt->ip.proto == proto->u.num))
        return FALSE;
    if (!sport && !dport && !icmp)
        return TRUE;
    if ((!v6 && pkt->ip.fragment) || !pkt->l4.have_ports)
        return FALSE;
    if (dport && !inv(dport, in_range(pkt->l4.dport, dport,
                                      field(rule, NWF_FIELD_DSTPORTEND))))
        return FALSE;
    if (sport && !inv(sport, in_range(pkt->l4.sport, sport,
                                      field(rule, NWF_FIELD_SRCPORTEND))))
        return FALSE;
    if (icmp) {
        /* the rendering's defaults: a missing start is 0, a missing end is
         * the start when given, else 255; the negation is the type's */
        const NwfValue *t = field(rule, NWF_FIELD_ICMP_TYPE);
        const NwfValue *te = field(rule, NWF_FIELD_ICMP_TYPEEND);
        const NwfValue *c = field(rule, NWF_FIELD_ICMP_CODE);
        const NwfValue *ce = field(rule, NWF_FIELD_ICMP_CODEEND);
        guint tlo = t ? t->u.num : 0, thi = te ? te->u.num : (t ? t->u.num : 255);
        guint clo = c ? c->u.num : 0, chi = ce ? ce->u.num : (c ? c->u.num : 255);
        guint type = pkt->l4.sport >> 8, code = pkt->l4.sport & 0xff;
        gboolean hit = type >= tlo && type <= thi && code >= clo && code <= chi;
        if (t ? !inv(t, hit) : !hit)
            return FALSE;
    }
    return TRUE;
}

gboolean
nwf_trace_match_eth(const NwfRuleInst *rule, const NwfTracePacket *pkt,
                    const NwfTraceOptions *opt)
{
    const NwfValue *v;

    if (rule->protocol != NWF_PROTO_STP && !match_eth_header(rule, pkt))
        return FALSE;
    switch (rule->protocol) {
    case NWF_PROTO_NONE:
        return TRUE;
    case NWF_PROTO_MAC:
        v = field(rule, NWF_FIELD_PROTOCOLID);
        return !v || inv(v, pkt->ethertype == v->u.num);
    case NWF_PROTO_VLAN:
        return match_vlan(rule, pkt, opt);
    case NWF_PROTO_STP:
        /* only the source MAC of the header is matchable */
        if ((v = field(rule, NWF_FIELD_SRCMACADDR))) {
            const NwfValue *mask = field(rule, NWF_FIELD_SRCMACMASK);
            if (!inv(v, mac_masked_equal(pkt->src, v->u.mac, mask ? mask->u.mac : NULL)))
                return FALSE;
        }
        return match_stp(rule, pkt, opt);
    case NWF_PROTO_ARP:
        return match_arp(rule, pkt, NWF_TRACE_ETHERTYPE_ARP);
    case NWF_PROTO_RARP:
        return match_arp(rule, pkt, NWF_TRACE_ETHERTYPE_RARP);
    case NWF_PROTO_IP:
    case NWF_PROTO_IPV6:
        return match_ebt_ip(rule, pkt);
    default:
        return FALSE;
    }
}

gboolean
nwf_trace_match_jump(NwfChainKind kind, const NwfTracePacket *pkt)
{
    switch (kind) {
    case NWF_CHAIN_STP:
        return memcmp(pkt->dst, stp_bga, 6) == 0;
    case NWF_CHAIN_VLAN:
        return pkt->ethertype == NWF_TRACE_ETHERTYPE_VLAN;
    case NWF_CHAIN_ARP:
        return pkt->ethertype == NWF_TRACE_ETHERTYPE_ARP;
    case NWF_CHAIN_RARP:
        return pkt->ethertype == NWF_TRACE_ETHERTYPE_RARP;
    case NWF_CHAIN_IPV4:
        return pkt->ethertype == NWF_TRACE_ETHERTYPE_IPV4;
    case NWF_CHAIN_IPV6:
        return pkt->ethertype == NWF_TRACE_ETHERTYPE_IPV6;
    case NWF_CHAIN_MAC:
    case NWF_CHAIN_ROOT:
    default:
        return TRUE;
    }
}

/* --- IP layer ---------------------------------------------------------- */

static int
ipt_protocol_number(NwfProtocol protocol)
{
    switch (protocol) {
    case NWF_PROTO_TCP: case NWF_PROTO_TCP_IPV6: return IPPROTO_TCP;
    case NWF_PROTO_UDP: case NWF_PROTO_UDP_IPV6: return IPPROTO_UDP;
    case NWF_PROTO_UDPLITE: case NWF_PROTO_UDPLITE_IPV6: return IPPROTO_UDPLITE;
    case NWF_PROTO_ESP: case NWF_PROTO_ESP_IPV6: return IPPROTO_ESP;
    case NWF_PROTO_AH: case NWF_PROTO_AH_IPV6: return IPPROTO_AH;
    case NWF_PROTO_SCTP: case NWF_PROTO_SCTP_IPV6: return IPPROTO_SCTP;
    case NWF_PROTO_ICMP: return IPPROTO_ICMP;
    case NWF_PROTO_ICMPV6: return IPPROTO_ICMPV6;
    case NWF_PROTO_IGMP: return IPPROTO_IGMP;
    default: return -1;           /* all, all-ipv6 */
    }
}

static gboolean
addr_le(const NwfTracePacket *pkt, const NwfValue *a, const void *b_raw, gboolean a_first)
{
    int cmp;

    if (pkt->l3 == NWF_TRACE_L3_IPV4) {
        guint32 x = ntohl(a->u.ipv4.s_addr), y;
        memcpy(&y, b_raw, 4);
        y = ntohl(y);
        cmp = x < y ? -1 : x > y ? 1 : 0;
    } else {
        cmp = memcmp(a->u.ipv6.s6_addr, b_raw, 16);
    }
    return a_first ? cmp <= 0 : cmp >= 0;
}

/* -s/-d A[/len], or -m iprange when only a range is given */
static gboolean
ipt_addr_match(const NwfRuleInst *rule, const NwfTracePacket *pkt, gboolean src)
{
    const NwfValue *from = field(rule, src ? NWF_FIELD_SRCIPFROM : NWF_FIELD_DSTIPFROM);
    const NwfValue *to = field(rule, src ? NWF_FIELD_SRCIPTO : NWF_FIELD_DSTIPTO);
    NwfDataType family = pkt->l3 == NWF_TRACE_L3_IPV4 ? NWF_TYPE_IPV4_ADDR : NWF_TYPE_IPV6_ADDR;
    const void *pkt_addr;

    if (field(rule, src ? NWF_FIELD_SRCIPADDR : NWF_FIELD_DSTIPADDR))
        return ip_addr_match(rule, src ? NWF_FIELD_SRCIPADDR : NWF_FIELD_DSTIPADDR,
                             src ? NWF_FIELD_SRCIPMASK : NWF_FIELD_DSTIPMASK, pkt, src);
    if (!from)
        return TRUE;
    if (from->type != family || (to && to->type != family))
        return FALSE;
    if (pkt->l3 == NWF_TRACE_L3_IPV4)
        pkt_addr = src ? (const void *)&pkt->ip.src4 : (const void *)&pkt->ip.dst4;
    else
        pkt_addr = src ? (const void *)&pkt->ip.src6 : (const void *)&pkt->ip.dst6;
    return inv(from, addr_le(pkt, from, pkt_addr, TRUE) &&
                     addr_le(pkt, to ? to : from, pkt_addr, FALSE));
}

static gboolean
tcp_has_option(const NwfTracePacket *pkt, guint kind)
{
    const guint8 *op = pkt->l4.tcp_options;
    guint len = pkt->l4.tcp_options_len;

    for (guint i = 0; i < len;) {
        if (op[i] == kind)
            return TRUE;
        if (op[i] < 2 || i + 1 >= len)
            i++;
        else
            i += op[i + 1] ? op[i + 1] : 1;
    }
    return FALSE;
}

/* The xt_tcpudp / xt_sctp part: ports, TCP flags and options. */
static gboolean
match_ipt_ports(const NwfRuleInst *rule, const NwfTracePacket *pkt)
{
    const NwfValue *sport = field(rule, NWF_FIELD_SRCPORTSTART);
    const NwfValue *dport = field(rule, NWF_FIELD_DSTPORTSTART);
    const NwfValue *flags = field(rule, NWF_FIELD_TCP_FLAGS);
    const NwfValue *option = field(rule, NWF_FIELD_TCP_OPTION);
    gboolean tcp = rule->protocol == NWF_PROTO_TCP || rule->protocol == NWF_PROTO_TCP_IPV6;

    if (!tcp)
        flags = option = NULL;
    if (!sport && !dport && !flags && !option)
        return TRUE;
    if (pkt->ip.fragment || !pkt->l4.have_ports || (tcp && !pkt->l4.have_tcp))
        return FALSE;
    if (sport && !inv(sport, in_range(pkt->l4.sport, sport, field(rule, NWF_FIELD_SRCPORTEND))))
        return FALSE;
    if (dport && !inv(dport, in_range(pkt->l4.dport, dport, field(rule, NWF_FIELD_DSTPORTEND))))
        return FALSE;
    if (flags && !inv(flags, (pkt->l4.tcp_flags & flags->u.tcp_flags.mask) ==
                                 flags->u.tcp_flags.flags))
        return FALSE;
    return !option || inv(option, tcp_has_option(pkt, option->u.num));
}

static gboolean
match_ipt_icmp(const NwfRuleInst *rule, const NwfTracePacket *pkt)
{
    const NwfValue *type = field(rule, NWF_FIELD_ICMP_TYPE);
    const NwfValue *code = field(rule, NWF_FIELD_ICMP_CODE);

    if (!type || (rule->protocol != NWF_PROTO_ICMP && rule->protocol != NWF_PROTO_ICMPV6))
        return TRUE;
    if (pkt->ip.fragment || !pkt->l4.have_icmp)
        return FALSE;
    return inv(type, pkt->l4.icmp_type == type->u.num &&
                     (!code || pkt->l4.icmp_code == code->u.num));
}

static gboolean
match_conntrack(const NwfRuleInst *rule, const NwfTraceOptions *opt)
{
    static const guint state_bits[] = {
        [NWF_TRACE_CT_NEW] = NWF_STATE_NEW,
        [NWF_TRACE_CT_ESTABLISHED] = NWF_STATE_ESTABLISHED,
        [NWF_TRACE_CT_RELATED] = NWF_STATE_RELATED,
        [NWF_TRACE_CT_INVALID] = NWF_STATE_INVALID,
        [NWF_TRACE_CT_UNTRACKED] = 0,
    };
    gboolean tracked = opt->ct_state <= NWF_TRACE_CT_RELATED;

    if (rule->ct_state && !(rule->ct_state & state_bits[opt->ct_state]))
        return FALSE;
    if (rule->ct_dir != NWF_CT_DIR_NONE && (!tracked || rule->ct_dir != opt->ct_dir))
        return FALSE;
    return TRUE;
}

gboolean
nwf_trace_match_ip(const NwfRuleInst *rule, const NwfTracePacket *pkt,
                   const NwfTraceOptions *opt, GPtrArray *notes)
{
    int proto = ipt_protocol_number(rule->protocol);
    const NwfValue *v;

    if (proto >= 0 && pkt->ip.upper_proto != proto)
        return FALSE;
    if ((v = field(rule, NWF_FIELD_SRCMACADDR)) && !inv(v, memcmp(pkt->src, v->u.mac, 6) == 0))
        return FALSE;
    if (!ipt_addr_match(rule, pkt, TRUE) || !ipt_addr_match(rule, pkt, FALSE))
        return FALSE;
    if ((v = field(rule, NWF_FIELD_DSCP)) && !inv(v, (guint)(pkt->ip.tos >> 2) == v->u.num))
        return FALSE;
    if (!match_ipt_ports(rule, pkt) || !match_ipt_icmp(rule, pkt))
        return FALSE;
    if (!match_conntrack(rule, opt))
        return FALSE;
    if ((v = field(rule, NWF_FIELD_IPSET))) {
        char *note = g_strdup_printf("ipset '%s': membership unknown offline, "
                                     "taken as not a member", v->u.str);
        if (notes && !g_ptr_array_find_with_equal_func(notes, note, g_str_equal, NULL))
            g_ptr_array_add(notes, note);
        else
            g_free(note);
        if (!v->negated)
            return FALSE;
    }
    if ((v = field(rule, NWF_FIELD_CONNLIMIT_ABOVE)) && !inv(v, opt->connections > v->u.num))
        return FALSE;
    return TRUE;
}
