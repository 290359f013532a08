/* Every value goes through nwf_value_parse, the check compile applies to
 * variable values, so these rules reach a backend in exactly the form a
 * compiled rule would. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "nwfilter/learn_rules.h"

#define ORIGIN "ip-learning"

static gboolean
rule_set(NwfRuleInst *rule, NwfField field, const char *text, GError **error)
{
    gboolean negated = text[0] == '!';

    if (!nwf_value_parse(rule->protocol, field, text + negated, nwf_rule_field_put(rule, field),
                         error))
        return FALSE;
    nwf_rule_field_put(rule, field)->negated = negated;
    return TRUE;
}

/* A rule of PROTOCOL with ACTION and the (NwfField, text) pairs that
 * follow, ended by -1. A text starting with '!' is a negated match. */
static NwfRuleInst *
rule_new(GError **error, NwfProtocol protocol, NwfAction action, ...)
{
    g_autoptr(NwfRuleInst) rule = nwf_rule_inst_new(protocol, action);
    gboolean ok = TRUE;
    va_list ap;
    int field;

    g_free(rule->origin.filter);
    rule->origin.filter = g_strdup(ORIGIN);
    va_start(ap, action);
    while (ok && (field = va_arg(ap, int)) >= 0)
        ok = rule_set(rule, (NwfField)field, va_arg(ap, const char *), error);
    va_end(ap);
    return ok ? g_steal_pointer(&rule) : NULL;
}

static gboolean
add(NwfRuleProgram *program, NwfEthDir dir, NwfRuleInst *rule)
{
    if (!rule)
        return FALSE;
    nwf_rule_program_eth_add_rule(program, dir, NULL, rule);
    return TRUE;
}

/* What a guest must send to configure IPv6: router solicitation,
 * neighbour solicitation/advertisement, MLDv2 reports, DHCPv6 to servers.
 * MAC (may be NULL) narrows the rules to the VM's source MAC. */
