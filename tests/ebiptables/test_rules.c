/* Rule rendering cases the xml2firewall vectors do not cover: our fixes to
 * libvirt (continue at the IP layer, the ARP destination mask), negation
 * placement, ipset defaults, address ranges and sub-chain jump matches. */
#include "config.h"

#include <string.h>

#include "nwfilter/backend_ebiptables_private.h"
#include "nwfilter/compile.h"

static const NwfFilterDef *
lookup_one(const char *name, gpointer data)
{
    const NwfFilterDef *def = data;

    return strcmp(def->name, name) == 0 ? def : NULL;
}

static char *
join(GPtrArray *args)
{
    g_ptr_array_add(args, NULL);
    return g_strjoinv(" ", (char **)args->pdata);
}

/* Every rule of XML's program as "-A CHAIN ..." lines, one per line:
 * ebtables chains first, then FI, FO, HI. */
static char *
render(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(xml, -1, &error);
    g_autoptr(NwfRuleProgram) program = NULL;
    GString *out = g_string_new(NULL);
    NwfCompileInput input = {
        .ifname = "vnet0", .filter = "f", .lookup = lookup_one,
    };

    g_assert_no_error(error);
    input.lookup_data = def;
    program = nwf_compile(&input, NULL, &error);
    g_assert_no_error(error);
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        const NwfEthChains *eth = &program->eth[d];
        g_autofree char *root = nwf_ebt_root_chain(d, FALSE, "vnet0");
        for (guint i = 0; i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
            g_autofree char *sub = entry->subchain
                ? nwf_ebt_sub_chain(d, FALSE, "vnet0", entry->subchain->suffix) : NULL;
            g_autoptr(GPtrArray) args = entry->rule ? nwf_ebt_rule_args(entry->rule, root)
                                                    : nwf_ebt_jump_args(entry->subchain, root, sub);
            g_autofree char *line = join(args);
            g_string_append_printf(out, "%s\n", line);
        }
    }
    for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        GPtrArray *rules = program->ip[NWF_IP_V4].chains[c];
        g_autofree char *chain = nwf_ipt_chain(c, FALSE, "vnet0");
        for (guint i = 0; i < rules->len; i++) {
            g_autoptr(GPtrArray) args = nwf_ipt_rule_args(g_ptr_array_index(rules, i), c, chain);
            g_autofree char *line = join(args);
            g_string_append_printf(out, "%s\n", line);
        }
    }
    return g_string_free(out, FALSE);
}

typedef struct {
    const char *name;
    const char *xml;             /* the filter 'f' */
    const char *expected;
} RenderCase;

