/* One rule of a rule program in ebtables or iptables argument syntax, with
 * libvirt's option order (spec §6.2, §6.3). Mirrored copies keep libvirt's
 * order: the option fed from the rule's original source field comes first. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "nwfilter/backend_ebiptables_private.h"

#define STP_BGA "01:80:c2:00:00:00"

const char *
nwf_fw_tool_name(NwfFwTool tool)
{
    static const char *const names[] = { "ebtables", "iptables", "ip6tables" };

    return names[tool];
}

NwfFwTool
nwf_fw_tool_for_family(NwfIpFamily family)
{
    return family == NWF_IP_V4 ? NWF_FW_IPTABLES : NWF_FW_IP6TABLES;
}

char *
nwf_ebt_root_chain(NwfEthDir dir, gboolean temp, const char *ifname)
{
    static const char letters[2][2] = { { 'I', 'J' }, { 'O', 'P' } };

    return g_strdup_printf("libvirt-%c-%s", letters[dir][temp ? 1 : 0], ifname);
}

char *
nwf_ebt_sub_chain(NwfEthDir dir, gboolean temp, const char *ifname, const char *suffix)
{
    static const char letters[2][2] = { { 'I', 'J' }, { 'O', 'P' } };

    return g_strdup_printf("%c-%s-%s", letters[dir][temp ? 1 : 0], ifname, suffix);
}

char *
nwf_ipt_chain(NwfIpChain chain, gboolean temp, const char *ifname)
{
    static const char *const names[NWF_IP_CHAIN_LAST][2] = {
        { "FI", "FJ" }, { "FO", "FP" }, { "HI", "HJ" },
    };

    return g_strdup_printf("%s-%s", names[chain][temp ? 1 : 0], ifname);
}

/* --- value text -------------------------------------------------------- */

static char *
mac_text(const guint8 *mac)
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x",
                           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static char *
addr_text(const NwfValue *value)
{
    char buf[INET6_ADDRSTRLEN];

    if (value->type == NWF_TYPE_IPV4_ADDR)
        inet_ntop(AF_INET, &value->u.ipv4, buf, sizeof(buf));
    else
        inet_ntop(AF_INET6, &value->u.ipv6, buf, sizeof(buf));
    return g_strdup(buf);
}

/* ADDR, or ADDR/PREFIX when MASK is present (or DEFAULT_PREFIX >= 0). */
static char *
addr_mask_text(const NwfValue *addr, const NwfValue *mask, int default_prefix)
{
    g_autofree char *a = addr_text(addr);

    if (mask && mask->present)
        return g_strdup_printf("%s/%u", a, mask->u.num);
    if (default_prefix >= 0)
        return g_strdup_printf("%s/%d", a, default_prefix);
    return g_steal_pointer(&a);
}

static char *
mac_mask_text(const NwfValue *addr, const NwfValue *mask)
{
    g_autofree char *a = mac_text(addr->u.mac);

    if (mask && mask->present) {
        g_autofree char *m = mac_text(mask->u.mac);
        return g_strdup_printf("%s/%s", a, m);
    }
    return g_steal_pointer(&a);
}

static char *
range_text(const NwfValue *lo, const NwfValue *hi, char sep)
{
    if (hi && hi->present)
        return g_strdup_printf("%u%c%u", lo->u.num, sep, hi->u.num);
    return g_strdup_printf("%u", lo->u.num);
}

static void
add(GPtrArray *args, const char *arg)
{
    g_ptr_array_add(args, g_strdup(arg));
}

static void
add_owned(GPtrArray *args, char *arg)
{
    g_ptr_array_add(args, arg);
}

/* ebtables puts the negation after the option name */
static void
ebt_opt(GPtrArray *args, const char *opt, const NwfValue *value, char *text)
{
    add(args, opt);
    if (value->negated)
        add(args, "!");
    add_owned(args, text);
}

/* iptables puts it before */
static void
ipt_opt(GPtrArray *args, const char *opt, const NwfValue *value, char *text)
{
    if (value->negated)
        add(args, "!");
    add(args, opt);
    add_owned(args, text);
}

/* --- ebtables ---------------------------------------------------------- */

static const char *
ebt_target(NwfAction action)
{
    switch (action) {
    case NWF_ACTION_ACCEPT:
        return "ACCEPT";
    case NWF_ACTION_RETURN:
        return "RETURN";
    case NWF_ACTION_CONTINUE:
        return "CONTINUE";
    case NWF_ACTION_DROP:
    case NWF_ACTION_REJECT:   /* a bridge cannot reject */
    default:
        return "DROP";
    }
}

