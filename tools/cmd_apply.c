#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "nwfilter/backend.h"
#include "nwfilter_cmds.h"
#include "tool_program.h"

/* Compile the binding(s) and enforce them in the current network namespace.
 * Binding files after the options join --binding in one transaction. */
int
nwf_cmd_apply(int argc, char **argv)
{
    NwfToolProgramOptions opts = { 0 };
    g_autofree char *backend_name = NULL;
    gboolean counters = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) programs =
        g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rule_program_free);
    NwfCompileInfo info = { 0 };
    NwfBackend *backend = NULL;
    gboolean ok = FALSE;

    if (!nwf_tool_program_parse(argc, argv,
                                N_("[BINDING.xml...] - enforce bindings in this network namespace"),
                                N_("nftables or ebiptables (default: the best available)"),
                                &backend_name, &counters, &opts, more) ||
        (more->len > 0 && !opts.binding)) {
        if (more->len > 0 && !opts.binding)
            fprintf(stderr, _("error: extra binding files need --binding\n"));
        nwf_tool_program_options_clear(&opts);
        return 2;
    }
    for (guint i = 0; i <= more->len; i++) {
        NwfToolProgramOptions one = opts;
        NwfRuleProgram *program;

        if (i > 0)
            one.binding = g_ptr_array_index(more, i - 1);
        program = nwf_tool_program_compile(&one, &info, &error);
        if (!program)
            break;
        g_ptr_array_add(programs, program);
    }
    if (programs->len == more->len + 1)
        backend = nwf_backend_new_by_name(backend_name, &error);
    if (backend && !nwf_tool_program_set_counters(backend, counters, &error)) {
        backend->ops->free(backend);
        backend = NULL;
    }
    if (backend) {
        NwfBackendTxn *txn = backend->ops->txn_begin(backend);
        ok = TRUE;
        for (guint i = 0; i < programs->len && ok; i++)
            ok = backend->ops->txn_set_port(txn, g_ptr_array_index(programs, i), &error);
        if (ok)
            ok = backend->ops->txn_commit(txn, &error);
        else
            backend->ops->txn_abort(txn);
        backend->ops->free(backend);
    }
    if (!ok) {
        fprintf(stderr, _("error: %s\n"), error->message);
        if (info.needs_ip)
            fprintf(stderr,
                    _("hint: the port's IP address is not known; give it with --var IP=ADDRESS\n"));
    }
    nwf_tool_program_options_clear(&opts);
    return ok ? 0 : 1;
}