static gboolean
add_ipv6_from_vm(NwfRuleProgram *program, const char *mac, GError **error)
{
    static const struct {
        const char *proto, *first, *last;
    } kinds[] = {
        { "icmpv6", "133", NULL }, { "icmpv6", "135", "136" }, { "icmpv6", "143", NULL }, { "udp", NULL, NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        g_autoptr(NwfRuleInst) rule =
            rule_new(error, NWF_PROTO_IPV6, NWF_ACTION_ACCEPT, NWF_FIELD_PROTOCOL, kinds[i].proto, -1);

        if (!rule || (mac && !rule_set(rule, NWF_FIELD_SRCMACADDR, mac, error)))
            return FALSE;
        if (kinds[i].first ? !rule_set(rule, NWF_FIELD_ICMP_TYPE, kinds[i].first, error)
                           : (!rule_set(rule, NWF_FIELD_SRCPORTSTART, "546", error) ||
                              !rule_set(rule, NWF_FIELD_DSTPORTSTART, "547", error)))
            return FALSE;
        if (kinds[i].last && !rule_set(rule, NWF_FIELD_ICMP_TYPEEND, kinds[i].last, error))
            return FALSE;
        add(program, NWF_ETH_VM_OUT, g_steal_pointer(&rule));
    }
    return TRUE;
}

static gboolean
build_basic(NwfRuleProgram *program, const char *mac, gboolean ipv6, GError **error)
{
    g_autofree char *not_mac = g_strconcat("!", mac, NULL);

    if (!add(program, NWF_ETH_VM_OUT,
             rule_new(error, NWF_PROTO_MAC, NWF_ACTION_DROP, NWF_FIELD_SRCMACADDR, not_mac, -1)) ||
        !add(program, NWF_ETH_VM_OUT,
             rule_new(error, NWF_PROTO_MAC, NWF_ACTION_ACCEPT, NWF_FIELD_PROTOCOLID, "ipv4", -1)) ||
        !add(program, NWF_ETH_VM_OUT,
             rule_new(error, NWF_PROTO_MAC, NWF_ACTION_ACCEPT, NWF_FIELD_PROTOCOLID, "arp", -1)))
        return FALSE;
    if (ipv6 && !add_ipv6_from_vm(program, NULL, error))
        return FALSE;
    return add(program, NWF_ETH_VM_OUT, rule_new(error, NWF_PROTO_NONE, NWF_ACTION_DROP, -1));
}

/* DHCP(v6) replies to the VM, per server (or once for any server): to its
 * MAC, then to BROADCAST when given; libvirt's order. */
static gboolean
add_dhcp_replies(NwfRuleProgram *program, NwfProtocol proto, const char *mac,
                 const char *broadcast, const GPtrArray *servers, const char *sport,
                 const char *dport, GError **error)
{
    guint n = servers && servers->len ? servers->len : 1;
    const char *dst_macs[] = { mac, broadcast };

    for (guint i = 0; i < n; i++) {
        const char *server = servers && servers->len ? g_ptr_array_index(servers, i) : NULL;
        for (guint m = 0; m < G_N_ELEMENTS(dst_macs) && dst_macs[m]; m++) {
            g_autoptr(NwfRuleInst) rule =
                rule_new(error, proto, NWF_ACTION_ACCEPT, NWF_FIELD_DSTMACADDR, dst_macs[m],
                         NWF_FIELD_PROTOCOL, "udp", NWF_FIELD_SRCPORTSTART, sport,
                         NWF_FIELD_DSTPORTSTART, dport, -1);

            if (!rule || (server && !rule_set(rule, NWF_FIELD_SRCIPADDR, server, error)))
                return FALSE;
            add(program, NWF_ETH_VM_IN, g_steal_pointer(&rule));
        }
    }
    return TRUE;
}

static gboolean
build_dhcp(NwfRuleProgram *program, const char *mac, gboolean ipv6, const GPtrArray *servers,
           const GPtrArray *servers6, GError **error)
{
    if (!add(program, NWF_ETH_VM_OUT,
             rule_new(error, NWF_PROTO_IP, NWF_ACTION_ACCEPT, NWF_FIELD_SRCMACADDR, mac,
                      NWF_FIELD_PROTOCOL, "udp", NWF_FIELD_SRCPORTSTART, "68",
                      NWF_FIELD_DSTPORTSTART, "67", -1)))
        return FALSE;
    if (ipv6 && !add_ipv6_from_vm(program, mac, error))
        return FALSE;
    if (!add(program, NWF_ETH_VM_OUT, rule_new(error, NWF_PROTO_NONE, NWF_ACTION_DROP, -1)))
        return FALSE;

    if (!add_dhcp_replies(program, NWF_PROTO_IP, mac, "ff:ff:ff:ff:ff:ff", servers, "67", "68",
                          error))
        return FALSE;
    if (ipv6) {
        /* Router advertisements and neighbour messages come from routers
         * and neighbours, not from the DHCPv6 server. */
        if (!add_dhcp_replies(program, NWF_PROTO_IPV6, mac, NULL, servers6, "547", "546", error) ||
            !add(program, NWF_ETH_VM_IN,
                 rule_new(error, NWF_PROTO_IPV6, NWF_ACTION_ACCEPT, NWF_FIELD_PROTOCOL, "icmpv6",
                          NWF_FIELD_ICMP_TYPE, "134", NWF_FIELD_ICMP_TYPEEND, "136", -1)))
            return FALSE;
    }
    return add(program, NWF_ETH_VM_IN, rule_new(error, NWF_PROTO_NONE, NWF_ACTION_DROP, -1));
}

NwfRuleProgram *
nwf_learn_rules_build(const char *ifname, const guint8 mac[6], NwfLearnRulesKind kind,
                      gboolean ipv6, const GPtrArray *dhcp_servers,
                      const GPtrArray *dhcp_servers_v6, GError **error)
{
    g_autoptr(NwfRuleProgram) program = nwf_rule_program_new(ifname);
    g_autofree char *mac_text = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                                                mac[1], mac[2], mac[3], mac[4], mac[5]);
    gboolean ok = FALSE;

    program->have_mac = TRUE;
    memcpy(program->mac, mac, 6);
    nwf_rule_program_note_filter(program, ORIGIN);
    switch (kind) {
    case NWF_LEARN_RULES_BASIC:
        ok = build_basic(program, mac_text, ipv6, error);
        break;
    case NWF_LEARN_RULES_DHCP:
        ok = build_dhcp(program, mac_text, ipv6, dhcp_servers, dhcp_servers_v6, error);
        break;
    case NWF_LEARN_RULES_DROP_ALL:
        ok = add(program, NWF_ETH_VM_OUT, rule_new(error, NWF_PROTO_NONE, NWF_ACTION_DROP, -1)) &&
             add(program, NWF_ETH_VM_IN, rule_new(error, NWF_PROTO_NONE, NWF_ACTION_DROP, -1));
        break;
    }
    return ok ? g_steal_pointer(&program) : NULL;
}
