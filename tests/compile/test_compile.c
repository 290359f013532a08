/* compile: filter trees in, rule programs (or libvirt's errors) out. Each
 * case defines a small set of filters as XML and checks the program. */
#include "config.h"

#include <string.h>

#include "nwfilter/compile.h"
#include "util/nwf_error.h"

typedef struct {
    GHashTable *defs;            /* name -> NwfFilterDef* */
} Filters;

static const NwfFilterDef *
lookup(const char *name, gpointer data)
{
    return g_hash_table_lookup(((Filters *)data)->defs, name);
}

static void
filters_free(Filters *filters)
{
    g_hash_table_unref(filters->defs);
    g_free(filters);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Filters, filters_free)

/* Filters from a NULL-terminated list of XML documents. */
static Filters *
filters_new(const char *first, ...)
{
    Filters *filters = g_new0(Filters, 1);
    va_list ap;

    filters->defs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)nwf_filter_def_free);
    va_start(ap, first);
    for (const char *xml = first; xml; xml = va_arg(ap, const char *)) {
        g_autoptr(GError) error = NULL;
        NwfFilterDef *def = nwf_filter_def_parse_string(xml, -1, &error);
        g_assert_no_error(error);
        g_hash_table_insert(filters->defs, g_strdup(def->name), def);
    }
    va_end(ap);
    return filters;
}

/* PARAMS as "NAME=VALUE NAME=VALUE ..." (a repeated name makes a list). */
static NwfParams *
params_parse(const char *text)
{
    NwfParams *params = nwf_params_new();
    g_auto(GStrv) items = g_strsplit(text ? text : "", " ", -1);

    for (guint i = 0; items[i]; i++) {
        char *eq = strchr(items[i], '=');
        if (!eq)
            continue;
        *eq = '\0';
        g_assert_true(nwf_params_add(params, items[i], eq + 1));
    }
    return params;
}

static const guint8 test_mac[6] = { 0x52, 0x54, 0x00, 0x11, 0x22, 0x33 };

static NwfRuleProgram *
compile_with(Filters *filters, const char *top, const char *params, gboolean with_mac,
             NwfCompileInfo *info, GError **error)
{
    g_autoptr(NwfParams) p = params_parse(params);
    NwfCompileInput input = {
        .ifname = "vnet0",
        .mac = with_mac ? test_mac : NULL,
        .filter = top,
        .params = p,
        .lookup = lookup,
        .lookup_data = filters,
    };

    return nwf_compile(&input, info, error);
}

/* One line per concrete rule or jump, in chain order, for comparison:
 * "eth-out root: mac accept srcmacaddr=..." etc. */
static void
describe_rule(GString *out, const char *where, const NwfRuleInst *rule)
{
    g_string_append_printf(out, "%s: %s %s", where, nwf_protocol_name(rule->protocol),
                           nwf_action_name(rule->action));
    for (guint f = 0; f < NWF_FIELD_LAST; f++) {
        g_autofree char *value = NULL;
        if (!nwf_rule_field(rule, f)->present)
            continue;
        value = nwf_value_format(nwf_rule_field(rule, f), f);
        g_string_append_printf(out, " %s%s=%s", nwf_rule_field(rule, f)->negated ? "!" : "",
                               nwf_field_name(f), value);
    }
    if (rule->ct_state)
        g_string_append_printf(out, " ct=%u", rule->ct_state);
    if (rule->ct_dir)
        g_string_append_printf(out, " dir=%s", rule->ct_dir == NWF_CT_DIR_ORIGINAL ? "orig" : "reply");
    g_string_append_c(out, '\n');
}

