/* The nftables backend: libnftables in-process (never the nft binary), one
 * atomic batch per transaction. A transaction records port replacements and
 * removals; commit turns them into one nft script against what our tables
 * hold (cached, see backend_nft_state.c) and runs it. The kernel applies a
 * batch all or nothing, so a failed commit leaves the ruleset as it was. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend_nft_private.h"
#include "util/nwf_error.h"

typedef struct {
    NwfBackend parent;
    struct nft_ctx *ctx;
    gboolean counters;
    gboolean probed;
    NwfNftFeatures features;
    NwfNftState *state;            /* what our tables hold; NULL until read */
} NftBackend;

/* One recorded change: PORT replaces IFNAME's rules, or NULL removes them. */
typedef struct {
    char *ifname;
    NwfNftPort *port;
} NftOp;

typedef struct {
    NwfBackendTxn parent;
    GPtrArray *ops;                /* NftOp* in call order */
} NftTxn;

static void
op_free(gpointer data)
{
    NftOp *op = data;

    g_free(op->ifname);
    nwf_nft_port_free(op->port);
    g_free(op);
}

static struct nft_ctx *
backend_ctx(NftBackend *nft)
{
    if (!nft->ctx) {
        nft->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        nft_ctx_buffer_output(nft->ctx);
        nft_ctx_buffer_error(nft->ctx);
    }
    return nft->ctx;
}

static gboolean
nft_probe(NwfBackend *backend, GError **error)
{
    NftBackend *nft = (NftBackend *)backend;

    if (!nwf_nft_probe_kernel(backend_ctx(nft), &nft->features, error))
        return FALSE;
    nft->probed = TRUE;
    if (!nft->features.br_netfilter || !nft->features.br_call_iptables ||
        !nft->features.br_call_ip6tables)
        g_message("IP-layer filter rules see bridged traffic only with br_netfilter loaded and "
                  "/proc/sys/net/bridge/bridge-nf-call-ip{,6}tables set to 1");
    return TRUE;
}

/* Append to SCRIPT the commands for OPS applied to STATE, and update STATE
 * to what the kernel will hold afterwards. When the script then does not
 * commit, STATE is wrong and must be dropped (it is read back). */
static gboolean
script_build(GString *script, NwfNftState *state, GPtrArray *ops, GError **error)
{
    g_autoptr(GString) ports = g_string_new(NULL);
    g_autoptr(GString) per_port = g_string_new(NULL);
    g_autoptr(GHashTable) final = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) twice = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter iter;
    gpointer ifname;

    /* a port changed twice in one batch takes part in no group move (its
     * first change would see the group under its new name) */
    for (guint i = 0; i < ops->len; i++) {
        const NftOp *op = g_ptr_array_index(ops, i);
        if (!g_hash_table_insert(final, op->ifname, op->port))
            g_hash_table_add(twice, op->ifname);
    }
    g_hash_table_iter_init(&iter, twice);
    while (g_hash_table_iter_next(&iter, &ifname, NULL))
        g_hash_table_insert(final, ifname, NULL);
    nwf_nft_script_moves(ports, state, final);
    for (guint i = 0; i < ops->len; i++) {
        const NftOp *op = g_ptr_array_index(ops, i);
        NwfNftPortState *old = g_hash_table_lookup(state->ports, op->ifname);
        guint id = 0;

        if (op->port && (op->port->ip[NWF_IP_V4] || op->port->ip[NWF_IP_V6])) {
            const NwfNftGroup *group = op->port->group
                ? g_hash_table_lookup(state->groups, op->port->group) : NULL;
            /* a group's ports carry its id; a port with its own chains keeps
             * the id it had, unless that was its former group's */
            if (group && group->id)
                id = group->id;
            else if (!op->port->group && old && old->id && !old->group)
                id = old->id;
            else
                id = nwf_nft_state_free_id(state);
            if (!id) {
                nwf_error_set(error, NWF_ERR_OPERATION_FAILED,
                              _("cannot filter port '%s' at the IP layer: all %d port ids of the "
                                "nftables backend are in use"), op->ifname, NWF_NFT_PORT_ID_MAX);
                return FALSE;
            }
        }
        nwf_nft_script_port(per_port, state, op->ifname, op->port, id);
    }
    nwf_nft_script_merge_elements(ports, per_port->str);
    /* nothing to change: no write at all (not even the skeleton) */
    if (ports->len == 0)
        return TRUE;
    if (!state->tables) {
        nwf_nft_script_skeleton(script);
        state->tables = TRUE;
    } else if (!state->digest_set) {
        /* tables made before the digest set existed get it now */
        g_string_append(script, "add set bridge " NWF_NFT_TABLE_NAME
                        " port_digests { type ifname; }\n");
    }
    state->digest_set = TRUE;
    g_string_append_len(script, ports->str, ports->len);
    return TRUE;
}

