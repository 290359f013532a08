#include "config.h"

#include <stdio.h>

#include "nwfilter/backend.h"
#include "nwfilter_cmds.h"

/* Remove every rule a backend holds for one port, in this network namespace. */
int
nwf_cmd_remove(int argc, char **argv)
{
    g_autofree char *backend_name = NULL;
    g_autofree char *port = NULL;
    g_autoptr(GOptionContext) ctx = g_option_context_new("- remove a port's firewall rules");
    const GOptionEntry entries[] = {
        { "backend", 0, 0, G_OPTION_ARG_STRING, &backend_name,
          "nftables or ebiptables (default: the best available)", "NAME" },
        { "port", 'p', 0, G_OPTION_ARG_STRING, &port, "Port device", "DEV" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GError) error = NULL;
    NwfBackend *backend = NULL;
    gboolean ok = FALSE;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 1 || !port) {
        fprintf(stderr, "error: %s\n", error ? error->message : "usage: nwfilter remove --port DEV");
        return 2;
    }
    backend = nwf_backend_new_by_name(backend_name, &error);
    if (backend) {
        NwfBackendTxn *txn = backend->ops->txn_begin(backend);
        if (backend->ops->txn_remove_port(txn, port, &error))
            ok = backend->ops->txn_commit(txn, &error);
        else
            backend->ops->txn_abort(txn);
        backend->ops->free(backend);
    }
    if (!ok)
        fprintf(stderr, "error: %s\n", error->message);
    return ok ? 0 : 1;
}