static char *
describe(const NwfRuleProgram *program)
{
    static const char *const eth_names[] = { "out", "in" };
    static const char *const ip_names[] = { "FI", "FO", "HI" };
    GString *out = g_string_new(NULL);

    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        const NwfEthChains *eth = &program->eth[d];
        for (guint i = 0; i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
            g_autofree char *where = g_strdup_printf("%s root", eth_names[d]);
            if (entry->kind == NWF_ETH_ENTRY_JUMP)
                g_string_append_printf(out, "%s: jump %s %d\n", where, entry->subchain->suffix,
                                       entry->subchain->priority);
            else
                describe_rule(out, where, entry->rule);
        }
        for (guint s = 0; s < eth->subchains->len; s++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, s);
            g_autofree char *where = g_strdup_printf("%s %s", eth_names[d], sub->suffix);
            for (guint i = 0; i < sub->rules->len; i++)
                describe_rule(out, where, g_ptr_array_index(sub->rules, i));
        }
    }
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            g_autofree char *where = g_strdup_printf("%s%s", v ? "v6 " : "", ip_names[c]);
            for (guint i = 0; i < program->ip[v].chains[c]->len; i++)
                describe_rule(out, where, g_ptr_array_index(program->ip[v].chains[c], i));
        }
    }
    return g_string_free(out, FALSE);
}

#define assert_program(program, expected) \
    G_STMT_START { \
        g_autofree char *got__ = describe(program); \
        g_assert_cmpstr(got__, ==, expected); \
    } G_STMT_END

/* --- tree errors ----------------------------------------------------------- */

static void
test_loop(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='a'><filterref filter='b'/></filter>",
        "<filter name='b'><filterref filter='c'/></filter>",
        "<filter name='c'><filterref filter='a'/></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "a", NULL, TRUE, NULL, &error);

    g_assert_null(p);
    g_assert_error(error, NWF_ERROR, NWF_ERR_OPERATION_FAILED);
    g_assert_cmpstr(error->message, ==,
                    "operation failed: filter would introduce a loop: 'a' -> 'b' -> 'c' -> 'a'");
}

static void
test_self_loop(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='top'><filterref filter='self'/></filter>",
        "<filter name='self'><rule action='drop' direction='in'/><filterref filter='self'/></filter>",
        NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "top", NULL, TRUE, NULL, &error);

    g_assert_null(p);
    g_assert_cmpstr(error->message, ==,
                    "operation failed: filter would introduce a loop: 'self' -> 'self'");
}

static void
test_missing_filter(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='a'><filterref filter='gone'/></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "a", NULL, TRUE, NULL, &error);

    g_assert_null(p);
    g_assert_error(error, NWF_ERROR, NWF_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(error->message, ==, "internal error: referenced filter 'gone' is missing");
    g_clear_error(&error);
    g_assert_null(compile_with(f, "nope", NULL, TRUE, NULL, &error));
    g_assert_cmpstr(error->message, ==, "internal error: referenced filter 'nope' is missing");
}

/* A diamond reaches the shared filter twice: its rules come twice, and the
 * filter is listed once. */
static void
test_duplicate_reference(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='top'><filterref filter='l'/><filterref filter='r'/></filter>",
        "<filter name='l'><filterref filter='leaf'/></filter>",
        "<filter name='r'><filterref filter='leaf'/></filter>",
        "<filter name='leaf' chain='mac'><rule action='drop' direction='out'>"
        "<mac protocolid='0x1234'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "top", NULL, TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "out root: jump mac -800\n"
        "out mac: mac drop protocolid=0x1234\n"
        "out mac: mac drop protocolid=0x1234\n");
    g_assert_cmpuint(p->filters->len, ==, 4);
    g_assert_cmpstr(g_ptr_array_index(p->filters, 0), ==, "top");
    g_assert_cmpstr(g_ptr_array_index(p->filters, 3), ==, "r");
}

/* --- variables ------------------------------------------------------------- */

static const char *const ip_rule_filter =
    "<filter name='f'><rule action='accept' direction='out'>"
    "<ip srcipaddr='$A' dstipaddr='$B'/></rule></filter>";

static void
test_var_parallel(void)
{
    g_autoptr(Filters) f = filters_new(ip_rule_filter, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", "A=1.1.1.1 A=2.2.2.2 B=3.3.3.3 B=4.4.4.4",
                                               TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "out root: ip accept srcipaddr=1.1.1.1 dstipaddr=3.3.3.3\n"
        "out root: ip accept srcipaddr=2.2.2.2 dstipaddr=4.4.4.4\n");
    g_assert_cmpstr(((NwfEthEntry *)g_ptr_array_index(p->eth[0].entries, 1))->rule->origin.vars,
                    ==, "A=2.2.2.2 B=4.4.4.4");
}

