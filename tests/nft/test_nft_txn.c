/* Transactions of the nftables backend against the kernel, in a private
 * network namespace this process enters with unshare (root): several ports
 * in one batch apply all or nothing, the last change of a port in a batch
 * wins, a stale picture of our tables is re-read and the change retried,
 * ids come and go with the IP layers of groups, a group whose ports all
 * move to one new filter is rewritten in place. */
#include "config.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "nwfilter/backend.h"
#include "nwfilter/backend_nft.h"
#include "nwfilter/backend_nft_private.h"
#include "util/nwf_error.h"

static struct nft_ctx *probe_ctx;   /* a second client, to look and to meddle */

static char *
nft_text(const char *cmd)
{
    g_assert_cmpint(nft_run_cmd_from_buffer(probe_ctx, cmd), ==, 0);
    return g_strdup(nft_ctx_get_output_buffer(probe_ctx));
}

static char *
ruleset(void)
{
    return nft_text("list ruleset");
}

static void
reset(void)
{
    g_free(nft_text("flush ruleset"));
}

static NwfRuleInst *
rule(NwfProtocol protocol, NwfAction action, NwfField field, const char *value)
{
    NwfRuleInst *r = nwf_rule_inst_new(protocol, action);
    g_autoptr(GError) error = NULL;

    g_free(r->origin.filter);
    r->origin.filter = g_strdup("txn-test");
    if (field != NWF_FIELD_LAST) {
        g_assert_true(nwf_value_parse(protocol, field, value, nwf_rule_field_put(r, field), &error));
        g_assert_no_error(error);
    }
    return r;
}

/* An IP-layer drop of tcp to PORT, from the VM */
static void
tcp_drop_add(NwfRuleProgram *p, const char *port)
{
    nwf_rule_program_ip_add_rule(p, NWF_IP_V4, NWF_IP_FROM_VM,
                                 rule(NWF_PROTO_TCP, NWF_ACTION_DROP, NWF_FIELD_DSTPORTSTART,
                                      port));
}

/* A port with an ethernet drop rule and, if PORT is given, a tcp rule. */
static NwfRuleProgram *
program(const char *ifname, const char *port)
{
    NwfRuleProgram *p = nwf_rule_program_new(ifname);

    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_OUT, NULL,
                                  rule(NWF_PROTO_MAC, NWF_ACTION_DROP, NWF_FIELD_SRCMACADDR,
                                       "52:54:00:00:00:99"));
    if (port)
        tcp_drop_add(p, port);
    return p;
}

/* A program the kernel refuses: a port range running backwards. */
static NwfRuleProgram *
program_refused(const char *ifname)
{
    NwfRuleProgram *p = program(ifname, NULL);
    NwfRuleInst *r = rule(NWF_PROTO_TCP, NWF_ACTION_DROP, NWF_FIELD_DSTPORTSTART, "100");
    g_autoptr(GError) error = NULL;

    g_assert_true(nwf_value_parse(NWF_PROTO_TCP, NWF_FIELD_DSTPORTEND, "50",
                                  nwf_rule_field_put(r, NWF_FIELD_DSTPORTEND), &error));
    nwf_rule_program_ip_add_rule(p, NWF_IP_V4, NWF_IP_FROM_VM, r);
    return p;
}

typedef struct {
    const NwfRuleProgram *set[4];
    const char *remove[4];
} Change;

