/* The nftables renderer, without a kernel: rule programs (built by hand
 * with the rule_program.h builders, or compiled from libvirt's xml2firewall
 * vectors listed in the manifest) must render to the transaction text in
 * tests/nft/data. Set NWF_NFT_REGENERATE=1 to rewrite the expected files
 * after a deliberate change (then review the diff). */
#include "config.h"

#include <string.h>

#include "nwfilter/backend.h"
#include "nwfilter/backend_nft.h"
#include "nwfilter/compile.h"
#include "vector_harness.h"
#include "util/nwf_error.h"

static char *data_dir;
static char *vector_root;

static void
check_text(const char *expected_file, const char *text)
{
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    if (g_getenv("NWF_NFT_REGENERATE")) {
        g_assert_true(g_file_set_contents(expected_file, text, -1, &error));
        return;
    }
    g_file_get_contents(expected_file, &expected, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(text, ==, expected);
}

static char *
render(const NwfRuleProgram *program, gboolean counters, GError **error)
{
    NwfBackend *backend = nwf_backend_nft_new();
    char *text;

    nwf_backend_nft_set_counters(backend, counters);
    text = backend->ops->render(backend, program, error);
    backend->ops->free(backend);
    return text;
}

/* --- programs built by hand ------------------------------------------------ */

/* FIELD of RULE from TEXT, parsed as the XML attribute would be. */
static void
set_field(NwfRuleInst *rule, NwfField field, const char *text, gboolean negated)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(nwf_value_parse(rule->protocol, field, text, nwf_rule_field_put(rule, field), &error));
    g_assert_no_error(error);
    nwf_rule_field_put(rule, field)->negated = negated;
}

static NwfRuleInst *
rule_new(NwfProtocol protocol, NwfAction action, const char *filter, int priority)
{
    NwfRuleInst *rule = nwf_rule_inst_new(protocol, action);

    g_free(rule->origin.filter);
    rule->origin.filter = g_strdup(filter);
    rule->origin.priority = priority;
    return rule;
}

/* Ethernet layer: root rules around a sub-chain jump, negation, masks,
 * every action's verdict. */
static NwfRuleProgram *
program_ethernet(void)
{
    NwfRuleProgram *p = nwf_rule_program_new("vnet7");
    NwfEthSubChain *sub;
    NwfRuleInst *r;

    r = rule_new(NWF_PROTO_MAC, NWF_ACTION_DROP, "anti-spoof", 100);
    set_field(r, NWF_FIELD_SRCMACADDR, "52:54:00:aa:bb:cc", TRUE);
    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_OUT, NULL, r);
    sub = nwf_rule_program_eth_add_subchain(p, NWF_ETH_VM_OUT, "arp:x", NWF_CHAIN_ARP, -500);
    r = rule_new(NWF_PROTO_ARP, NWF_ACTION_RETURN, "arp-filter", -500);
    set_field(r, NWF_FIELD_OPCODE, "Request", FALSE);
    set_field(r, NWF_FIELD_ARPSRCIPADDR, "10.1.2.3", FALSE);
    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_OUT, sub, r);
    r = rule_new(NWF_PROTO_NONE, NWF_ACTION_DROP, "arp-filter", 1000);
    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_OUT, sub, r);
    r = rule_new(NWF_PROTO_MAC, NWF_ACTION_REJECT, "top", 600);
    set_field(r, NWF_FIELD_DSTMACADDR, "01:00:5e:00:00:00", FALSE);
    set_field(r, NWF_FIELD_DSTMACMASK, "ff:ff:ff:80:00:00", FALSE);
    set_field(r, NWF_FIELD_PROTOCOLID, "ipv4", TRUE);
    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_OUT, NULL, r);
    r = rule_new(NWF_PROTO_NONE, NWF_ACTION_CONTINUE, "top", 700);
    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_IN, NULL, r);
    r = rule_new(NWF_PROTO_NONE, NWF_ACTION_ACCEPT, "top", 800);
    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_IN, NULL, r);
    return p;
}

/* IP layers: the three chains' verdicts for accept, reject, conntrack. */
static NwfRuleProgram *
program_ip(void)
{
    NwfRuleProgram *p = nwf_rule_program_new("tap0");
    NwfRuleInst *r;

    for (NwfIpChain c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        r = rule_new(NWF_PROTO_TCP, NWF_ACTION_ACCEPT, "web", 400);
        set_field(r, c == NWF_IP_TO_VM ? NWF_FIELD_DSTPORTSTART : NWF_FIELD_SRCPORTSTART, "80",
                  FALSE);
        r->ct_state = c == NWF_IP_TO_VM ? NWF_STATE_NEW | NWF_STATE_ESTABLISHED
                                        : NWF_STATE_ESTABLISHED;
        r->ct_dir = c == NWF_IP_TO_VM ? NWF_CT_DIR_ORIGINAL : NWF_CT_DIR_REPLY;
        nwf_rule_program_ip_add_rule(p, NWF_IP_V4, c, r);
        r = rule_new(NWF_PROTO_UDP, NWF_ACTION_REJECT, "web", 900);
        nwf_rule_program_ip_add_rule(p, NWF_IP_V4, c, r);
    }
    nwf_rule_program_ip_enable(p, NWF_IP_V6);
    r = rule_new(NWF_PROTO_ICMPV6, NWF_ACTION_DROP, "v6", 500);
    set_field(r, NWF_FIELD_ICMP_TYPE, "128", TRUE);
    nwf_rule_program_ip_add_rule(p, NWF_IP_V6, NWF_IP_FROM_VM, r);
    return p;
}