static void
test_var_cardinality(void)
{
    g_autoptr(Filters) f = filters_new(ip_rule_filter, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", "A=1.1.1.1 A=2.2.2.2 B=3.3.3.3",
                                               TRUE, NULL, &error);

    g_assert_null(p);
    g_assert_cmpstr(error->message, ==,
                    "internal error: Cardinality of list items must be the same for processing them in parallel");
}

/* Independent iterators: cartesian product, first iterator fastest. */
static void
test_var_iterators(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='drop' direction='in'>"
        "<ip srcipaddr='$A[@1]' dstipaddr='$B[@2]'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", "A=1.1.1.1 A=2.2.2.2 B=3.3.3.3 B=4.4.4.4",
                                               TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "in root: ip drop srcipaddr=1.1.1.1 dstipaddr=3.3.3.3\n"
        "in root: ip drop srcipaddr=2.2.2.2 dstipaddr=3.3.3.3\n"
        "in root: ip drop srcipaddr=1.1.1.1 dstipaddr=4.4.4.4\n"
        "in root: ip drop srcipaddr=2.2.2.2 dstipaddr=4.4.4.4\n");
}

/* $A[1] is a constant; repeated tuples of one iterator are skipped. */
static void
test_var_index_and_dedup(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='drop' direction='in'>"
        "<ip srcipaddr='$D' dstipaddr='$A[1]'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f",
        "A=1.1.1.1 A=2.2.2.2 D=5.5.5.5 D=6.6.6.6 D=5.5.5.5", TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "in root: ip drop srcipaddr=5.5.5.5 dstipaddr=2.2.2.2\n"
        "in root: ip drop srcipaddr=6.6.6.6 dstipaddr=2.2.2.2\n");
}

static void
test_var_unresolved(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='drop' direction='in'>"
        "<ip srcipaddr='$FOO' dstipaddr='$A[5]'/></rule>"
        "<rule action='drop' direction='in'><ip srcipaddr='$IP'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    NwfCompileInfo info;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", "A=1.1.1.1", TRUE, &info, &error);

    g_assert_null(p);
    /* IP is left out of the list when anything else is missing */
    g_assert_cmpstr(error->message, ==,
                    "internal error: Cannot instantiate filter due to unresolvable variables "
                    "or unavailable list elements: FOO, A[5]");
    g_assert_false(info.needs_ip);
}

static void
test_var_ip_learning(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='drop' direction='in'><ip srcipaddr='$IP'/></rule></filter>",
        NULL);
    g_autoptr(GError) error = NULL;
    NwfCompileInfo info;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, &info, &error);

    g_assert_null(p);
    g_assert_true(info.needs_ip);
    g_assert_cmpint(info.learning, ==, NWF_IP_LEARNING_ANY);
    g_assert_cmpstr(error->message, ==,
                    "internal error: Cannot instantiate filter due to unresolvable variables "
                    "or unavailable list elements: IP");
    g_clear_error(&error);

    g_assert_null(compile_with(f, "f", "CTRL_IP_LEARNING=DHCP", TRUE, &info, &error));
    g_assert_true(info.needs_ip);
    g_assert_cmpint(info.learning, ==, NWF_IP_LEARNING_DHCP);
    g_clear_error(&error);

    g_assert_null(compile_with(f, "f", "CTRL_IP_LEARNING=none", TRUE, &info, &error));
    g_assert_false(info.needs_ip);
    g_clear_error(&error);

    g_assert_null(compile_with(f, "f", "CTRL_IP_LEARNING=sometimes", TRUE, &info, &error));
    g_assert_cmpstr(error->message, ==,
                    "failed to parse configuration file filter 'f' learning value 'sometimes' invalid.");
}

/* $MAC comes from the port unless the binding gives it. */
static void
test_var_mac(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='return' direction='out'><mac srcmacaddr='$MAC'/></rule></filter>",
        NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, NULL, &error);
    g_autoptr(NwfRuleProgram) q = NULL;

    g_assert_no_error(error);
    assert_program(p, "out root: mac return srcmacaddr=52:54:00:11:22:33\n");
    q = compile_with(f, "f", "MAC=00:11:22:33:44:55", TRUE, NULL, &error);
    g_assert_no_error(error);
    assert_program(q, "out root: mac return srcmacaddr=00:11:22:33:44:55\n");
}