/* Emit the src side and the dst side of a pair of options; a mirrored copy
 * starts with the side its original source field moved to. */
typedef void (*SideFunc)(GPtrArray *args, const NwfRuleInst *rule, gboolean dst);

static void
emit_pair(GPtrArray *args, const NwfRuleInst *rule, SideFunc side)
{
    side(args, rule, rule->swapped);
    side(args, rule, !rule->swapped);
}

static void
ebt_mac_side(GPtrArray *args, const NwfRuleInst *rule, gboolean dst)
{
    const NwfValue *addr = nwf_rule_field(rule, dst ? NWF_FIELD_DSTMACADDR : NWF_FIELD_SRCMACADDR);
    const NwfValue *mask = nwf_rule_field(rule, dst ? NWF_FIELD_DSTMACMASK : NWF_FIELD_SRCMACMASK);

    if (addr->present)
        ebt_opt(args, dst ? "-d" : "-s", addr, mac_mask_text(addr, mask));
}

static void
ebt_ip_side(GPtrArray *args, const NwfRuleInst *rule, gboolean dst)
{
    gboolean v6 = rule->protocol == NWF_PROTO_IPV6;
    const NwfValue *addr = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPADDR : NWF_FIELD_SRCIPADDR);
    const NwfValue *mask = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPMASK : NWF_FIELD_SRCIPMASK);
    const char *opt = v6 ? (dst ? "--ip6-destination" : "--ip6-source")
                         : (dst ? "--ip-destination" : "--ip-source");

    if (addr->present)
        ebt_opt(args, opt, addr, addr_mask_text(addr, mask, -1));
}

static void
ebt_port_side(GPtrArray *args, const NwfRuleInst *rule, gboolean dst)
{
    gboolean v6 = rule->protocol == NWF_PROTO_IPV6;
    const NwfValue *lo = nwf_rule_field(rule, dst ? NWF_FIELD_DSTPORTSTART
                                                  : NWF_FIELD_SRCPORTSTART);
    const NwfValue *hi = nwf_rule_field(rule, dst ? NWF_FIELD_DSTPORTEND : NWF_FIELD_SRCPORTEND);
    const char *opt = v6 ? (dst ? "--ip6-destination-port" : "--ip6-source-port")
                         : (dst ? "--ip-destination-port" : "--ip-source-port");

    if (lo->present)
        ebt_opt(args, opt, lo, range_text(lo, hi, ':'));
}

/* The ARP IP mask defaults to /32 (libvirt's reuse of the source mask for
 * the destination is not reproduced). */
static void
ebt_arp_ip_side(GPtrArray *args, const NwfRuleInst *rule, gboolean dst)
{
    const NwfValue *addr = nwf_rule_field(rule, dst ? NWF_FIELD_ARPDSTIPADDR
                                                    : NWF_FIELD_ARPSRCIPADDR);
    const NwfValue *mask = nwf_rule_field(rule, dst ? NWF_FIELD_ARPDSTIPMASK
                                                    : NWF_FIELD_ARPSRCIPMASK);

    if (addr->present)
        ebt_opt(args, dst ? "--arp-ip-dst" : "--arp-ip-src", addr,
                addr_mask_text(addr, mask, 32));
}

static void
ebt_arp_mac_side(GPtrArray *args, const NwfRuleInst *rule, gboolean dst)
{
    const NwfValue *addr = nwf_rule_field(rule, dst ? NWF_FIELD_ARPDSTMACADDR
                                                    : NWF_FIELD_ARPSRCMACADDR);

    if (addr->present)
        ebt_opt(args, dst ? "--arp-mac-dst" : "--arp-mac-src", addr, mac_text(addr->u.mac));
}

static void
ebt_num(GPtrArray *args, const NwfRuleInst *rule, NwfField field, const char *opt,
        const char *fmt)
{
    const NwfValue *value = nwf_rule_field(rule, field);

    if (value->present)
        ebt_opt(args, opt, value, g_strdup_printf(fmt, value->u.num));
}

