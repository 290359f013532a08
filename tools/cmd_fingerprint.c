#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "conf/binding_def.h"
#include "nwfilter/fingerprint.h"
#include "nwfilter/trace_filters.h"
#include "nwfilter/trace_live.h"
#include "nwfilter_cmds.h"

/* Print the hash of what a binding enforces and the filters it covers. */
int
nwf_cmd_fingerprint(int argc, char **argv)
{
    g_autofree char *binding_file = NULL, *socket_path = NULL, *port = NULL;
    g_auto(GStrv) filter_dirs = NULL;
    gboolean no_stock = FALSE, canonical = FALSE, quiet = FALSE;
    const GOptionEntry entries[] = {
        { "binding", 'b', 0, G_OPTION_ARG_FILENAME, &binding_file,
          N_("Binding XML (<filterbinding>)"), N_("FILE") },
        { "filter-dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &filter_dirs,
          N_("Directory of filters NAME.xml (repeatable; searched before the stock filters)"),
          N_("DIR") },
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path,
          N_("a running daemon's socket: fingerprint its binding of --port"), N_("PATH") },
        { "port", 0, 0, G_OPTION_ARG_STRING, &port,
          N_("with --socket: the port (device) whose binding to fingerprint"), N_("DEV") },
        { "no-stock-filters", 0, 0, G_OPTION_ARG_NONE, &no_stock,
          N_("Do not fall back to the stock filters"), NULL },
        { "canonical", 0, 0, G_OPTION_ARG_NONE, &canonical,
          N_("Also print the canonical text that is hashed (diff it between hosts)"), NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("Print only the hash"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(N_("- hash a binding's resolved filter tree"));
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) dirs = g_ptr_array_new();
    g_autoptr(NwfBindingDef) binding = NULL;
    g_autoptr(NwfTraceFilters) filters = NULL;
    g_autoptr(NwfFingerprint) fp = NULL;

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_set_summary(ctx,
        N_("Equal fingerprints mean the same rules are enforced for the binding: uuids,\n"
           "formatting, attribute order and comments do not count; any enforced value does."));
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 1 ||
        !binding_file == !socket_path || !socket_path != !port) {
        fprintf(stderr, _("error: %s\n"), error ? error->message
                                             : argc > 1 ? _("unexpected argument")
                                                        : _("give --binding FILE, or --socket PATH "
                                                            "and --port DEV"));
        return 2;
    }
    /* a live binding is judged by the daemon's filters only */
    for (guint i = 0; !socket_path && filter_dirs && filter_dirs[i]; i++)
        g_ptr_array_add(dirs, filter_dirs[i]);
    if (!no_stock && !socket_path)
        g_ptr_array_add(dirs, (gpointer)nwf_trace_filters_stock_dir());
    g_ptr_array_add(dirs, NULL);
    filters = nwf_trace_filters_new((const char *const *)dirs->pdata);
    binding = socket_path ? nwf_trace_live_fetch(socket_path, port, filters, &error)
                          : nwf_binding_def_parse_file(binding_file, &error);
    if (!binding) {
        fprintf(stderr, _("error: %s\n"), error->message);
        return 2;
    }
    fp = nwf_fingerprint_binding(binding, nwf_trace_filters_lookup, filters, &error);
    if (!fp) {
        const GError *file_error = nwf_trace_filters_error(filters);
        fprintf(stderr, _("error: %s\n"), file_error ? file_error->message : error->message);
        return 1;
    }
    if (quiet) {
        printf("%s\n", fp->sha256);
        return 0;
    }
    printf("fingerprint: sha256:%s\n", fp->sha256);
    printf("filters (%u):", fp->filters->len);
    for (guint i = 0; i < fp->filters->len; i++)
        printf(" %s", (const char *)g_ptr_array_index(fp->filters, i));
    printf("\n");
    if (canonical)
        printf("\n%s", fp->canonical);
    return 0;
}
