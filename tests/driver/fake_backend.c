#include "config.h"

#include "fake_backend.h"
#include "util/nwf_error.h"

typedef struct {
    NwfBackend parent;
    NwfBackendOps ops;     /* port_matches set or not per instance */
    FakeKernel *kernel;
} FakeBackend;

typedef struct {
    NwfBackendTxn parent;
    GHashTable *changes;   /* ifname -> fingerprint, or NULL for a removal */
} FakeTxn;

FakeKernel *
fake_kernel_new(void)
{
    FakeKernel *kernel = g_new0(FakeKernel, 1);

    kernel->ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    kernel->log = g_ptr_array_new_with_free_func(g_free);
    return kernel;
}

void
fake_kernel_free(FakeKernel *kernel)
{
    if (!kernel)
        return;
    g_hash_table_destroy(kernel->ports);
    g_ptr_array_unref(kernel->log);
    g_free(kernel);
}

char *
fake_kernel_take_log(FakeKernel *kernel)
{
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < kernel->log->len; i++)
        g_string_append_printf(text, "%s%s", i ? ", " : "",
                               (char *)g_ptr_array_index(kernel->log, i));
    g_ptr_array_set_size(kernel->log, 0);
    return g_string_free(text, FALSE);
}

static void
fake_append_rule(GString *out, const NwfRuleInst *rule)
{
    g_string_append_printf(out, " %s/%s", nwf_protocol_name(rule->protocol),
                           nwf_action_name(rule->action));
    for (int f = 0; f < NWF_FIELD_LAST; f++) {
        g_autofree char *value = NULL;

        if (!nwf_rule_field(rule, f)->present)
            continue;
        value = nwf_value_format(nwf_rule_field(rule, f), f);
        g_string_append_printf(out, ",%s=%s", nwf_field_name(f), value);
    }
}

char *
fake_program_fingerprint(const NwfRuleProgram *program)
{
    GString *out = g_string_new(program->ifname);

    for (int d = 0; d < NWF_ETH_DIR_LAST; d++) {
        const NwfEthChains *eth = &program->eth[d];

        if (!eth->present)
            continue;
        g_string_append_printf(out, " | eth%d:", d);
        for (guint i = 0; i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);

            if (entry->kind == NWF_ETH_ENTRY_JUMP)
                g_string_append_printf(out, " ->%s", entry->subchain->suffix);
            else
                fake_append_rule(out, entry->rule);
        }
        for (guint i = 0; i < eth->subchains->len; i++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, i);

            g_string_append_printf(out, " [%s]", sub->suffix);
            for (guint j = 0; j < sub->rules->len; j++)
                fake_append_rule(out, g_ptr_array_index(sub->rules, j));
        }
    }
    for (int f = 0; f < NWF_IP_FAMILY_LAST; f++) {
        if (!program->ip[f].present)
            continue;
        for (int c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            const GPtrArray *rules = program->ip[f].chains[c];

            g_string_append_printf(out, " | ip%d.%d:", f, c);
            for (guint i = 0; i < rules->len; i++)
                fake_append_rule(out, g_ptr_array_index(rules, i));
        }
    }
    return g_string_free(out, FALSE);
}

static FakeKernel *
fake_kernel_of(NwfBackend *backend)
{
    return ((FakeBackend *)backend)->kernel;
}

static void
fake_log(FakeKernel *kernel, const char *what, const char *ifname)
{
    g_ptr_array_add(kernel->log, ifname ? g_strdup_printf("%s %s", what, ifname) : g_strdup(what));
}

static gboolean
fake_probe(NwfBackend *backend, GError **error)
{
    return TRUE;
}

static char *
fake_render(NwfBackend *backend, const NwfRuleProgram *program, GError **error)
{
    return fake_program_fingerprint(program);
}

static NwfBackendTxn *
fake_txn_begin(NwfBackend *backend)
{
    FakeTxn *txn = g_new0(FakeTxn, 1);

    txn->parent.backend = backend;
    txn->changes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake_log(fake_kernel_of(backend), "begin", NULL);
    return &txn->parent;
}

static gboolean
fake_txn_set_port(NwfBackendTxn *txn, const NwfRuleProgram *program, GError **error)
{
    FakeTxn *fake = (FakeTxn *)txn;

    fake_log(fake_kernel_of(txn->backend), "set", program->ifname);
    g_hash_table_insert(fake->changes, g_strdup(program->ifname),
                        fake_program_fingerprint(program));
    return TRUE;
}

static gboolean
fake_txn_remove_port(NwfBackendTxn *txn, const char *ifname, GError **error)
{
    FakeTxn *fake = (FakeTxn *)txn;

    fake_log(fake_kernel_of(txn->backend), "remove", ifname);
    g_hash_table_insert(fake->changes, g_strdup(ifname), NULL);
    return TRUE;
}

static void
fake_txn_free(FakeTxn *txn)
{
    g_hash_table_destroy(txn->changes);
    g_free(txn);
}

static gboolean
fake_txn_commit(NwfBackendTxn *txn, GError **error)
{
    FakeTxn *fake = (FakeTxn *)txn;
    FakeKernel *kernel = fake_kernel_of(txn->backend);
    GHashTableIter iter;
    gpointer key, value;

    if (kernel->fail_commit) {
        fake_log(kernel, "fail", NULL);
        fake_txn_free(fake);
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "fake commit failure");
        return FALSE;
    }
    g_hash_table_iter_init(&iter, fake->changes);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        if (value)
            g_hash_table_insert(kernel->ports, g_strdup(key), g_strdup(value));
        else
            g_hash_table_remove(kernel->ports, key);
    }
    kernel->commits++;
    fake_log(kernel, "commit", NULL);
    fake_txn_free(fake);
    return TRUE;
}

static void
fake_txn_abort(NwfBackendTxn *txn)
{
    fake_log(fake_kernel_of(txn->backend), "abort", NULL);
    fake_txn_free((FakeTxn *)txn);
}

static gboolean
fake_port_matches(NwfBackend *backend, const NwfRuleProgram *program, gboolean *matches,
                  GError **error)
{
    g_autofree char *fingerprint = fake_program_fingerprint(program);
    const char *held = g_hash_table_lookup(fake_kernel_of(backend)->ports, program->ifname);

    *matches = g_strcmp0(held, fingerprint) == 0;
    return TRUE;
}

static void
fake_free(NwfBackend *backend)
{
    g_free(backend);
}

static const NwfBackendOps fake_ops = {
    .name = "fake",
    .probe = fake_probe,
    .render = fake_render,
    .txn_begin = fake_txn_begin,
    .txn_set_port = fake_txn_set_port,
    .txn_remove_port = fake_txn_remove_port,
    .txn_commit = fake_txn_commit,
    .txn_abort = fake_txn_abort,
    .free = fake_free,
};

NwfBackend *
fake_backend_new(FakeKernel *kernel, gboolean with_matches)
{
    FakeBackend *backend = g_new0(FakeBackend, 1);

    backend->ops = fake_ops;
    if (with_matches)
        backend->ops.port_matches = fake_port_matches;
    backend->parent.ops = &backend->ops;
    backend->kernel = kernel;
    return &backend->parent;
}