static void
ebt_stp(GPtrArray *args, const NwfRuleInst *rule)
{
    static const struct {
        NwfField lo, hi;
        const char *opt;
        gboolean mac;
    } opts[] = {
        { NWF_FIELD_STP_TYPE, NWF_FIELD_LAST, "--stp-type", FALSE },
        { NWF_FIELD_STP_FLAGS, NWF_FIELD_LAST, "--stp-flags", FALSE },
        { NWF_FIELD_ROOT_PRIORITY, NWF_FIELD_ROOT_PRIORITY_HI, "--stp-root-pri", FALSE },
        { NWF_FIELD_ROOT_ADDRESS, NWF_FIELD_ROOT_ADDRESS_MASK, "--stp-root-addr", TRUE },
        { NWF_FIELD_ROOT_COST, NWF_FIELD_ROOT_COST_HI, "--stp-root-cost", FALSE },
        { NWF_FIELD_SENDER_PRIORITY, NWF_FIELD_SENDER_PRIORITY_HI, "--stp-sender-prio", FALSE },
        { NWF_FIELD_SENDER_ADDRESS, NWF_FIELD_SENDER_ADDRESS_MASK, "--stp-sender-addr", TRUE },
        { NWF_FIELD_PORT, NWF_FIELD_PORT_HI, "--stp-port", FALSE },
        { NWF_FIELD_AGE, NWF_FIELD_AGE_HI, "--stp-msg-age", FALSE },
        { NWF_FIELD_MAX_AGE, NWF_FIELD_MAX_AGE_HI, "--stp-max-age", FALSE },
        { NWF_FIELD_HELLO_TIME, NWF_FIELD_HELLO_TIME_HI, "--stp-hello-time", FALSE },
        { NWF_FIELD_FORWARD_DELAY, NWF_FIELD_FORWARD_DELAY_HI, "--stp-forward-delay", FALSE },
    };

    ebt_mac_side(args, rule, FALSE);
    add(args, "-d");
    add(args, STP_BGA);
    for (guint i = 0; i < G_N_ELEMENTS(opts); i++) {
        const NwfValue *lo = nwf_rule_field(rule, opts[i].lo);
        const NwfValue *hi = opts[i].hi < NWF_FIELD_LAST ? nwf_rule_field(rule, opts[i].hi) : NULL;
        if (!lo->present)
            continue;
        ebt_opt(args, opts[i].opt, lo,
                opts[i].mac ? mac_mask_text(lo, hi) : range_text(lo, hi, ':'));
    }
}

static void
ebt_arp(GPtrArray *args, const NwfRuleInst *rule)
{
    const NwfValue *grat = nwf_rule_field(rule, NWF_FIELD_GRATUITOUS);

    emit_pair(args, rule, ebt_mac_side);
    add(args, "-p");
    add(args, rule->protocol == NWF_PROTO_RARP ? "0x8035" : "0x806");
    ebt_num(args, rule, NWF_FIELD_HWTYPE, "--arp-htype", "%u");
    ebt_num(args, rule, NWF_FIELD_OPCODE, "--arp-opcode", "%u");
    ebt_num(args, rule, NWF_FIELD_PROTOCOLTYPE, "--arp-ptype", "0x%x");
    emit_pair(args, rule, ebt_arp_ip_side);
    emit_pair(args, rule, ebt_arp_mac_side);
    if (grat->present && grat->u.num) {
        if (grat->negated)
            add(args, "!");
        add(args, "--arp-gratuitous");
    }
}

/* --ip6-icmp-type T1:T2/C1:C2; a missing start is 0, a missing end is the
 * start if given, else 255. */
static char *
icmp6_range_text(const NwfRuleInst *rule)
{
    const NwfValue *t = nwf_rule_field(rule, NWF_FIELD_ICMP_TYPE);
    const NwfValue *te = nwf_rule_field(rule, NWF_FIELD_ICMP_TYPEEND);
    const NwfValue *c = nwf_rule_field(rule, NWF_FIELD_ICMP_CODE);
    const NwfValue *ce = nwf_rule_field(rule, NWF_FIELD_ICMP_CODEEND);
    guint tlo = t->present ? t->u.num : 0;
    guint thi = te->present ? te->u.num : (t->present ? t->u.num : 255);
    guint clo = c->present ? c->u.num : 0;
    guint chi = ce->present ? ce->u.num : (c->present ? c->u.num : 255);

    return g_strdup_printf("%u:%u/%u:%u", tlo, thi, clo, chi);
}