static const RenderCase cases[] = {
    { "continue-ip-layer",
      "<filter name='f'><rule action='continue' direction='out'><tcp dstportstart='80'/></rule></filter>",
      "-A FI-vnet0 -p tcp --dport 80\n"
      "-A FO-vnet0 -p tcp --sport 80\n"
      "-A HI-vnet0 -p tcp --dport 80\n" },
    { "reject",
      "<filter name='f'><rule action='reject' direction='in'><mac protocolid='arp'/></rule>"
      "<rule action='reject' direction='in'><udp/></rule></filter>",
      "-A libvirt-O-vnet0 -p 0x806 -j DROP\n"
      "-A FI-vnet0 -p udp -j REJECT\n"
      "-A FO-vnet0 -p udp -j REJECT\n"
      "-A HI-vnet0 -p udp -j REJECT\n" },
    { "arp-masks",
      "<filter name='f'><rule action='return' direction='out'><arp arpsrcipaddr='10.0.0.1' "
      "arpsrcipmask='24' arpdstipaddr='10.0.0.2'/></rule></filter>",
      "-A libvirt-I-vnet0 -p 0x806 --arp-ip-src 10.0.0.1/24 --arp-ip-dst 10.0.0.2/32 -j RETURN\n" },
    { "negation",
      "<filter name='f'><rule action='drop' direction='out'>"
      "<mac match='no' srcmacaddr='00:11:22:33:44:55'/></rule>"
      "<rule action='drop' direction='out'><udp match='no' srcipaddr='1.2.3.4'/></rule></filter>",
      "-A libvirt-I-vnet0 -s ! 00:11:22:33:44:55 -j DROP\n"
      "-A FI-vnet0 -p udp ! --source 1.2.3.4 -j DROP\n"
      "-A FO-vnet0 -p udp ! --destination 1.2.3.4 -j DROP\n"
      "-A HI-vnet0 -p udp ! --source 1.2.3.4 -j DROP\n" },
    { "ipset-default-flags",
      "<filter name='f'><rule action='drop' direction='out'><tcp ipset='s1'/></rule></filter>",
      "-A FI-vnet0 -p tcp -m set --match-set s1 src -j DROP\n"
      "-A FO-vnet0 -p tcp -m set --match-set s1 dst -j DROP\n"
      "-A HI-vnet0 -p tcp -m set --match-set s1 src -j DROP\n" },
    { "ip-range",
      "<filter name='f'><rule action='drop' direction='in'>"
      "<udp srcipfrom='1.1.1.1' srcipto='1.1.1.9' dstipfrom='2.2.2.2'/></rule></filter>",
      "-A FI-vnet0 -p udp -m iprange --dst-range 1.1.1.1-1.1.1.9 -m iprange --src-range 2.2.2.2 -j DROP\n"
      "-A FO-vnet0 -p udp -m iprange --src-range 1.1.1.1-1.1.1.9 -m iprange --dst-range 2.2.2.2 -j DROP\n"
      "-A HI-vnet0 -p udp -m iprange --dst-range 1.1.1.1-1.1.1.9 -m iprange --src-range 2.2.2.2 -j DROP\n" },
    { "jump-vlan",
      "<filter name='f' chain='vlan-x'><rule action='drop' direction='out'><vlan vlanid='3'/></rule></filter>",
      "-A libvirt-I-vnet0 -p 0x8100 -j I-vnet0-vlan-x\n" },
    { "jump-stp",
      "<filter name='f' chain='stp'><rule action='drop' direction='in'><stp type='1'/></rule></filter>",
      "-A libvirt-O-vnet0 -d 01:80:c2:00:00:00 -j O-vnet0-stp\n" },
    { "jump-mac",
      "<filter name='f' chain='mac'><rule action='drop' direction='in'><mac/></rule></filter>",
      "-A libvirt-O-vnet0 -j O-vnet0-mac\n" },
    { "jump-rarp-ipv6",
      "<filter name='f' chain='rarp'><rule action='drop' direction='out'><rarp/></rule></filter>",
      "-A libvirt-I-vnet0 -p 0x8035 -j I-vnet0-rarp\n" },
    { "jump-ipv6",
      "<filter name='f' chain='ipv6'><rule action='drop' direction='out'><ipv6/></rule></filter>",
      "-A libvirt-I-vnet0 -p 0x86dd -j I-vnet0-ipv6\n" },
    { "icmp-type-code",
      "<filter name='f'><rule action='drop' direction='out'><icmp type='3' code='1'/></rule></filter>",
      "-A FI-vnet0 -p icmp --icmp-type 3/1 -j DROP\n"
      "-A HI-vnet0 -p icmp --icmp-type 3/1 -j DROP\n" },
};

static void
test_case(gconstpointer data)
{
    const RenderCase *c = data;
    g_autofree char *got = render(c->xml);

    g_assert_cmpstr(got, ==, c->expected);
}

static void
test_chain_names(void)
{
    g_autofree char *a = nwf_ebt_root_chain(NWF_ETH_VM_OUT, TRUE, "vnet0");
    g_autofree char *b = nwf_ebt_root_chain(NWF_ETH_VM_IN, FALSE, "vnet0");
    g_autofree char *c = nwf_ebt_sub_chain(NWF_ETH_VM_IN, TRUE, "vnet0", "arp-xyz");
    g_autofree char *d = nwf_ipt_chain(NWF_IP_TO_VM, TRUE, "vnet0");
    g_autofree char *e = nwf_ipt_chain(NWF_IP_TO_HOST, FALSE, "vnet0");

    g_assert_cmpstr(a, ==, "libvirt-J-vnet0");
    g_assert_cmpstr(b, ==, "libvirt-O-vnet0");
    g_assert_cmpstr(c, ==, "P-vnet0-arp-xyz");
    g_assert_cmpstr(d, ==, "FP-vnet0");
    g_assert_cmpstr(e, ==, "HI-vnet0");
}

static void
test_shell_quote(void)
{
    static const char *const pairs[][2] = {
        { "plain", "plain" }, { "in+NONE", "in+NONE" }, { "!", "'!'" },
        { "a b", "'a b'" }, { "it's", "'it'\\''s'" }, { "", "''" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(pairs); i++) {
        g_autofree char *q = nwf_shell_quote(pairs[i][0]);
        g_assert_cmpstr(q, ==, pairs[i][1]);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/ebiptables/rules/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/ebiptables/rules/chain-names", test_chain_names);
    g_test_add_func("/ebiptables/rules/shell-quote", test_shell_quote);
    return g_test_run();
}
