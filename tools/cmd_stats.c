#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "nwfilter/backend.h"
#include "nwfilter/backend_nft.h"
#include "nwfilter_cmds.h"

/* Per-rule counters of one port (nftables backend; rules carry counters
 * when `nwfilter apply --counters` or the daemon's nft_counters = 1 put
 * them there). */
int
nwf_cmd_stats(int argc, char **argv)
{
    g_autofree char *port = NULL;
    g_autoptr(GOptionContext) ctx = g_option_context_new(N_("- per-rule packet and byte counters of a port"));
    const GOptionEntry entries[] = {
        { "port", 'p', 0, G_OPTION_ARG_STRING, &port, N_("Port device"), N_("DEV") },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) stats = NULL;
    NwfBackend *backend;

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 1 || !port) {
        fprintf(stderr,
                _("error: %s\n"), error ? error->message : _("usage: nwfilter stats --port DEV"));
        return 2;
    }
    backend = nwf_backend_nft_new();
    stats = nwf_backend_nft_port_stats(backend, port, &error);
    backend->ops->free(backend);
    if (!stats) {
        fprintf(stderr, _("error: %s\n"), error->message);
        return 1;
    }
    if (stats->len == 0) {
        fprintf(stderr, _("no counted rules for port '%s' (none installed, or installed without "
                  "counters: apply with --counters, or set nft_counters = 1 in "
                  "nwfilterd.conf)\n"), port);
        return 1;
    }
    printf("%12s %14s  %-24s %6s  %-20s %s\n", "PACKETS", "BYTES", "FILTER", "PRIO", "CHAIN",
           "RULE");
    for (guint i = 0; i < stats->len; i++) {
        const NwfNftRuleStats *s = g_ptr_array_index(stats, i);
        printf("%12" G_GUINT64_FORMAT " %14" G_GUINT64_FORMAT "  %-24s %6d  %-20s %s\n",
               s->packets, s->bytes, s->filter, s->priority, s->chain, s->rule);
    }
    return 0;
}