/* A filterref parameter is a default the caller's value overrides. */
static void
test_var_propagation(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='top'><filterref filter='child'><parameter name='P' value='5'/>"
        "</filterref></filter>",
        "<filter name='child'><rule action='accept' direction='in'>"
        "<tcp dstportstart='$P'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) def = compile_with(f, "top", NULL, TRUE, NULL, &error);
    g_autoptr(NwfRuleProgram) over = NULL;

    g_assert_no_error(error);
    g_assert_cmpuint(def->ip[NWF_IP_V4].chains[NWF_IP_TO_VM]->len, ==, 1);
    g_assert_cmpuint(nwf_rule_field(g_ptr_array_index(def->ip[0].chains[NWF_IP_TO_VM], 0),
                                    NWF_FIELD_DSTPORTSTART)->u.num, ==, 5);
    over = compile_with(f, "top", "P=7", TRUE, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(nwf_rule_field(g_ptr_array_index(over->ip[0].chains[NWF_IP_TO_VM], 0),
                                    NWF_FIELD_DSTPORTSTART)->u.num, ==, 7);
}

/* A variable's value is checked against the attribute it lands in. */
static void
test_var_validation(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='accept' direction='in'>"
        "<tcp dstportstart='$P'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", "P=70000", TRUE, NULL, &error);

    g_assert_null(p);
    g_assert_cmpstr(error->message, ==, "internal error: dstportstart has illegal value 70000");
    g_clear_error(&error);
    g_assert_null(compile_with(f, "f", "P=1.2.3.4", TRUE, NULL, &error));
    g_assert_cmpstr(error->message, ==, "internal error: dstportstart has illegal value 1.2.3.4");
}

/* A line break in a comment could end the rule in a restore batch. */
static void
test_comment_newline(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='accept' direction='in'>"
        "<tcp comment='x&#10;-A INPUT -j ACCEPT'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, NULL, &error);

    g_assert_null(p);
    g_assert_error(error, NWF_ERROR, NWF_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "line break"));
}

/* --- ordering -------------------------------------------------------------- */

/* Three levels of filterref, rules of several chains and priorities: root
 * rules first, then by (adjusted) priority, ties in tree order; sub-chain
 * jumps interleave with root rules by chain priority. */
static void
test_priority_three_levels(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='top'>"
        "  <rule action='drop' direction='out' priority='600'><mac protocolid='0x1111'/></rule>"
        "  <filterref filter='mid'/>"
        "  <rule action='accept' direction='out' priority='-550'><mac protocolid='0x2222'/></rule>"
        "</filter>",
        "<filter name='mid' chain='ipv4'>"
        "  <rule action='return' direction='out' priority='100'><ip protocol='udp'/></rule>"
        "  <filterref filter='leaf'/>"
        "  <rule action='drop' direction='out' priority='-800'><ip protocol='tcp'/></rule>"
        "</filter>",
        "<filter name='leaf' chain='arp'>"
        "  <rule action='return' direction='out' priority='-510'><arp opcode='1'/></rule>"
        "  <rule action='drop' direction='out'><arp/></rule>"
        "</filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "top", NULL, TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "out root: jump ipv4 -700\n"
        "out root: mac accept protocolid=0x2222\n"
        "out root: jump arp -500\n"
        "out root: mac drop protocolid=0x1111\n"
        /* the -800 rule sorts at its chain's -700, before the 100 one */
        "out ipv4: ip drop protocol=tcp\n"
        "out ipv4: ip return protocol=udp\n"
        /* -510 is raised to -500; ties keep tree order */
        "out arp: arp return opcode=Request\n"
        "out arp: arp drop\n");
}

