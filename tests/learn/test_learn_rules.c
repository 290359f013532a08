/* The learning-phase rule programs (spec 6.6 and the IPv6 additions),
 * printed rule by rule as "<dir>: <protocol> attr=value ... -> action" and
 * compared with the rule sets the spec describes. */
#include "config.h"

#include "nwfilter/learn_rules.h"
#include "util/nwf_error.h"

static const guint8 MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static char *
describe(const NwfRuleProgram *p)
{
    GString *out = g_string_new(NULL);
    static const char *dirs[] = { "out", "in" };

    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        g_assert_cmpuint(p->eth[d].subchains->len, ==, 0);
        for (guint i = 0; i < p->eth[d].entries->len; i++) {
            const NwfEthEntry *e = g_ptr_array_index(p->eth[d].entries, i);
            const NwfRuleInst *r = e->rule;

            g_string_append_printf(out, "%s: %s", dirs[d],
                                   *nwf_protocol_name(r->protocol) ? nwf_protocol_name(r->protocol) : "all");
            for (guint f = 0; f < NWF_FIELD_LAST; f++) {
                g_autofree char *v = NULL;

                if (!nwf_rule_field(r, f)->present)
                    continue;
                v = nwf_value_format(nwf_rule_field(r, f), f);
                g_string_append_printf(out, " %s%s=%s", nwf_rule_field(r, f)->negated ? "!" : "",
                                       nwf_field_name(f), v);
            }
            g_string_append_printf(out, " -> %s\n", nwf_action_name(r->action));
        }
    }
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++)
        g_assert_false(p->ip[v].present);
    return g_string_free(out, FALSE);
}

typedef struct {
    const char *name;
    NwfLearnRulesKind kind;
    gboolean ipv6;
    const char *servers;        /* comma-separated or NULL */
    const char *servers6;
    const char *expected;
} RulesCase;

static const RulesCase cases[] = {
    { "basic", NWF_LEARN_RULES_BASIC, FALSE, NULL, NULL,
      "out: mac !srcmacaddr=52:54:00:12:34:56 -> drop\n"
      "out: mac protocolid=ipv4 -> accept\n"
      "out: mac protocolid=arp -> accept\n"
      "out: all -> drop\n" },
    { "basic-ipv6", NWF_LEARN_RULES_BASIC, TRUE, NULL, NULL,
      "out: mac !srcmacaddr=52:54:00:12:34:56 -> drop\n"
      "out: mac protocolid=ipv4 -> accept\n"
      "out: mac protocolid=arp -> accept\n"
      "out: ipv6 protocol=icmpv6 type=133 -> accept\n"
      "out: ipv6 protocol=icmpv6 type=135 typeend=136 -> accept\n"
      "out: ipv6 protocol=icmpv6 type=143 -> accept\n"
      "out: ipv6 protocol=udp srcportstart=546 dstportstart=547 -> accept\n"
      "out: all -> drop\n" },
    { "dhcp-any-server", NWF_LEARN_RULES_DHCP, FALSE, NULL, NULL,
      "out: ip srcmacaddr=52:54:00:12:34:56 protocol=udp srcportstart=68 dstportstart=67 -> accept\n"
      "out: all -> drop\n"
      "in: ip dstmacaddr=52:54:00:12:34:56 protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: ip dstmacaddr=ff:ff:ff:ff:ff:ff protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: all -> drop\n" },
    { "dhcp-servers", NWF_LEARN_RULES_DHCP, FALSE, "10.0.0.1,10.0.0.2", NULL,
      "out: ip srcmacaddr=52:54:00:12:34:56 protocol=udp srcportstart=68 dstportstart=67 -> accept\n"
      "out: all -> drop\n"
      /* libvirt's order: per server, to the VM's MAC then broadcast */
      "in: ip dstmacaddr=52:54:00:12:34:56 srcipaddr=10.0.0.1 protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: ip dstmacaddr=ff:ff:ff:ff:ff:ff srcipaddr=10.0.0.1 protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: ip dstmacaddr=52:54:00:12:34:56 srcipaddr=10.0.0.2 protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: ip dstmacaddr=ff:ff:ff:ff:ff:ff srcipaddr=10.0.0.2 protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: all -> drop\n" },
    { "dhcp-ipv6", NWF_LEARN_RULES_DHCP, TRUE, "10.0.0.1", "fe80::1",
      "out: ip srcmacaddr=52:54:00:12:34:56 protocol=udp srcportstart=68 dstportstart=67 -> accept\n"
      "out: ipv6 srcmacaddr=52:54:00:12:34:56 protocol=icmpv6 type=133 -> accept\n"
      "out: ipv6 srcmacaddr=52:54:00:12:34:56 protocol=icmpv6 type=135 typeend=136 -> accept\n"
      "out: ipv6 srcmacaddr=52:54:00:12:34:56 protocol=icmpv6 type=143 -> accept\n"
      "out: ipv6 srcmacaddr=52:54:00:12:34:56 protocol=udp srcportstart=546 dstportstart=547 -> accept\n"
      "out: all -> drop\n"
      "in: ip dstmacaddr=52:54:00:12:34:56 srcipaddr=10.0.0.1 protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: ip dstmacaddr=ff:ff:ff:ff:ff:ff srcipaddr=10.0.0.1 protocol=udp srcportstart=67 dstportstart=68 -> accept\n"
      "in: ipv6 dstmacaddr=52:54:00:12:34:56 srcipaddr=fe80::1 protocol=udp srcportstart=547 dstportstart=546 -> accept\n"
      "in: ipv6 protocol=icmpv6 type=134 typeend=136 -> accept\n"
      "in: all -> drop\n" },
    { "drop-all", NWF_LEARN_RULES_DROP_ALL, TRUE, "10.0.0.1", NULL,
      "out: all -> drop\n"
      "in: all -> drop\n" },
};

static GPtrArray *
split(const char *list)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) parts = list ? g_strsplit(list, ",", -1) : NULL;

    for (guint i = 0; parts && parts[i]; i++)
        g_ptr_array_add(out, g_strdup(parts[i]));
    return out;
}

static void
test_rules(gconstpointer data)
{
    const RulesCase *c = data;
    g_autoptr(GPtrArray) servers = split(c->servers);
    g_autoptr(GPtrArray) servers6 = split(c->servers6);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p =
        nwf_learn_rules_build("vnet0", MAC, c->kind, c->ipv6, servers, servers6, &error);
    g_autofree char *text = NULL;

    g_assert_no_error(error);
    g_assert_cmpstr(p->ifname, ==, "vnet0");
    g_assert_true(p->have_mac);
    text = describe(p);
    g_assert_cmpstr(text, ==, c->expected);
}

static void
test_bad_server(void)
{
    g_autoptr(GPtrArray) servers = split("10.0.0.300");
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p =
        nwf_learn_rules_build("vnet0", MAC, NWF_LEARN_RULES_DHCP, FALSE, servers, NULL, &error);

    g_assert_null(p);
    g_assert_error(error, NWF_ERROR, NWF_ERR_INTERNAL_ERROR);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strconcat("/learn/rules/", cases[i].name, NULL);
        g_test_add_data_func(path, &cases[i], test_rules);
    }
    g_test_add_func("/learn/rules/bad-server", test_bad_server);
    return g_test_run();
}
