/* The ebtables/iptables/ip6tables backend: libvirt's rule layout, applied in
 * batches (backend_ebiptables_apply.c), rendered as libvirt's command list
 * for dry runs (backend_ebiptables_script.c). */
#include "config.h"

#include "nwfilter/backend.h"
#include "nwfilter/backend_ebiptables_apply.h"
#include "nwfilter/backend_ebiptables_check.h"
#include "nwfilter/backend_ebiptables_private.h"

typedef struct {
    NwfBackendTxn parent;
    GPtrArray *plans;            /* NwfEbiptablesPlan* */
} EbiptablesTxn;

static gboolean
ebiptables_probe(NwfBackend *backend, GError **error)
{
    return nwf_ebiptables_tools_probe(error);
}

static char *
ebiptables_render(NwfBackend *backend, const NwfRuleProgram *program, GError **error)
{
    g_autoptr(GPtrArray) cmds = NULL;

    if (!nwf_ebiptables_ifname_check(program->ifname, error))
        return NULL;
    cmds = nwf_ebiptables_script_apply(program);
    return nwf_ebiptables_script_format(cmds, FALSE);
}

static NwfBackendTxn *
ebiptables_txn_begin(NwfBackend *backend)
{
    EbiptablesTxn *txn = g_new0(EbiptablesTxn, 1);

    txn->parent.backend = backend;
    txn->plans = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_ebiptables_plan_free);
    return &txn->parent;
}

static gboolean
ebiptables_txn_set_port(NwfBackendTxn *base, const NwfRuleProgram *program, GError **error)
{
    EbiptablesTxn *txn = (EbiptablesTxn *)base;
    NwfEbiptablesPlan *plan = nwf_ebiptables_plan_set(program, error);

    if (!plan)
        return FALSE;
    g_ptr_array_add(txn->plans, plan);
    return TRUE;
}

static gboolean
ebiptables_txn_remove_port(NwfBackendTxn *base, const char *ifname, GError **error)
{
    EbiptablesTxn *txn = (EbiptablesTxn *)base;
    NwfEbiptablesPlan *plan = nwf_ebiptables_plan_remove(ifname, error);

    if (!plan)
        return FALSE;
    g_ptr_array_add(txn->plans, plan);
    return TRUE;
}

static void
ebiptables_txn_abort(NwfBackendTxn *base)
{
    EbiptablesTxn *txn = (EbiptablesTxn *)base;

    g_ptr_array_unref(txn->plans);
    g_free(txn);
}

static gboolean
ebiptables_txn_commit(NwfBackendTxn *base, GError **error)
{
    EbiptablesTxn *txn = (EbiptablesTxn *)base;
    gboolean ok = nwf_ebiptables_apply(txn->plans, error);

    ebiptables_txn_abort(base);
    return ok;
}

static gboolean
ebiptables_port_matches(NwfBackend *backend, const NwfRuleProgram *program, gboolean *matches,
                        GError **error)
{
    return nwf_ebiptables_port_matches(program, matches, error);
}

static gboolean
ebiptables_ports_match(NwfBackend *backend, GPtrArray *programs, gboolean *matches,
                       GError **error)
{
    return nwf_ebiptables_ports_match(programs, matches, error);
}

static void
ebiptables_free(NwfBackend *backend)
{
    g_free(backend);
}

static const NwfBackendOps ebiptables_ops = {
    .name = "ebiptables",
    .probe = ebiptables_probe,
    .render = ebiptables_render,
    .txn_begin = ebiptables_txn_begin,
    .txn_set_port = ebiptables_txn_set_port,
    .txn_remove_port = ebiptables_txn_remove_port,
    .txn_commit = ebiptables_txn_commit,
    .txn_abort = ebiptables_txn_abort,
    .port_matches = ebiptables_port_matches,
    .ports_match = ebiptables_ports_match,
    .free = ebiptables_free,
};

NwfBackend *
nwf_backend_ebiptables_new(void)
{
    NwfBackend *backend = g_new0(NwfBackend, 1);

    backend->ops = &ebiptables_ops;
    return backend;
}