/* IP-layer rules of non-root filters come after all root ones. */
static void
test_priority_ip_layer(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='top'>"
        "  <filterref filter='sub'/>"
        "  <rule action='drop' direction='inout' priority='900'><udp/></rule>"
        "</filter>",
        "<filter name='sub' chain='ipv4'>"
        "  <rule action='drop' direction='inout' priority='-900'><tcp/></rule>"
        "</filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "top", NULL, TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "FI: udp drop\nFI: tcp drop\n"
        "FO: udp drop\nFO: tcp drop\n"
        "HI: udp drop\nHI: tcp drop\n");
    g_assert_false(p->eth[NWF_ETH_VM_OUT].present);
    g_assert_true(p->ip[NWF_IP_V4].present);
    g_assert_false(p->ip[NWF_IP_V6].present);
}

/* --- layout ---------------------------------------------------------------- */

static void
test_layout_inout_ethernet(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='accept' direction='inout'>"
        "<ip srcipaddr='1.2.3.4' srcportstart='10' protocol='udp'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "out root: ip accept dstipaddr=1.2.3.4 protocol=udp dstportstart=10\n"
        "in root: ip accept srcipaddr=1.2.3.4 protocol=udp srcportstart=10\n");
}

static void
test_layout_ip_default_state(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='accept' direction='in'>"
        "<tcp srcmacaddr='00:11:22:33:44:55' srcipaddr='10.0.0.5' dstportstart='22'/></rule>"
        "<rule action='drop' direction='inout'><all srcmacaddr='00:11:22:33:44:55'/></rule>"
        "</filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "FI: tcp accept dstipaddr=10.0.0.5 srcportstart=22 ct=2 dir=reply\n"
        "FO: tcp accept srcmacaddr=00:11:22:33:44:55 srcipaddr=10.0.0.5 dstportstart=22 ct=3 dir=orig\n"
        "FO: all drop srcmacaddr=00:11:22:33:44:55\n"
        "HI: tcp accept dstipaddr=10.0.0.5 srcportstart=22 ct=2 dir=reply\n");
}

static void
test_layout_ip_explicit_state(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'>"
        "<rule action='drop' direction='out'><tcp state='INVALID'/></rule>"
        "<rule action='accept' direction='inout'><udp state='NEW,ESTABLISHED'/></rule>"
        "<rule action='accept' direction='in' statematch='false'><udp state='NEW'/></rule>"
        "</filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "FI: tcp drop ct=8\nFI: udp accept ct=3\nFI: udp accept\n"
        "FO: udp accept ct=3\nFO: udp accept\n"
        "HI: tcp drop ct=8\nHI: udp accept ct=3\nHI: udp accept\n");
}

static void
test_layout_icmp_and_connlimit(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'>"
        "<rule action='accept' direction='out'><icmp type='8'/></rule>"
        "<rule action='accept' direction='inout'><icmp type='0'/></rule>"
        "<rule action='accept' direction='out'><tcp connlimit-above='3'/></rule>"
        "</filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, NULL, &error);

    g_assert_no_error(error);
    assert_program(p,
        "FI: icmp accept type=8 ct=3\nFI: tcp accept connlimit-above=3\n"
        "HI: icmp accept type=8 ct=3\nHI: tcp accept connlimit-above=3\n");
}

static void
test_layout_stp_inout_error(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='f'><rule action='drop' direction='inout'>"
        "<stp srcmacaddr='00:11:22:33:44:55'/></rule></filter>", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) p = compile_with(f, "f", NULL, TRUE, NULL, &error);

    g_assert_null(p);
    g_assert_cmpstr(error->message, ==,
                    "internal error: STP filtering in inout direction with source MAC address set is not supported");
}

#define BATCH_BINDINGS 200

/* Bindings compiled in a batch on several threads come out exactly as each
 * compiled alone, in their places; one that cannot compile (here: $IP
 * missing) is NULL and takes nothing else down. */