static void
ebt_ip(GPtrArray *args, const NwfRuleInst *rule)
{
    gboolean v6 = rule->protocol == NWF_PROTO_IPV6;

    emit_pair(args, rule, ebt_mac_side);
    add(args, "-p");
    add(args, v6 ? "ipv6" : "ipv4");
    emit_pair(args, rule, ebt_ip_side);
    ebt_num(args, rule, NWF_FIELD_PROTOCOL, v6 ? "--ip6-protocol" : "--ip-protocol", "%u");
    emit_pair(args, rule, ebt_port_side);
    if (v6) {
        static const NwfField icmp[] = {
            NWF_FIELD_ICMP_TYPE, NWF_FIELD_ICMP_TYPEEND, NWF_FIELD_ICMP_CODE, NWF_FIELD_ICMP_CODEEND,
        };
        for (guint i = 0; i < G_N_ELEMENTS(icmp); i++) {
            if (nwf_rule_field(rule, icmp[i])->present) {
                ebt_opt(args, "--ip6-icmp-type", nwf_rule_field(rule, NWF_FIELD_ICMP_TYPE),
                        icmp6_range_text(rule));
                break;
            }
        }
    } else {
        ebt_num(args, rule, NWF_FIELD_DSCP, "--ip-tos", "0x%x");
    }
}

GPtrArray *
nwf_ebt_rule_args(const NwfRuleInst *rule, const char *chain)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);

    add(args, "-A");
    add(args, chain);
    switch (rule->protocol) {
    case NWF_PROTO_MAC:
        emit_pair(args, rule, ebt_mac_side);
        ebt_num(args, rule, NWF_FIELD_PROTOCOLID, "-p", "0x%x");
        break;
    case NWF_PROTO_VLAN:
        emit_pair(args, rule, ebt_mac_side);
        add(args, "-p");
        add(args, "0x8100");
        ebt_num(args, rule, NWF_FIELD_VLANID, "--vlan-id", "%u");
        ebt_num(args, rule, NWF_FIELD_ENCAP_PROTOCOL, "--vlan-encap", "%u");
        break;
    case NWF_PROTO_STP:
        ebt_stp(args, rule);
        break;
    case NWF_PROTO_ARP:
    case NWF_PROTO_RARP:
        ebt_arp(args, rule);
        break;
    case NWF_PROTO_IP:
    case NWF_PROTO_IPV6:
        ebt_ip(args, rule);
        break;
    default:
        break;
    }
    add(args, "-j");
    add(args, ebt_target(rule->action));
    return args;
}

GPtrArray *
nwf_ebt_jump_args(const NwfEthSubChain *sub, const char *root, const char *target)
{
    static const char *const ethertypes[] = {
        [NWF_CHAIN_VLAN] = "0x8100", [NWF_CHAIN_ARP] = "0x0806",
        [NWF_CHAIN_RARP] = "0x8035", [NWF_CHAIN_IPV4] = "0x0800",
        [NWF_CHAIN_IPV6] = "0x86dd",
    };
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);

    add(args, "-A");
    add(args, root);
    if (sub->kind == NWF_CHAIN_STP) {
        add(args, "-d");
        add(args, STP_BGA);
    } else if (sub->kind != NWF_CHAIN_MAC && sub->kind < G_N_ELEMENTS(ethertypes) &&
               ethertypes[sub->kind]) {
        add(args, "-p");
        add(args, ethertypes[sub->kind]);
    }
    add(args, "-j");
    add(args, target);
    return args;
}

/* --- iptables ---------------------------------------------------------- */

static const char *
ipt_protocol(NwfProtocol protocol)
{
    switch (protocol) {
    case NWF_PROTO_TCP:
    case NWF_PROTO_TCP_IPV6:
        return "tcp";
    case NWF_PROTO_UDP:
    case NWF_PROTO_UDP_IPV6:
        return "udp";
    case NWF_PROTO_UDPLITE:
    case NWF_PROTO_UDPLITE_IPV6:
        return "udplite";
    case NWF_PROTO_ESP:
    case NWF_PROTO_ESP_IPV6:
        return "esp";
    case NWF_PROTO_AH:
    case NWF_PROTO_AH_IPV6:
        return "ah";
    case NWF_PROTO_SCTP:
    case NWF_PROTO_SCTP_IPV6:
        return "sctp";
    case NWF_PROTO_ICMP:
        return "icmp";
    case NWF_PROTO_ICMPV6:
        return "icmpv6";
    case NWF_PROTO_IGMP:
        return "igmp";
    default:
        return "all";
    }
}