static gboolean
commit(NwfBackend *backend, const Change *change, GError **error)
{
    NwfBackendTxn *txn = backend->ops->txn_begin(backend);

    for (guint i = 0; i < G_N_ELEMENTS(change->set) && change->set[i]; i++) {
        if (!backend->ops->txn_set_port(txn, change->set[i], error)) {
            backend->ops->txn_abort(txn);
            return FALSE;
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(change->remove) && change->remove[i]; i++)
        g_assert_true(backend->ops->txn_remove_port(txn, change->remove[i], error));
    return backend->ops->txn_commit(txn, error);
}

static NwfBackend *
backend_new(void)
{
    NwfBackend *backend = nwf_backend_nft_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(backend->ops->probe(backend, &error));
    g_assert_no_error(error);
    return backend;
}

static void
test_all_or_nothing(void)
{
    NwfBackend *backend = backend_new();
    g_autoptr(NwfRuleProgram) a = program("vnet0", "22");
    g_autoptr(NwfRuleProgram) b = program_refused("vnet1");
    g_autoptr(NwfRuleProgram) c = program("vnet2", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    Change first = { .set = { c } };
    Change bad = { .set = { a, b }, .remove = { "vnet2" } };

    reset();
    g_assert_true(commit(backend, &first, &error));
    before = ruleset();
    g_assert_false(commit(backend, &bad, &error));
    g_assert_error(error, NWF_FIREWALL_ERROR, NWF_ERR_INTERNAL_ERROR);
    after = ruleset();
    g_assert_cmpstr(before, ==, after);
    g_assert_nonnull(strstr(after, "\"vnet2\" : jump " NWF_NFT_GROUP_PREFIX));
    g_assert_null(strstr(after, "\"vnet0\""));
    backend->ops->free(backend);
}

static void
test_last_change_wins(void)
{
    NwfBackend *backend = backend_new();
    g_autoptr(NwfRuleProgram) v1 = program("vnet0", "22");
    g_autoptr(NwfRuleProgram) v2 = program("vnet0", "23");
    g_autoptr(NwfRuleProgram) other = program("vnet1", "24");
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    Change change = { .set = { v1, v2, other }, .remove = { "vnet1" } };

    reset();
    g_assert_true(commit(backend, &change, &error));
    text = ruleset();
    g_assert_nonnull(strstr(text, "tcp dport 23 drop"));
    g_assert_null(strstr(text, "tcp dport 22 drop"));
    g_assert_null(strstr(text, "vnet1"));
    backend->ops->free(backend);
}

/* Someone deleted a dispatch element of ours: the next change (which would
 * delete it) fails, re-reads and succeeds. */
static void
test_stale_state_retried(void)
{
    NwfBackend *backend = backend_new();
    g_autoptr(NwfRuleProgram) v1 = program("vnet0", "22");
    g_autoptr(NwfRuleProgram) v2 = program("vnet0", "23");
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    Change first = { .set = { v1 } };
    Change second = { .set = { v2 } };

    reset();
    g_assert_true(commit(backend, &first, &error));
    g_free(nft_text("delete element inet nwfilter from4 { 0x00000001 }"));
    g_assert_true(commit(backend, &second, &error));
    g_assert_no_error(error);
    text = ruleset();
    g_assert_nonnull(strstr(text, "tcp dport 23 drop"));
    g_assert_nonnull(strstr(text, "0x00000001 : jump " NWF_NFT_GROUP_PREFIX));
    backend->ops->free(backend);
}

/* Ids exist only while a port has an IP layer and are reused once free. */
static void
test_port_ids(void)
{
    NwfBackend *backend = backend_new();
    g_autoptr(NwfRuleProgram) eth_only = program("vnet0", NULL);
    g_autoptr(NwfRuleProgram) a = program("vnet1", "22");
    g_autoptr(NwfRuleProgram) b = program("vnet2", "22");
    g_autoptr(NwfRuleProgram) c = program("vnet3", "22");
    g_autoptr(NwfRuleProgram) d = program("vnet4", "23");
    g_autoptr(GError) error = NULL;
    g_autofree char *text1 = NULL, *text2 = NULL, *maps2 = NULL, *maps3 = NULL, *text4 = NULL;
    Change first = { .set = { eth_only, a, b, d } };
    Change second = { .remove = { "vnet1" } };
    Change third = { .remove = { "vnet2" } };
    Change fourth = { .set = { c } };

    /* ports of one group carry its id; another group has another */
    reset();
    g_assert_true(commit(backend, &first, &error));
    text1 = nft_text("list map bridge nwfilter port_ids");
    g_assert_nonnull(strstr(text1, "\"vnet1\" : 0x00000001"));
    g_assert_nonnull(strstr(text1, "\"vnet2\" : 0x00000001"));
    g_assert_nonnull(strstr(text1, "\"vnet4\" : 0x00000002"));
    g_assert_null(strstr(text1, "vnet0"));
    /* the id stays while a port of the group is left, and goes with it */
    g_assert_true(commit(backend, &second, &error));
    text2 = nft_text("list map bridge nwfilter port_ids");
    g_assert_nonnull(strstr(text2, "\"vnet2\" : 0x00000001"));
    maps2 = nft_text("list map inet nwfilter from4");
    g_assert_nonnull(strstr(maps2, "0x00000001 : jump " NWF_NFT_GROUP_PREFIX));
    g_assert_true(commit(backend, &third, &error));
    maps3 = nft_text("list map inet nwfilter from4");
    g_assert_null(strstr(maps3, "0x00000001"));
    g_assert_nonnull(strstr(maps3, "0x00000002 : jump " NWF_NFT_GROUP_PREFIX));
    /* and is free for the next group */
    g_assert_true(commit(backend, &fourth, &error));
    text4 = nft_text("list map bridge nwfilter port_ids");
    g_assert_nonnull(strstr(text4, "\"vnet3\" : 0x00000001"));
    g_assert_null(strstr(text4, "vnet1"));
    g_assert_null(strstr(text4, "vnet2"));
    backend->ops->free(backend);
}

/* A second backend (another process, say) sees what the first installed. */
static void
test_state_read_back(void)
{
    NwfBackend *first = backend_new();
    NwfBackend *second;
    g_autoptr(NwfRuleProgram) a = program("vnet0", "22");
    g_autoptr(NwfRuleProgram) b = program("vnet1", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    Change add = { .set = { a, b } };
    Change drop = { .remove = { "vnet0" } };

    reset();
    g_assert_true(commit(first, &add, &error));
    first->ops->free(first);
    second = backend_new();
    g_assert_true(commit(second, &drop, &error));
    text = ruleset();
    g_assert_null(strstr(text, "vnet0"));
    g_assert_nonnull(strstr(text, "\"vnet1\" : jump " NWF_NFT_GROUP_PREFIX));
    second->ops->free(second);
}

/* A restart skips ports whose rules are in place: port_matches compares the
 * digest kept with the port's rules and sees changes and missing chains. */
static void
test_port_matches(void)
{
    NwfBackend *first = backend_new();
    NwfBackend *second;
    g_autoptr(NwfRuleProgram) v1 = program("vnet0", "22");
    g_autoptr(NwfRuleProgram) v2 = program("vnet0", "23");
    g_autoptr(NwfRuleProgram) other = program("vnet1", NULL);
    g_autoptr(GError) error = NULL;
    gboolean matches = FALSE;
    Change add = { .set = { v1 } };

    reset();
    g_assert_true(first->ops->port_matches(first, v1, &matches, &error));
    g_assert_false(matches);
    g_assert_true(commit(first, &add, &error));
    first->ops->free(first);
    second = backend_new();
    g_assert_true(second->ops->port_matches(second, v1, &matches, &error));
    g_assert_true(matches);
    g_assert_true(second->ops->port_matches(second, v2, &matches, &error));
    g_assert_false(matches);
    g_assert_true(second->ops->port_matches(second, other, &matches, &error));
    g_assert_false(matches);
    second->ops->free(second);
    g_free(nft_text("delete element bridge nwfilter eth_out { \"vnet0\" }"));
    second = backend_new();
    g_assert_true(second->ops->port_matches(second, v1, &matches, &error));
    g_assert_false(matches);
    second->ops->free(second);
}

/* A port whose VM-out root chain returns for each address of IPS (values of
 * a variable, as compile marks them) and drops the rest. */
static NwfRuleProgram *
program_ips(const char *ifname, const char *const *ips)
{
    NwfRuleProgram *p = nwf_rule_program_new(ifname);

    for (guint i = 0; ips[i]; i++) {
        NwfRuleInst *r = rule(NWF_PROTO_IP, NWF_ACTION_RETURN, NWF_FIELD_SRCIPADDR, ips[i]);
        r->var_fields = G_GUINT64_CONSTANT(1) << NWF_FIELD_SRCIPADDR;
        nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_OUT, NULL, r);
    }
    nwf_rule_program_eth_add_rule(p, NWF_ETH_VM_OUT, NULL,
                                  rule(NWF_PROTO_MAC, NWF_ACTION_DROP, NWF_FIELD_LAST, NULL));
    return p;
}

/* The VM-out root chain port IFNAME dispatches to, with rule handles:
 * equal before and after a change only when the change left every rule in
 * place. */
static char *
chain_with_handles(const char *ifname)
{
    g_autofree char *map = nft_text("list map bridge nwfilter eth_out");
    g_autofree char *key = g_strdup_printf("\"%s\" : jump ", ifname);
    const char *at = strstr(map, key);
    g_autofree char *chain = NULL;
    g_autofree char *cmd = NULL;
    char *text;

    g_assert_nonnull(at);
    at += strlen(key);
    chain = g_strndup(at, strcspn(at, " ,\n}"));
    cmd = g_strdup_printf("list chain bridge nwfilter %s", chain);
    nft_ctx_output_set_flags(probe_ctx, NFT_CTX_OUTPUT_HANDLE);
    text = nft_text(cmd);
    nft_ctx_output_set_flags(probe_ctx, 0);
    return text;
}

static guint
count_of(const char *text, const char *needle)
{
    guint n = 0;

    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Values of variables live in value sets keyed by port, so ports of the same
 * shape share their chains; a change of address, or of the number of
 * addresses, rewrites elements only (the rules keep their handles), also
 * from a backend that read the state back from the kernel; the last port
 * leaving takes the shared chains and its elements with it. */
static void
test_address_change_is_element_update(void)
{
    static const char *const one[] = { "10.0.0.5", NULL };
    static const char *const two[] = { "10.0.0.6", "10.0.0.7", NULL };
    static const char *const three[] = { "10.0.0.8", NULL };
    static const char *const other[] = { "10.0.0.9", NULL };
    g_autoptr(NwfRuleProgram) v1 = program_ips("vnet0", one);
    g_autoptr(NwfRuleProgram) v2 = program_ips("vnet0", two);
    g_autoptr(NwfRuleProgram) v3 = program_ips("vnet0", three);
    g_autoptr(NwfRuleProgram) w = program_ips("vnet1", other);
    NwfBackend *backend = backend_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *chain1 = NULL, *chain2 = NULL, *chain3 = NULL, *chainw = NULL;
    g_autofree char *set1 = NULL, *set2 = NULL, *set3 = NULL, *left = NULL, *gone_text = NULL;
    Change c1 = { .set = { v1, w } }, c2 = { .set = { v2 } }, c3 = { .set = { v3 } };
    Change drop0 = { .remove = { "vnet0" } }, drop1 = { .remove = { "vnet1" } };
    gboolean matches = FALSE;

    reset();
    g_assert_true(commit(backend, &c1, &error));
    g_assert_no_error(error);
    chain1 = chain_with_handles("vnet0");
    chainw = chain_with_handles("vnet1");
    g_assert_cmpstr(chain1, ==, chainw);
    g_assert_cmpuint(count_of(chain1, "iifname . ip saddr @v/out/ip_saddr/0 return"), ==, 1);
    set1 = nft_text("list set bridge nwfilter v/out/ip_saddr/0");
    g_assert_nonnull(strstr(set1, "\"vnet0\" . 10.0.0.5"));
    g_assert_nonnull(strstr(set1, "\"vnet1\" . 10.0.0.9"));

    g_assert_true(commit(backend, &c2, &error));
    chain2 = chain_with_handles("vnet0");
    g_assert_cmpstr(chain2, ==, chain1);
    set2 = nft_text("list set bridge nwfilter v/out/ip_saddr/0");
    g_assert_null(strstr(set2, "10.0.0.5"));
    g_assert_nonnull(strstr(set2, "\"vnet0\" . 10.0.0.6"));
    g_assert_nonnull(strstr(set2, "\"vnet0\" . 10.0.0.7"));
    g_assert_nonnull(strstr(set2, "\"vnet1\" . 10.0.0.9"));
    backend->ops->free(backend);

    backend = backend_new();
    g_assert_true(backend->ops->port_matches(backend, v2, &matches, &error));
    g_assert_true(matches);
    g_assert_true(backend->ops->port_matches(backend, v3, &matches, &error));
    g_assert_false(matches);
    g_assert_true(commit(backend, &c3, &error));
    chain3 = chain_with_handles("vnet0");
    g_assert_cmpstr(chain3, ==, chain1);
    set3 = nft_text("list set bridge nwfilter v/out/ip_saddr/0");
    g_assert_nonnull(strstr(set3, "\"vnet0\" . 10.0.0.8"));
    g_assert_null(strstr(set3, "10.0.0.6"));
    g_assert_true(backend->ops->port_matches(backend, v3, &matches, &error));
    g_assert_true(matches);

    /* the group stays while vnet1 uses it, and goes with it */
    g_assert_true(commit(backend, &drop0, &error));
    left = chain_with_handles("vnet1");
    g_assert_cmpstr(left, ==, chain1);
    g_assert_true(commit(backend, &drop1, &error));
    gone_text = ruleset();
    g_assert_null(strstr(gone_text, NWF_NFT_GROUP_PREFIX));
    g_assert_null(strstr(gone_text, "\"vnet"));
    backend->ops->free(backend);
}

/* PROGRAM_IPS's rules plus, with TCP_PORT, an IP-layer drop of that port
 * (what a filter redefinition adding a rule does to every port using it) */
static NwfRuleProgram *
program_redefined(const char *ifname, const char *ip, const char *tcp_port)
{
    const char *const ips[] = { ip, NULL };
    NwfRuleProgram *p = program_ips(ifname, ips);

    if (tcp_port)
        tcp_drop_add(p, tcp_port);
    return p;
}

/* An IP-layer rule only: no ethernet dispatch */
static NwfRuleProgram *
program_ip_only(const char *ifname)
{
    NwfRuleProgram *p = nwf_rule_program_new(ifname);

    nwf_rule_program_ip_add_rule(p, NWF_IP_V4, NWF_IP_FROM_VM,
                                 rule(NWF_PROTO_ICMP, NWF_ACTION_DROP, NWF_FIELD_LAST, NULL));
    return p;
}

static gint
lines_cmp(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* "list ruleset" with what may come in any order sorted: the blocks
 * (chains, maps, sets) of each table, and the elements of each set; rules
 * keep their order. */
static char *
ruleset_normal(void)
{
    g_autofree char *text = ruleset();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GPtrArray) blocks = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) block = NULL;
    g_autoptr(GString) elements = NULL;
    g_autofree char *table = NULL;

    for (char **l = lines; *l; l++) {
        const char *line = *l;
        if (g_str_has_prefix(line, "table ")) {
            g_free(table);
            table = g_strdup(line);
        } else if (g_str_has_prefix(line, "\tchain ") || g_str_has_prefix(line, "\tmap ") ||
                   g_str_has_prefix(line, "\tset ")) {
            block = g_string_new(table);
            g_string_append_printf(block, "\n%s\n", line);
        } else if (block && strcmp(line, "\t}") == 0) {
            g_ptr_array_add(blocks, g_string_free(g_steal_pointer(&block), FALSE));
        } else if (block && (elements || strstr(line, "elements = {"))) {
            g_auto(GStrv) items = NULL;
            if (!elements)
                elements = g_string_new(strchr(line, '{') + 1);
            else
                g_string_append(elements, line);
            if (!strchr(line, '}'))
                continue;
            *strrchr(elements->str, '}') = ',';
            items = g_strsplit(elements->str, ",", -1);
            for (char **it = items; *it; it++)
                g_strstrip(*it);
            qsort(items, g_strv_length(items), sizeof(char *), lines_cmp);
            for (char **it = items; *it; it++) {
                if (**it)
                    g_string_append_printf(block, "  element %s\n", *it);
            }
            g_string_free(g_steal_pointer(&elements), TRUE);
        } else if (block) {
            g_string_append_printf(block, "%s\n", line);
        }
    }
    g_ptr_array_sort(blocks, lines_cmp);
    for (guint i = 0; i < blocks->len; i++)
        g_string_append_printf(out, "%s\n", (const char *)g_ptr_array_index(blocks, i));
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The handle nft shows for chain NAME of our bridge table. */
static guint64
chain_handle(const char *name)
{
    g_autofree char *cmd = g_strdup_printf("list chain bridge nwfilter %s", name);
    g_autofree char *text = NULL;
    const char *at;

    nft_ctx_output_set_flags(probe_ctx, NFT_CTX_OUTPUT_HANDLE);
    text = nft_text(cmd);
    nft_ctx_output_set_flags(probe_ctx, 0);
    at = strstr(text, "# handle ");
    g_assert_nonnull(at);
    return g_ascii_strtoull(at + strlen("# handle "), NULL, 10);
}

/* The group port IFNAME's ethernet dispatch jumps to. */
static char *
group_of(const char *ifname)
{
    g_autofree char *map = nft_text("list map bridge nwfilter eth_out");
    g_autofree char *key = g_strdup_printf("\"%s\" : jump ", ifname);
    const char *at = strstr(map, key);

    g_assert_nonnull(at);
    at += strlen(key);
    return g_strndup(at, strcspn(at, "/"));
}

/* Commit CHANGE from BEFORE's state, then check the kernel holds what a
 * fresh backend makes of FINAL on empty tables. */
static void
check_like_fresh(const Change *before, const Change *change, const Change *final)
{
    NwfBackend *backend = backend_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *changed = NULL, *fresh = NULL;

    reset();
    g_assert_true(commit(backend, before, &error));
    g_assert_true(commit(backend, change, &error));
    g_assert_no_error(error);
    changed = ruleset_normal();
    g_assert_nonnull(strstr(changed, "element \"vnet0\" : "));
    backend->ops->free(backend);
    reset();
    backend = backend_new();
    g_assert_true(commit(backend, final, &error));
    fresh = ruleset_normal();
    g_assert_cmpstr(changed, ==, fresh);
    backend->ops->free(backend);
}

/* A redefinition that moves every port of a group to one new rendering
 * rewrites the group in place: its chains keep their handles under the new
 * name, so no port's dispatch changes, and the result is what a fresh
 * apply of the new programs makes. Partial moves, a port joining the new
 * group in the same batch, a move back, and moves that add or drop the
 * ethernet layer work too. */
static void
test_group_moved_in_place(void)
{
    g_autoptr(NwfRuleProgram) a0 = program_redefined("vnet0", "10.0.0.5", NULL);
    g_autoptr(NwfRuleProgram) a1 = program_redefined("vnet1", "10.0.0.6", NULL);
    g_autoptr(NwfRuleProgram) a2 = program_redefined("vnet2", "10.0.0.7", NULL);
    g_autoptr(NwfRuleProgram) b0 = program_redefined("vnet0", "10.0.0.5", "22");
    g_autoptr(NwfRuleProgram) b1 = program_redefined("vnet1", "10.0.0.6", "22");
    g_autoptr(NwfRuleProgram) b2 = program_redefined("vnet2", "10.0.0.7", "22");
    g_autoptr(NwfRuleProgram) b3 = program_redefined("vnet3", "10.0.0.8", "22");
    g_autoptr(NwfRuleProgram) c0 = program_redefined("vnet0", "10.0.0.5", "23");
    g_autoptr(NwfRuleProgram) c1 = program_redefined("vnet1", "10.0.0.6", "23");
    g_autoptr(NwfRuleProgram) c2 = program_redefined("vnet2", "10.0.0.7", "23");
    g_autoptr(NwfRuleProgram) i0 = program_ip_only("vnet0");
    g_autoptr(NwfRuleProgram) i1 = program_ip_only("vnet1");
    g_autoptr(NwfRuleProgram) i2 = program_ip_only("vnet2");
    Change a = { .set = { a0, a1, a2 } }, b = { .set = { b0, b1, b2 } };
    Change c = { .set = { c0, c1, c2 } };
    Change partial = { .set = { b0, b1 } }, partial_final = { .set = { b0, b1, a2 } };
    Change joined = { .set = { b0, b1, b2, b3 } };
    Change ip_only = { .set = { i0, i1, i2 } };
    NwfBackend *backend = backend_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *group_a = NULL, *group_b = NULL, *group_c = NULL, *marks = NULL;
    g_autofree char *out_a = NULL, *out_b = NULL, *out_c = NULL, *ids = NULL, *text = NULL;
    guint64 handle_a;
    gboolean matches = FALSE;

    reset();
    g_assert_true(commit(backend, &a, &error));
    group_a = group_of("vnet0");
    out_a = g_strdup_printf("%s/out", group_a);
    handle_a = chain_handle(out_a);
    g_assert_true(commit(backend, &b, &error));
    g_assert_no_error(error);
    group_b = group_of("vnet0");
    g_assert_cmpstr(group_b, !=, group_a);
    out_b = g_strdup_printf("%s/out", group_b);
    g_assert_cmpuint(chain_handle(out_b), ==, handle_a);
    text = ruleset();
    g_assert_null(strstr(text, group_a));
    marks = nft_text("list map bridge nwfilter mark_to");
    ids = nft_text("list map bridge nwfilter port_ids");
    for (guint i = 0; i < 3; i++) {
        g_autofree char *mark = g_strdup_printf("\"vnet%u\" : goto %s/mark", i, group_b);
        g_autofree char *id = g_strdup_printf("\"vnet%u\" : 0x00000001", i);
        g_autofree char *port = g_strdup_printf("vnet%u", i);
        g_autofree char *group = group_of(port);
        g_assert_nonnull(strstr(marks, mark));
        g_assert_nonnull(strstr(ids, id));
        g_assert_cmpstr(group, ==, group_b);
    }
    backend->ops->free(backend);

    /* a backend that reads the state back sees the ports in place, and
     * moves the group once more (the IP layer changes, the id stays) */
    backend = backend_new();
    g_assert_true(backend->ops->port_matches(backend, b1, &matches, &error));
    g_assert_true(matches);
    g_assert_true(commit(backend, &c, &error));
    group_c = group_of("vnet2");
    out_c = g_strdup_printf("%s/out", group_c);
    g_assert_cmpuint(chain_handle(out_c), ==, handle_a);
    g_clear_pointer(&text, g_free);
    text = nft_text("list map inet nwfilter from4");
    g_assert_nonnull(strstr(text, "0x00000001 : jump "));
    g_assert_nonnull(strstr(text, group_c));
    g_assert_true(backend->ops->port_matches(backend, c0, &matches, &error));
    g_assert_true(matches);
    backend->ops->free(backend);

    check_like_fresh(&a, &b, &b);
    check_like_fresh(&ip_only, &b, &b);
    /* no move here (the ports' ethernet dispatch would lose its chains):
     * a new group, with a new id */
    backend = backend_new();
    g_assert_true(commit(backend, &ip_only, &error));
    g_clear_pointer(&text, g_free);
    text = nft_text("list map bridge nwfilter eth_out");
    g_assert_null(strstr(text, "vnet"));
    for (guint i = 0; i < G_N_ELEMENTS(ip_only.set) && ip_only.set[i]; i++) {
        g_assert_true(backend->ops->port_matches(backend, ip_only.set[i], &matches, &error));
        g_assert_true(matches);
    }
    backend->ops->free(backend);
    check_like_fresh(&b, &c, &c);
    check_like_fresh(&a, &partial, &partial_final);
    check_like_fresh(&a, &joined, &joined);
    check_like_fresh(&b, &a, &a);
}

/* Tables from before the port_digests set existed (here: the set deleted
 * behind the backend's back) get it again with the next change, from a
 * backend that reads the tables afresh and from one whose picture of them
 * is stale (it no longer adds the set to every batch). */
static void
test_digest_set_recreated(void)
{
    g_autoptr(NwfRuleProgram) a = program("vnet0", "22");
    g_autoptr(NwfRuleProgram) b = program("vnet1", "23");
    g_autoptr(NwfRuleProgram) c = program("vnet2", NULL);
    Change first = { .set = { a } }, second = { .set = { b } }, third = { .set = { c } };
    NwfBackend *backend = backend_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *set = NULL, *again = NULL;

    reset();
    g_assert_true(commit(backend, &first, &error));
    g_free(nft_text("delete set bridge nwfilter port_digests"));
    /* stale: the backend still believes in the set */
    g_assert_true(commit(backend, &second, &error));
    g_assert_no_error(error);
    set = nft_text("list set bridge nwfilter port_digests");
    g_assert_nonnull(strstr(set, "\"vnet1\""));
    backend->ops->free(backend);

    g_free(nft_text("delete set bridge nwfilter port_digests"));
    backend = backend_new();
    g_assert_true(commit(backend, &third, &error));
    g_assert_no_error(error);
    again = nft_text("list set bridge nwfilter port_digests");
    g_assert_nonnull(strstr(again, "\"vnet2\""));
    backend->ops->free(backend);
}

/* A batch mixing every kind of change (a port joining a group with an IP
 * layer, a port leaving it, a change of addresses, a new port, two ports
 * swapping groups) ends like a fresh apply of the final programs; its
 * element commands are merged, one per map or set. */
static void
test_mixed_batch_like_fresh(void)
{
    static const char *const ip2[] = { "10.0.0.7", NULL };
    static const char *const ip2_new[] = { "10.0.0.9", "10.0.0.10", NULL };
    g_autoptr(NwfRuleProgram) p0 = program_redefined("vnet0", "10.0.0.5", NULL);
    g_autoptr(NwfRuleProgram) p1 = program_redefined("vnet1", "10.0.0.6", "22");
    g_autoptr(NwfRuleProgram) p2 = program_ips("vnet2", ip2);
    g_autoptr(NwfRuleProgram) q0 = program_redefined("vnet0", "10.0.0.5", "22");
    g_autoptr(NwfRuleProgram) q2 = program_ips("vnet2", ip2_new);
    g_autoptr(NwfRuleProgram) q3 = program("vnet3", NULL);
    g_autoptr(NwfRuleProgram) s0 = program("vnet0", NULL);
    g_autoptr(NwfRuleProgram) s3 = program_redefined("vnet3", "10.0.0.8", NULL);
    Change before = { .set = { p0, p1, p2 } };
    Change change = { .set = { q0, q2, q3 }, .remove = { "vnet1" } };
    Change final = { .set = { q0, q2, q3 } };
    Change swap = { .set = { s0, s3 } };
    Change swapped = { .set = { s0, q2, s3 } };

    check_like_fresh(&before, &change, &final);
    /* vnet0 and vnet3 exchange groups: each one's dispatch element is
     * deleted and added again in the same batch */
    check_like_fresh(&final, &swap, &swapped);
}

/* The per-port commands of a batch with their element commands merged:
 * deletions first, additions last, one command per map or set, everything
 * else in its order; unchanged when an element is deleted after being
 * added in the batch. */
static void
test_elements_merged(void)
{
    static const char *const text =
        "delete element bridge nwfilter port_digests { \"vnet0\" }\n"
        "add chain bridge nwfilter vnet0/x\n"
        "add element bridge nwfilter mark_to { \"vnet0\" : goto vnet0/x }\n"
        "add element bridge nwfilter port_digests { \"vnet0\" comment \"d0\" }\n"
        "delete element bridge nwfilter mark_to { \"vnet1\" }\n"
        "add rule bridge nwfilter vnet0/x drop\n"
        "delete element bridge nwfilter port_digests { \"vnet1\" }\n"
        "add element bridge nwfilter port_digests { \"vnet2\" comment \"d2\" }\n"
        "add element bridge nwfilter v/out/ip_saddr/0 { \"vnet2\" . 10.0.0.5 }\n";
    static const char *const merged =
        "delete element bridge nwfilter port_digests { \"vnet0\", \"vnet1\" }\n"
        "delete element bridge nwfilter mark_to { \"vnet1\" }\n"
        "add chain bridge nwfilter vnet0/x\n"
        "add rule bridge nwfilter vnet0/x drop\n"
        "add element bridge nwfilter mark_to { \"vnet0\" : goto vnet0/x }\n"
        "add element bridge nwfilter port_digests { \"vnet0\" comment \"d0\", "
        "\"vnet2\" comment \"d2\" }\n"
        "add element bridge nwfilter v/out/ip_saddr/0 { \"vnet2\" . 10.0.0.5 }\n";
    static const char *const ordered =
        "add element bridge nwfilter mark_to { \"vnet0\" : goto vnet0/x }\n"
        "add chain bridge nwfilter vnet0/y\n"
        "delete element bridge nwfilter mark_to { \"vnet0\" }\n"
        "add element bridge nwfilter mark_to { \"vnet0\" : goto vnet0/y }\n";
    g_autoptr(GString) out = g_string_new("first\n");
    g_autoptr(GString) same = g_string_new(NULL);

    nwf_nft_script_merge_elements(out, text);
    g_assert_cmpstr(out->str + strlen("first\n"), ==, merged);
    nwf_nft_script_merge_elements(same, ordered);
    g_assert_cmpstr(same->str, ==, ordered);
}

/* A redefinition that changes a group's rules but neither its ports'
 * values nor their layers writes nothing per port: the group's chains are
 * rewritten and renamed, and that is the whole script. */
static void
test_group_move_script_has_no_port_command(void)
{
    static const char *const ip0[] = { "10.0.0.5", NULL };
    static const char *const ip1[] = { "10.0.0.6", NULL };
    const char *const ports[] = { "vnet0", "vnet1" };
    const char *const *const ips[] = { ip0, ip1 };
    g_autoptr(NwfNftState) state = nwf_nft_state_new();
    g_autoptr(GString) before = g_string_new(NULL);
    g_autoptr(GString) script = g_string_new(NULL);
    g_autoptr(GHashTable) final = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                        (GDestroyNotify)nwf_nft_port_free);
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(ports); i++) {
        g_autoptr(NwfRuleProgram) a = program_ips(ports[i], ips[i]);
        g_autoptr(NwfRuleProgram) b = program_ips(ports[i], ips[i]);
        g_autoptr(NwfNftPort) old = nwf_nft_port_render(a, FALSE, &error);
        g_assert_no_error(error);
        nwf_nft_script_port(before, state, ports[i], old, 0);
        nwf_rule_program_eth_add_rule(b, NWF_ETH_VM_OUT, NULL,
                                      rule(NWF_PROTO_MAC, NWF_ACTION_DROP, NWF_FIELD_SRCMACADDR,
                                           "52:54:00:00:00:98"));
        g_hash_table_insert(final, (gpointer)ports[i], nwf_nft_port_render(b, FALSE, &error));
        g_assert_no_error(error);
    }
    g_assert_nonnull(strstr(before->str, "\"vnet1\""));
    nwf_nft_script_moves(script, state, final);
    for (guint i = 0; i < G_N_ELEMENTS(ports); i++)
        nwf_nft_script_port(script, state, ports[i], g_hash_table_lookup(final, ports[i]), 0);
    g_assert_nonnull(strstr(script->str, "rename chain bridge nwfilter " NWF_NFT_GROUP_PREFIX));
    g_assert_nonnull(strstr(script->str, "52:54:00:00:00:98"));
    g_assert_null(strstr(script->str, "vnet"));
}

/* A transaction that changes nothing writes nothing, not even our tables. */
static void
test_noop_writes_nothing(void)
{
    NwfBackend *backend = backend_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    Change change = { .remove = { "vnet5" } };

    reset();
    g_assert_true(commit(backend, &change, &error));
    text = ruleset();
    g_assert_cmpstr(text, ==, "");
    backend->ops->free(backend);
}

/* The probe finds what the layout needs; the bridge extras come on request
 * and never change the ruleset. */
static void
test_features(void)
{
    NwfBackend *backend = nwf_backend_nft_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree char *text = NULL;
    const NwfNftFeatures *f;

    reset();
    before = ruleset();
    g_assert_null(nwf_backend_nft_features(backend));
    g_assert_true(backend->ops->probe(backend, &error));
    f = nwf_backend_nft_features(backend);
    g_assert_nonnull(f);
    g_assert_true(f->bridge_family && f->inet_conntrack && f->bridge_extras_probed);
    text = nwf_nft_features_describe(f);
    g_assert_nonnull(strstr(text, "nft bridge family: yes\n"));
    g_assert_nonnull(strstr(text, "bridge conntrack (nf_conntrack_bridge): "));
    after = ruleset();
    g_assert_cmpstr(before, ==, after);
    backend->ops->free(backend);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
        if (g_strcmp0(g_getenv("CI"), "true") == 0)
            g_error("needs root to enter a private network namespace");
        g_test_skip("needs root (a private network namespace)");
        return g_test_run();
    }
    probe_ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    nft_ctx_buffer_output(probe_ctx);
    nft_ctx_buffer_error(probe_ctx);
    g_test_add_func("/nft/txn/all-or-nothing", test_all_or_nothing);
    g_test_add_func("/nft/txn/last-change-wins", test_last_change_wins);
    g_test_add_func("/nft/txn/stale-state-retried", test_stale_state_retried);
    g_test_add_func("/nft/txn/port-ids", test_port_ids);
    g_test_add_func("/nft/txn/state-read-back", test_state_read_back);
    g_test_add_func("/nft/txn/port-matches", test_port_matches);
    g_test_add_func("/nft/txn/features", test_features);
    g_test_add_func("/nft/txn/noop-writes-nothing", test_noop_writes_nothing);
    g_test_add_func("/nft/txn/group-moved-in-place", test_group_moved_in_place);
    g_test_add_func("/nft/txn/group-move-script-has-no-port-command",
                    test_group_move_script_has_no_port_command);
    g_test_add_func("/nft/txn/mixed-batch-like-fresh", test_mixed_batch_like_fresh);
    g_test_add_func("/nft/txn/digest-set-recreated", test_digest_set_recreated);
    g_test_add_func("/nft/txn/elements-merged", test_elements_merged);
    g_test_add_func("/nft/txn/address-change-is-element-update",
                    test_address_change_is_element_update);
    return g_test_run();
}