typedef struct {
    const char *name;
    NwfRuleProgram *(*build)(void);
    gboolean counters;
} BuiltCase;

static const BuiltCase built_cases[] = {
    { "built-ethernet", program_ethernet, FALSE },
    { "built-ip", program_ip, FALSE },
    { "built-ip-counters", program_ip, TRUE },
};

static void
test_built(gconstpointer data)
{
    const BuiltCase *c = data;
    g_autoptr(NwfRuleProgram) program = c->build();
    g_autoptr(GError) error = NULL;
    g_autofree char *text = render(program, c->counters, &error);
    g_autofree char *file = g_strdup_printf("%s/%s.nft", data_dir, c->name);

    g_assert_no_error(error);
    check_text(file, text);
}

/* A name nft identifiers cannot hold is refused, not spliced. */
static void
test_bad_ifname(void)
{
    static const char *const names[] = { "0tap", "tap\"x", "a b", "tap;x", "-x" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(NwfRuleProgram) program = nwf_rule_program_new(names[i]);
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        nwf_rule_program_eth_add_rule(program, NWF_ETH_VM_OUT, NULL,
                                      rule_new(NWF_PROTO_NONE, NWF_ACTION_DROP, "f", 1));
        text = render(program, FALSE, &error);
        g_assert_null(text);
        g_assert_error(error, NWF_ERROR, NWF_ERR_CONFIG_UNSUPPORTED);
    }
}

/* Quotes and control characters in a comment never reach the rule text. */
static void
test_comment_escape(void)
{
    g_autoptr(NwfRuleProgram) program = nwf_rule_program_new("vnet0");
    NwfRuleInst *r = rule_new(NWF_PROTO_MAC, NWF_ACTION_DROP, "evil\"name", 5);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    set_field(r, NWF_FIELD_COMMENT, "x\"; flush ruleset\n\\", FALSE);
    nwf_rule_program_eth_add_rule(program, NWF_ETH_VM_OUT, NULL, r);
    text = render(program, FALSE, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(text, "comment \"evil_name 5 x_; flush ruleset__\"\n"));
    g_assert_null(strstr(text, "\"; flush"));
}

/* --- libvirt's xml2firewall vectors ----------------------------------------- */

static void
test_vector(gconstpointer data)
{
    const char *input = data;     /* "xml2firewall/NAME.xml" */
    g_autofree char *path = g_build_filename(vector_root, input, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) top = nwf_filter_def_parse_file(path, &error);
    g_autoptr(GHashTable) defs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify)nwf_filter_def_free);
    g_autoptr(NwfParams) params = nwf_test_vector_params();
    g_autoptr(NwfRuleProgram) program = NULL;
    g_autofree char *text = NULL;
    NwfTestDirLookup lookup = { dir, defs };
    NwfCompileInput in = { .ifname = "vnet0", .params = params, .lookup = nwf_test_dir_lookup,
                           .lookup_data = &lookup };

    g_assert_no_error(error);
    g_hash_table_insert(defs, g_strdup_printf("%s/%s.xml", dir, top->name),
                        nwf_filter_def_copy(top));
    in.filter = top->name;
    program = nwf_compile(&in, NULL, &error);
    g_assert_no_error(error);
    text = render(program, FALSE, &error);
    *strrchr(base, '.') = '\0';
    if (strcmp(base, "ipset") == 0) {
        /* nftables cannot reach ipset sets: refused with a clear message */
        g_assert_error(error, NWF_ERROR, NWF_ERR_CONFIG_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, "tck_test"));
        return;
    }
    g_assert_no_error(error);
    expected = g_strdup_printf("%s/xml2firewall/%s.nft", data_dir, base);
    check_text(expected, text);
}

static GPtrArray *
manifest_inputs(const char *manifest)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    g_assert_true(g_file_get_contents(manifest, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) cols = g_strsplit(lines[i], "\t", -1);
        /* rows without an expected file are parse-only samples */
        if (g_strv_length(cols) >= 4 && strcmp(cols[0], "xml2firewall") == 0 &&
            strcmp(cols[2], "-") != 0 && strcmp(cols[3], "ok") == 0)
            g_ptr_array_add(out, g_strdup(cols[1]));
    }
    return out;
}

int
main(int argc, char **argv)
{
    const char *shared = g_getenv("NWF_SHARED");
    const char *source = g_getenv("NWF_SOURCE_ROOT");
    g_autofree char *manifest = NULL;
    g_autoptr(GPtrArray) inputs = NULL;

    g_test_init(&argc, &argv, NULL);
    g_assert_nonnull(shared);
    g_assert_nonnull(source);
    data_dir = g_build_filename(source, "tests", "nft", "data", NULL);
    vector_root = g_build_filename(shared, "vectors", "libvirt", NULL);
    manifest = g_build_filename(vector_root, "manifest.tsv", NULL);
    inputs = manifest_inputs(manifest);
    g_assert_cmpuint(inputs->len, ==, 39);

    for (guint i = 0; i < G_N_ELEMENTS(built_cases); i++) {
        g_autofree char *name = g_strdup_printf("/nft/render/%s", built_cases[i].name);
        g_test_add_data_func(name, &built_cases[i], test_built);
    }
    g_test_add_func("/nft/render/bad-ifname", test_bad_ifname);
    g_test_add_func("/nft/render/comment-escape", test_comment_escape);
    for (guint i = 0; i < inputs->len; i++) {
        g_autofree char *name = g_strdup_printf("/nft/render/%s",
                                                (const char *)g_ptr_array_index(inputs, i));
        g_test_add_data_func(name, g_ptr_array_index(inputs, i), test_vector);
    }
    return g_test_run();
}
