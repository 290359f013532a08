#include "config.h"

#include <stdio.h>

#include "nwfilter/backend.h"
#include "nwfilter_cmds.h"
#include "tool_program.h"

/* Compile and enforce one binding in the current network namespace. */
int
nwf_cmd_apply(int argc, char **argv)
{
    NwfToolProgramOptions opts = { 0 };
    g_autofree char *backend_name = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) program = NULL;
    NwfCompileInfo info = { 0 };
    NwfBackend *backend = NULL;
    gboolean ok = FALSE;

    if (!nwf_tool_program_parse(argc, argv, "- enforce a binding in this network namespace",
                                "nftables or ebiptables (default: the best available)",
                                &backend_name, &opts)) {
        nwf_tool_program_options_clear(&opts);
        return 2;
    }
    program = nwf_tool_program_compile(&opts, &info, &error);
    if (program)
        backend = nwf_backend_new_by_name(backend_name, &error);
    if (backend) {
        NwfBackendTxn *txn = backend->ops->txn_begin(backend);
        if (backend->ops->txn_set_port(txn, program, &error))
            ok = backend->ops->txn_commit(txn, &error);
        else
            backend->ops->txn_abort(txn);
        backend->ops->free(backend);
    }
    if (!ok) {
        fprintf(stderr, "error: %s\n", error->message);
        if (info.needs_ip)
            fprintf(stderr, "hint: the port's IP address is not known; give it with --var IP=ADDRESS\n");
    }
    nwf_tool_program_options_clear(&opts);
    return ok ? 0 : 1;
}