static void
test_batch_like_alone(void)
{
    g_autoptr(Filters) f = filters_new(
        "<filter name='leaf' chain='ipv4'><rule action='accept' direction='out'>"
        "<ip srcipaddr='$IP' dstipaddr='$DST'/></rule>"
        "<rule action='drop' direction='inout'><tcp dstportstart='$PORT'/></rule></filter>",
        "<filter name='top'><filterref filter='leaf'><parameter name='DST' value='10.9.9.9'/>"
        "</filterref><rule action='return' direction='out'><mac srcmacaddr='$MAC'/></rule>"
        "</filter>", NULL);
    g_autoptr(GPtrArray) bindings =
        g_ptr_array_new_with_free_func((GDestroyNotify)nwf_binding_def_free);
    g_autofree NwfRuleProgram **programs = g_new0(NwfRuleProgram *, BATCH_BINDINGS);

    for (guint i = 0; i < BATCH_BINDINGS; i++) {
        g_autofree char *xml = g_strdup_printf(
            "<filterbinding><owner><name>vm%u</name>"
            "<uuid>11111111-2222-3333-4444-%012x</uuid></owner>"
            "<portdev name='vnet%u'/><mac address='52:54:00:00:%02x:%02x'/>"
            "<filterref filter='top'>%s<parameter name='PORT' value='%u'/>"
            "<parameter name='PORT' value='%u'/></filterref></filterbinding>",
            i, i, i, i >> 8, i & 255,
            i == 77 ? "" : "<parameter name='IP' value='10.0.0.1'/>", 1000 + i, 2000 + i);
        g_autoptr(GError) error = NULL;
        NwfBindingDef *def = nwf_binding_def_parse_string(xml, -1, &error);
        g_assert_no_error(error);
        g_ptr_array_add(bindings, def);
    }
    g_autofree NwfCompileInfo *infos = g_new0(NwfCompileInfo, BATCH_BINDINGS);

    nwf_compile_bindings((const NwfBindingDef *const *)bindings->pdata, bindings->len, lookup, f,
                         4, programs, infos);
    for (guint i = 0; i < BATCH_BINDINGS; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(NwfRuleProgram) alone = nwf_compile_binding(g_ptr_array_index(bindings, i),
                                                              lookup, f, NULL, NULL, &error);
        g_autoptr(NwfRuleProgram) batch = programs[i];
        g_autofree char *want = NULL, *got = NULL;

        if (i == 77) {
            g_assert_null(alone);
            g_assert_null(batch);
            g_assert_true(infos[i].needs_ip);
            continue;
        }
        g_assert_false(infos[i].needs_ip);
        g_assert_no_error(error);
        g_assert_nonnull(batch);
        g_assert_cmpstr(batch->ifname, ==, alone->ifname);
        want = describe(alone);
        got = describe(batch);
        g_assert_nonnull(strstr(got, "52:54:00:00:"));
        g_assert_cmpstr(got, ==, want);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/compile/tree/loop", test_loop);
    g_test_add_func("/compile/tree/self-loop", test_self_loop);
    g_test_add_func("/compile/tree/missing-filter", test_missing_filter);
    g_test_add_func("/compile/tree/duplicate-reference", test_duplicate_reference);
    g_test_add_func("/compile/vars/parallel", test_var_parallel);
    g_test_add_func("/compile/vars/cardinality", test_var_cardinality);
    g_test_add_func("/compile/vars/iterators", test_var_iterators);
    g_test_add_func("/compile/vars/index-and-dedup", test_var_index_and_dedup);
    g_test_add_func("/compile/vars/unresolved", test_var_unresolved);
    g_test_add_func("/compile/vars/ip-learning", test_var_ip_learning);
    g_test_add_func("/compile/vars/mac", test_var_mac);
    g_test_add_func("/compile/vars/propagation", test_var_propagation);
    g_test_add_func("/compile/vars/validation", test_var_validation);
    g_test_add_func("/compile/vars/comment-newline", test_comment_newline);
    g_test_add_func("/compile/order/three-levels", test_priority_three_levels);
    g_test_add_func("/compile/order/ip-layer", test_priority_ip_layer);
    g_test_add_func("/compile/layout/inout-ethernet", test_layout_inout_ethernet);
    g_test_add_func("/compile/layout/ip-default-state", test_layout_ip_default_state);
    g_test_add_func("/compile/layout/ip-explicit-state", test_layout_ip_explicit_state);
    g_test_add_func("/compile/layout/icmp-connlimit", test_layout_icmp_and_connlimit);
    g_test_add_func("/compile/layout/stp-inout", test_layout_stp_inout_error);
    g_test_add_func("/compile/batch/like-alone", test_batch_like_alone);
    return g_test_run();
}
