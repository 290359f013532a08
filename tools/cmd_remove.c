#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "nwfilter/backend.h"
#include "nwfilter_cmds.h"

/* Remove every rule a backend holds for one port, in this network namespace. */
int
nwf_cmd_remove(int argc, char **argv)
{
    g_autofree char *backend_name = NULL;
    g_autofree char *port = NULL;
    g_autoptr(GOptionContext) ctx = g_option_context_new(N_("- remove a port's firewall rules"));
    const GOptionEntry entries[] = {
        { "backend", 0, 0, G_OPTION_ARG_STRING, &backend_name,
          N_("nftables or ebiptables (default: the best available)"), N_("NAME") },
        { "port", 'p', 0, G_OPTION_ARG_STRING, &port, N_("Port device"), N_("DEV") },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GError) error = NULL;
    NwfBackend *backend = NULL;
    gboolean ok = FALSE;

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 1 || !port) {
        fprintf(stderr,
                _("error: %s\n"), error ? error->message : _("usage: nwfilter remove --port DEV"));
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
        fprintf(stderr, _("error: %s\n"), error->message);
    return ok ? 0 : 1;
}