static void
ipt_addr_side(GPtrArray *args, const NwfRuleInst *rule, gboolean dst)
{
    const NwfValue *addr = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPADDR : NWF_FIELD_SRCIPADDR);
    const NwfValue *mask = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPMASK : NWF_FIELD_SRCIPMASK);
    const NwfValue *from = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPFROM : NWF_FIELD_SRCIPFROM);
    const NwfValue *to = nwf_rule_field(rule, dst ? NWF_FIELD_DSTIPTO : NWF_FIELD_SRCIPTO);

    if (addr->present) {
        ipt_opt(args, dst ? "--destination" : "--source", addr, addr_mask_text(addr, mask, -1));
    } else if (from->present) {
        g_autofree char *lo = addr_text(from);
        add(args, "-m");
        add(args, "iprange");
        if (to->present) {
            g_autofree char *hi = addr_text(to);
            ipt_opt(args, dst ? "--dst-range" : "--src-range", from,
                    g_strdup_printf("%s-%s", lo, hi));
        } else {
            ipt_opt(args, dst ? "--dst-range" : "--src-range", from, g_steal_pointer(&lo));
        }
    }
}

static void
ipt_port_side(GPtrArray *args, const NwfRuleInst *rule, gboolean dst)
{
    const NwfValue *lo = nwf_rule_field(rule, dst ? NWF_FIELD_DSTPORTSTART
                                                  : NWF_FIELD_SRCPORTSTART);
    const NwfValue *hi = nwf_rule_field(rule, dst ? NWF_FIELD_DSTPORTEND : NWF_FIELD_SRCPORTEND);

    if (lo->present)
        ipt_opt(args, dst ? "--dport" : "--sport", lo, range_text(lo, hi, ':'));
}

static char *
tcp_flag_names(guint8 bits)
{
    static const struct {
        guint8 bit;
        const char *name;
    } names[] = {
        { NWF_TCP_FIN, "FIN" }, { NWF_TCP_SYN, "SYN" }, { NWF_TCP_RST, "RST" },
        { NWF_TCP_PSH, "PSH" }, { NWF_TCP_ACK, "ACK" }, { NWF_TCP_URG, "URG" },
    };
    GString *text;

    if (bits == 0)
        return g_strdup("NONE");
    if ((bits & NWF_TCP_ALL) == NWF_TCP_ALL)
        return g_strdup("ALL");
    text = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (bits & names[i].bit)
            g_string_append_printf(text, "%s%s", text->len ? "," : "", names[i].name);
    }
    return g_string_free(text, FALSE);
}

static char *
state_names(guint state)
{
    static const struct {
        guint bit;
        const char *name;
    } names[] = {
        { NWF_STATE_NEW, "NEW" }, { NWF_STATE_ESTABLISHED, "ESTABLISHED" },
        { NWF_STATE_RELATED, "RELATED" }, { NWF_STATE_INVALID, "INVALID" },
    };
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (state & names[i].bit)
            g_string_append_printf(text, "%s%s", text->len ? "," : "", names[i].name);
    }
    return g_string_free(text, FALSE);
}

static char *
ipset_flags_text(const NwfValue *flags)
{
    GString *text = g_string_new(NULL);
    guint count = flags->present ? flags->u.ipset_flags.count : 1;
    guint bits = flags->present ? flags->u.ipset_flags.bits : 1;

    for (guint i = 0; i < count; i++)
        g_string_append_printf(text, "%s%s", i ? "," : "", (bits & (1u << i)) ? "src" : "dst");
    return g_string_free(text, FALSE);
}

static void
ipt_module_opt(GPtrArray *args, const char *module, const char *opt, const NwfValue *value,
               char *text)
{
    add(args, "-m");
    add(args, module);
    ipt_opt(args, opt, value, text);
}

static const char *
ipt_target(NwfAction action, NwfIpChain which)
{
    switch (action) {
    case NWF_ACTION_ACCEPT:
        /* from-VM traffic goes on to the destination's own chains */
        return which == NWF_IP_TO_VM ? "ACCEPT" : "RETURN";
    case NWF_ACTION_DROP:
        return "DROP";
    case NWF_ACTION_REJECT:
        return "REJECT";
    case NWF_ACTION_RETURN:
        return "RETURN";
    case NWF_ACTION_CONTINUE:
    default:
        return NULL;             /* iptables' own fall-through */
    }
}