static char *
nft_render(NwfBackend *backend, const NwfRuleProgram *program, GError **error)
{
    NftBackend *nft = (NftBackend *)backend;
    g_autoptr(NwfNftState) empty = nwf_nft_state_new();
    g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func(op_free);
    g_autoptr(GString) script = g_string_new(NULL);
    NftOp *op;

    op = g_new0(NftOp, 1);
    op->ifname = g_strdup(program->ifname);
    op->port = nwf_nft_port_render(program, nft->counters, error);
    g_ptr_array_add(ops, op);
    if (!op->port || !script_build(script, empty, ops, error))
        return NULL;
    return g_string_free(g_steal_pointer(&script), FALSE);
}

static NwfBackendTxn *
nft_txn_begin(NwfBackend *backend)
{
    NftTxn *txn = g_new0(NftTxn, 1);

    txn->parent.backend = backend;
    txn->ops = g_ptr_array_new_with_free_func(op_free);
    return &txn->parent;
}

static gboolean
nft_txn_set_port(NwfBackendTxn *txn, const NwfRuleProgram *program, GError **error)
{
    NftBackend *nft = (NftBackend *)txn->backend;
    NwfNftPort *port = nwf_nft_port_render(program, nft->counters, error);
    NftOp *op;

    if (!port)
        return FALSE;
    op = g_new0(NftOp, 1);
    op->ifname = g_strdup(program->ifname);
    op->port = port;
    g_ptr_array_add(((NftTxn *)txn)->ops, op);
    return TRUE;
}

static gboolean
nft_txn_remove_port(NwfBackendTxn *txn, const char *ifname, GError **error)
{
    NftOp *op = g_new0(NftOp, 1);

    op->ifname = g_strdup(ifname);
    g_ptr_array_add(((NftTxn *)txn)->ops, op);
    return TRUE;
}

static void
nft_txn_abort(NwfBackendTxn *txn)
{
    NftTxn *t = (NftTxn *)txn;

    if (!t)
        return;
    g_ptr_array_unref(t->ops);
    g_free(t);
}

/* Build and run the batch against the cached state, which then follows
 * the kernel; after a failure the caller drops it. */
static gboolean
commit_once(NftBackend *nft, GPtrArray *ops, GError **error)
{
    g_autoptr(GString) script = g_string_new(NULL);

    if (!nft->state) {
        nft->state = nwf_nft_state_load(backend_ctx(nft), error);
        if (!nft->state)
            return FALSE;
    }
    if (!script_build(script, nft->state, ops, error))
        return FALSE;
    return script->len == 0 ||
           nwf_nft_run(backend_ctx(nft), script->str, "apply the port filters", NULL, error);
}

static gboolean
nft_txn_commit(NwfBackendTxn *txn, GError **error)
{
    NftBackend *nft = (NftBackend *)txn->backend;
    NftTxn *t = (NftTxn *)txn;
    g_autoptr(GError) first = NULL;
    gboolean ok;

    ok = commit_once(nft, t->ops, &first);
    if (!ok && nft->state) {
        /* our picture of the tables may be stale (someone edited them):
         * read them back and try once more */
        g_clear_pointer(&nft->state, nwf_nft_state_free);
        ok = commit_once(nft, t->ops, error);
    } else if (!ok) {
        g_propagate_error(error, g_steal_pointer(&first));
    }
    if (!ok)
        g_clear_pointer(&nft->state, nwf_nft_state_free);
    nft_txn_abort(txn);
    return ok;
}

/* The kernel holds PROGRAM's rules when the digest stored with the port's
 * rules is the digest of PROGRAM's rendering (and the chains are there);
 * STATE is one reading of the kernel. */
static gboolean
nft_state_holds(NftBackend *nft, const NwfNftState *state, const NwfRuleProgram *program,
                gboolean *matches, GError **error)
{
    g_autoptr(NwfNftPort) port = nwf_nft_port_render(program, nft->counters, error);
    const NwfNftPortState *held;
    const NwfNftGroup *group;

    if (!port)
        return FALSE;
    held = g_hash_table_lookup(state->ports, program->ifname);
    group = port->group ? g_hash_table_lookup(state->groups, port->group) : NULL;
    *matches = state->tables && held && g_strcmp0(held->digest, port->digest) == 0 &&
               g_strcmp0(held->group, port->group) == 0 && (group || !port->group);
    for (guint i = 0; *matches && i < port->chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(port->chains, i);
        *matches = g_hash_table_contains(held->chains[chain->table], chain->name);
    }
    for (NwfEthDir dir = 0; *matches && dir < NWF_ETH_DIR_LAST; dir++)
        *matches = !port->eth[dir] || held->dispatch[dir];
    for (guint i = 0; *matches && i < port->group_chains->len; i++) {
        const NwfNftChain *chain = g_ptr_array_index(port->group_chains, i);
        *matches = g_hash_table_contains(group->chains[chain->table], chain->name);
    }
    return TRUE;
}

