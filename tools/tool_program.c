#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "conf/binding_def.h"
#include "nwfilter/trace_filters.h"
#ifdef NWF_HAVE_NFT_BACKEND
#include "nwfilter/backend_nft.h"
#endif
#include "tool_program.h"
#include "util/nwf_error.h"

const GOptionEntry *
nwf_tool_program_entries(NwfToolProgramOptions *opts)
{
    static GOptionEntry entries[8];
    const GOptionEntry filled[] = {
        { "binding", 'b', 0, G_OPTION_ARG_FILENAME, &opts->binding,
          N_("Binding XML (<filterbinding>) to compile"), N_("FILE") },
        { "filter", 'f', 0, G_OPTION_ARG_FILENAME, &opts->filter,
          N_("Compile this filter file for --port (libvirt's xml2firewall mode)"), N_("FILE") },
        { "port", 'p', 0, G_OPTION_ARG_STRING, &opts->port,
          N_("Port device for --filter"), N_("DEV") },
        { "mac", 'm', 0, G_OPTION_ARG_STRING, &opts->mac,
          N_("Port MAC for --filter (sets $MAC)"), N_("MAC") },
        { "filter-dir", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &opts->filter_dirs,
          N_("Directory of filters NAME.xml (repeatable; searched before the stock filters)"),
          N_("DIR") },
        { "var", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &opts->vars,
          N_("Variable value (repeat a name to make a list; overrides the binding's)"),
          N_("NAME=VALUE") },
        { "no-stock-filters", 0, 0, G_OPTION_ARG_NONE, &opts->no_stock,
          N_("Do not fall back to the stock filters"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };

    G_STATIC_ASSERT(sizeof(filled) == sizeof(entries));
    memcpy(entries, filled, sizeof(filled));
    return entries;
}

gboolean
nwf_tool_program_parse(int argc, char **argv, const char *summary, const char *backend_help,
                       char **backend, gboolean *counters, NwfToolProgramOptions *opts,
                       GPtrArray *rest)
{
    const GOptionEntry backend_entry[] = {
        { "backend", 0, 0, G_OPTION_ARG_STRING, backend, backend_help, N_("NAME") },
        { "counters", 0, 0, G_OPTION_ARG_NONE, counters,
          N_("Give every rule a packet and byte counter, read with 'nwfilter stats' "
             "(nftables backend)"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(summary);
    g_autoptr(GError) error = NULL;

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(ctx, backend_entry, NULL);
    g_option_context_add_main_entries(ctx, nwf_tool_program_entries(opts), NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, _("error: %s\n"), error->message);
        return FALSE;
    }
    if (argc > 1 && !rest) {
        fprintf(stderr, _("error: unexpected argument '%s'\n"), argv[1]);
        return FALSE;
    }
    for (int i = 1; i < argc; i++)
        g_ptr_array_add(rest, g_strdup(argv[i]));
    return TRUE;
}

gboolean
nwf_tool_program_set_counters(NwfBackend *backend, gboolean counters, GError **error)
{
    gboolean nft = strcmp(backend->ops->name, "nftables") == 0;

    if (!counters && !(nft && g_strcmp0(g_getenv("NWF_NFT_COUNTERS"), "1") == 0))
        return TRUE;
    if (!nft) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                      _("--counters needs the nftables backend; the rules of the %s backend "
                        "carry no counters"), backend->ops->name);
        return FALSE;
    }
#ifdef NWF_HAVE_NFT_BACKEND
    nwf_backend_nft_set_counters(backend, TRUE);
#endif
    return TRUE;
}

void
nwf_tool_program_options_clear(NwfToolProgramOptions *opts)
{
    g_clear_pointer(&opts->binding, g_free);
    g_clear_pointer(&opts->filter, g_free);
    g_clear_pointer(&opts->port, g_free);
    g_clear_pointer(&opts->mac, g_free);
    g_clear_pointer(&opts->filter_dirs, g_strfreev);
    g_clear_pointer(&opts->vars, g_strfreev);
}

gboolean
nwf_tool_program_parse_vars(char **vars, NwfParams *params, GError **error)
{
    for (guint i = 0; vars && vars[i]; i++) {
        const char *eq = strchr(vars[i], '=');
        g_autofree char *name = eq ? g_strndup(vars[i], eq - vars[i]) : NULL;

        if (!eq || !nwf_params_add(params, name, eq + 1)) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG,
                          _("bad --var '%s': expected NAME=VALUE with NAME of [A-Za-z0-9_] "
                            "and VALUE of [A-Za-z0-9_.:]"), vars[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_mac(const char *text, guint8 mac[6])
{
    NwfValue value = { 0 };

    if (!nwf_value_parse(NWF_PROTO_MAC, NWF_FIELD_SRCMACADDR, text, &value, NULL))
        return FALSE;
    memcpy(mac, value.u.mac, 6);
    nwf_value_clear(&value);
    return TRUE;
}

NwfRuleProgram *
nwf_tool_program_compile(const NwfToolProgramOptions *opts, NwfCompileInfo *info,
                         GError **error)
{
    g_autoptr(NwfParams) extra = nwf_params_new();
    g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(NwfTraceFilters) filters = NULL;
    g_autoptr(NwfBindingDef) binding = NULL;
    NwfFilterDef *top;
    const GError *file_error;
    NwfRuleProgram *program;
    guint8 mac[6];

    if (!!opts->binding == !!opts->filter) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, "%s", _("give either --binding or --filter"));
        return NULL;
    }
    if (!nwf_tool_program_parse_vars(opts->vars, extra, error))
        return NULL;
    if (opts->filter) {
        /* libvirt's harness resolves filterrefs next to the filter file */
        g_ptr_array_add(dirs, g_path_get_dirname(opts->filter));
    }
    for (guint i = 0; opts->filter_dirs && opts->filter_dirs[i]; i++)
        g_ptr_array_add(dirs, g_strdup(opts->filter_dirs[i]));
    if (!opts->no_stock)
        g_ptr_array_add(dirs, g_strdup(nwf_trace_filters_stock_dir()));
    g_ptr_array_add(dirs, NULL);
    /* a broken copy in a --filter-dir leaves the stock filter in charge */
    filters = nwf_trace_filters_new_lenient((const char *const *)dirs->pdata);

    if (opts->binding) {
        binding = nwf_binding_def_parse_file(opts->binding, error);
        if (!binding)
            return NULL;
        program = nwf_compile_binding(binding, nwf_trace_filters_lookup, filters, extra, info,
                                      error);
    } else {
        NwfCompileInput input = { 0 };
        if (!opts->port) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG, "%s", _("--filter needs --port DEV"));
            return NULL;
        }
        if (opts->mac && !parse_mac(opts->mac, mac)) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG, _("bad --mac '%s'"), opts->mac);
            return NULL;
        }
        top = nwf_filter_def_parse_file(opts->filter, error);
        if (!top)
            return NULL;
        input.filter = top->name;
        nwf_trace_filters_add(filters, top);
        input.ifname = opts->port;
        input.mac = opts->mac ? mac : NULL;
        input.extra = extra;
        input.lookup = nwf_trace_filters_lookup;
        input.lookup_data = filters;
        program = nwf_compile(&input, info, error);
    }
    file_error = nwf_trace_filters_error(filters);
    if (!program && file_error && error && *error && strstr((*error)->message, "is missing")) {
        /* a referenced filter that failed to parse is more useful to see */
        g_prefix_error(error, "%s; ", file_error->message);
    }
    return program;
}