GPtrArray *
nwf_ipt_rule_args(const NwfRuleInst *rule, NwfIpChain which, const char *chain)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
    const char *target = ipt_target(rule->action, which);

    add(args, "-A");
    add(args, chain);
    add(args, "-p");
    add(args, ipt_protocol(rule->protocol));
    if (nwf_rule_field(rule, NWF_FIELD_SRCMACADDR)->present)
        ipt_module_opt(args, "mac", "--mac-source", nwf_rule_field(rule, NWF_FIELD_SRCMACADDR),
                       mac_text(nwf_rule_field(rule, NWF_FIELD_SRCMACADDR)->u.mac));
    emit_pair(args, rule, ipt_addr_side);
    if (nwf_rule_field(rule, NWF_FIELD_DSCP)->present)
        ipt_module_opt(args, "dscp", "--dscp", nwf_rule_field(rule, NWF_FIELD_DSCP),
                       g_strdup_printf("%u", nwf_rule_field(rule, NWF_FIELD_DSCP)->u.num));
    if (nwf_rule_field(rule, NWF_FIELD_TCP_FLAGS)->present) {
        const NwfValue *flags = nwf_rule_field(rule, NWF_FIELD_TCP_FLAGS);
        if (flags->negated)
            add(args, "!");
        add(args, "--tcp-flags");
        add_owned(args, tcp_flag_names(flags->u.tcp_flags.mask));
        add_owned(args, tcp_flag_names(flags->u.tcp_flags.flags));
    }
    emit_pair(args, rule, ipt_port_side);
    if (nwf_rule_field(rule, NWF_FIELD_TCP_OPTION)->present)
        ipt_opt(args, "--tcp-option", nwf_rule_field(rule, NWF_FIELD_TCP_OPTION),
                g_strdup_printf("%u", nwf_rule_field(rule, NWF_FIELD_TCP_OPTION)->u.num));
    if (nwf_rule_field(rule, NWF_FIELD_ICMP_TYPE)->present) {
        const NwfValue *type = nwf_rule_field(rule, NWF_FIELD_ICMP_TYPE);
        const NwfValue *code = nwf_rule_field(rule, NWF_FIELD_ICMP_CODE);
        ipt_opt(args, rule->protocol == NWF_PROTO_ICMPV6 ? "--icmpv6-type" : "--icmp-type", type,
                code->present ? g_strdup_printf("%u/%u", type->u.num, code->u.num)
                              : g_strdup_printf("%u", type->u.num));
    }
    if (rule->ct_state) {
        add(args, "-m");
        add(args, "conntrack");
        add(args, "--ctstate");
        add_owned(args, state_names(rule->ct_state));
    }
    if (rule->ct_dir != NWF_CT_DIR_NONE) {
        add(args, "-m");
        add(args, "conntrack");
        add(args, "--ctdir");
        add(args, rule->ct_dir == NWF_CT_DIR_ORIGINAL ? "Original" : "Reply");
    }
    if (nwf_rule_field(rule, NWF_FIELD_IPSET)->present) {
        add(args, "-m");
        add(args, "set");
        if (nwf_rule_field(rule, NWF_FIELD_IPSET)->negated)
            add(args, "!");
        add(args, "--match-set");
        add(args, nwf_rule_field(rule, NWF_FIELD_IPSET)->u.str);
        add_owned(args, ipset_flags_text(nwf_rule_field(rule, NWF_FIELD_IPSETFLAGS)));
    }
    if (nwf_rule_field(rule, NWF_FIELD_CONNLIMIT_ABOVE)->present)
        ipt_module_opt(args, "connlimit", "--connlimit-above",
                       nwf_rule_field(rule, NWF_FIELD_CONNLIMIT_ABOVE),
                       g_strdup_printf("%u",
                                       nwf_rule_field(rule, NWF_FIELD_CONNLIMIT_ABOVE)->u.num));
    if (nwf_rule_field(rule, NWF_FIELD_COMMENT)->present) {
        add(args, "-m");
        add(args, "comment");
        add(args, "--comment");
        add(args, nwf_rule_field(rule, NWF_FIELD_COMMENT)->u.str);
    }
    if (target) {
        add(args, "-j");
        add(args, target);
    }
    return args;
}