/* Every program of PROGRAMS against one load of the kernel's state. */
static gboolean
nft_ports_match(NwfBackend *backend, GPtrArray *programs, gboolean *matches, GError **error)
{
    NftBackend *nft = (NftBackend *)backend;

    /* a drift check must see the kernel, not what this process last wrote
     * (an external flush happens behind a long-lived daemon's back) */
    g_clear_pointer(&nft->state, nwf_nft_state_free);
    nft->state = nwf_nft_state_load(backend_ctx(nft), error);
    if (!nft->state)
        return FALSE;
    for (guint i = 0; i < programs->len; i++) {
        if (!nft_state_holds(nft, nft->state, g_ptr_array_index(programs, i), &matches[i], error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
nft_port_matches(NwfBackend *backend, const NwfRuleProgram *program, gboolean *matches,
                 GError **error)
{
    g_autoptr(GPtrArray) one = g_ptr_array_new();

    g_ptr_array_add(one, (gpointer)program);
    return nft_ports_match(backend, one, matches, error);
}

static void
nft_free(NwfBackend *backend)
{
    NftBackend *nft = (NftBackend *)backend;

    if (!nft)
        return;
    if (nft->ctx)
        nft_ctx_free(nft->ctx);
    nwf_nft_state_free(nft->state);
    g_free(nft);
}

static const NwfBackendOps nft_ops = {
    .name = "nftables",
    .probe = nft_probe,
    .render = nft_render,
    .txn_begin = nft_txn_begin,
    .txn_set_port = nft_txn_set_port,
    .txn_remove_port = nft_txn_remove_port,
    .txn_commit = nft_txn_commit,
    .txn_abort = nft_txn_abort,
    .port_matches = nft_port_matches,
    .ports_match = nft_ports_match,
    .free = nft_free,
};

NwfBackend *
nwf_backend_nft_new(void)
{
    NftBackend *nft = g_new0(NftBackend, 1);

    nft->parent.ops = &nft_ops;
    return &nft->parent;
}

void
nwf_backend_nft_set_counters(NwfBackend *backend, gboolean counters)
{
    g_return_if_fail(backend && backend->ops == &nft_ops);
    ((NftBackend *)backend)->counters = counters;
}

const NwfNftFeatures *
nwf_backend_nft_features(NwfBackend *backend)
{
    NftBackend *nft = (NftBackend *)backend;

    g_return_val_if_fail(backend && backend->ops == &nft_ops, NULL);
    if (!nft->probed)
        return NULL;
    if (!nft->features.bridge_extras_probed) {
        g_autofree char *text = NULL;
        nwf_nft_probe_bridge_extras(backend_ctx(nft), &nft->features);
        text = nwf_nft_features_describe(&nft->features);
        g_debug("nftables backend features:\n%s", text);
    }
    return &nft->features;
}

GPtrArray *
nwf_backend_nft_port_stats(NwfBackend *backend, const char *ifname, GError **error)
{
    NftBackend *nft = (NftBackend *)backend;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
        (GDestroyNotify)nwf_nft_rule_stats_free);
    g_autoptr(NwfNftState) state = NULL;
    NwfNftPortState *port;

    g_return_val_if_fail(backend && backend->ops == &nft_ops, NULL);
    state = nwf_nft_state_load(backend_ctx(nft), error);
    if (!state)
        return NULL;
    port = g_hash_table_lookup(state->ports, ifname);
    if (!port)
        return g_steal_pointer(&out);
    for (NwfNftTable t = 0; t < NWF_NFT_TABLE_LAST; t++) {
        g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(port->chains[t]),
                                             (GCompareFunc)g_strcmp0);
        for (GList *l = names; l; l = l->next) {
            g_autofree char *cmd = g_strdup_printf("list chain %s " NWF_NFT_TABLE_NAME " %s",
                                                   t == NWF_NFT_BRIDGE ? "bridge" : "inet",
                                                   (const char *)l->data);
            g_autofree char *listing = NULL;
            if (!nwf_nft_run(backend_ctx(nft), cmd, "read the rule counters", &listing, error))
                return NULL;
            nwf_nft_stats_parse(out, l->data, listing);
        }
    }
    return g_steal_pointer(&out);
}
