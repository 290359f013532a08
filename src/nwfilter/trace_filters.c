/* Filter lookup by name across directories, for the offline tools. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/trace_filters.h"
#include "util/nwf_error.h"

struct _NwfTraceFilters {
    GStrv dirs;
    GHashTable *loaded;          /* name -> NwfFilterDef*, NULL value: not found */
    GError *error;
    gboolean lenient;            /* a bad file: try the next directory */
};

NwfTraceFilters *
nwf_trace_filters_new(const char *const *dirs)
{
    NwfTraceFilters *filters = g_new0(NwfTraceFilters, 1);

    filters->dirs = g_strdupv((char **)dirs);
    filters->loaded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify)nwf_filter_def_free);
    return filters;
}

NwfTraceFilters *
nwf_trace_filters_new_lenient(const char *const *dirs)
{
    NwfTraceFilters *filters = nwf_trace_filters_new(dirs);

    filters->lenient = TRUE;
    return filters;
}

void
nwf_trace_filters_free(NwfTraceFilters *filters)
{
    if (!filters)
        return;
    g_strfreev(filters->dirs);
    g_hash_table_unref(filters->loaded);
    g_clear_error(&filters->error);
    g_free(filters);
}

static NwfFilterDef *
load(NwfTraceFilters *filters, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    /* a name is one path component; anything else cannot be a filter file */
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return NULL;
    for (guint i = 0; filters->dirs[i]; i++) {
        g_autofree char *path = g_build_filename(filters->dirs[i], file, NULL);
        g_autoptr(GError) error = NULL;
        NwfFilterDef *def;

        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        def = nwf_filter_def_parse_file(path, &error);
        if (def && strcmp(def->name, name) == 0)
            return def;
        if (!filters->error && !def)
            nwf_error_set(&filters->error, NWF_ERR_OPERATION_FAILED, _("cannot load %s: %s"),
                          path, error->message);
        else if (!filters->error)
            nwf_error_set(&filters->error, NWF_ERR_OPERATION_FAILED,
                          _("%s holds filter '%s', not '%s'"), path, def->name, name);
        nwf_filter_def_free(def);
        if (!filters->lenient)
            return NULL;
    }
    return NULL;
}

const NwfFilterDef *
nwf_trace_filters_lookup(const char *name, gpointer data)
{
    NwfTraceFilters *filters = data;
    gpointer value;

    if (g_hash_table_lookup_extended(filters->loaded, name, NULL, &value))
        return value;
    value = load(filters, name);
    g_hash_table_insert(filters->loaded, g_strdup(name), value);
    return value;
}

void
nwf_trace_filters_add(NwfTraceFilters *filters, NwfFilterDef *def)
{
    g_hash_table_replace(filters->loaded, g_strdup(def->name), def);
}

const GError *
nwf_trace_filters_error(const NwfTraceFilters *filters)
{
    return filters->error;
}

const char *
nwf_trace_filters_stock_dir(void)
{
    const char *env = g_getenv("NWF_STOCK_FILTER_DIR");

    if (env && *env)
        return env;
    if (g_file_test(NWF_SOURCE_STOCK_FILTER_DIR, G_FILE_TEST_IS_DIR))
        return NWF_SOURCE_STOCK_FILTER_DIR;
    return NWF_STOCK_FILTER_DIR;
}
