#include "config.h"

#include <string.h>

#include "conf/nwfilter_params.h"

#define NWF_PARAM_NAME_CHARS \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
#define NWF_PARAM_VALUE_CHARS NWF_PARAM_NAME_CHARS ".:"

struct _NwfParams {
    GHashTable *vars;   /* char* name -> GPtrArray of char* values */
};

static GPtrArray *
values_new(void)
{
    return g_ptr_array_new_with_free_func(g_free);
}

NwfParams *
nwf_params_new(void)
{
    NwfParams *params = g_new0(NwfParams, 1);

    params->vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)g_ptr_array_unref);
    return params;
}

void
nwf_params_free(NwfParams *params)
{
    if (!params)
        return;
    g_hash_table_unref(params->vars);
    g_free(params);
}

/* Every entry of SRC into DST, replacing DST's list of the same name. */
static void
params_set_all(NwfParams *dst, const NwfParams *src)
{
    GHashTableIter iter;
    gpointer key;
    gpointer value;

    g_hash_table_iter_init(&iter, src->vars);
    while (g_hash_table_iter_next(&iter, &key, &value))
        nwf_params_set(dst, key, value);
}

NwfParams *
nwf_params_copy(const NwfParams *params)
{
    NwfParams *copy = nwf_params_new();

    params_set_all(copy, params);
    return copy;
}

gboolean
nwf_params_name_valid(const char *name)
{
    gsize len = name ? strlen(name) : 0;

    return len > 0 && strspn(name, NWF_PARAM_NAME_CHARS) == len;
}

gboolean
nwf_params_value_valid(const char *value)
{
    gsize len = value ? strlen(value) : 0;

    return len > 0 && strspn(value, NWF_PARAM_VALUE_CHARS) == len;
}

gboolean
nwf_params_add(NwfParams *params, const char *name, const char *value)
{
    GPtrArray *values;

    if (!nwf_params_name_valid(name) || !nwf_params_value_valid(value))
        return FALSE;
    values = g_hash_table_lookup(params->vars, name);
    if (!values) {
        values = values_new();
        g_hash_table_insert(params->vars, g_strdup(name), values);
    }
    g_ptr_array_add(values, g_strdup(value));
    return TRUE;
}

void
nwf_params_set(NwfParams *params, const char *name, const GPtrArray *values)
{
    GPtrArray *copy;

    if (!values || values->len == 0) {
        g_hash_table_remove(params->vars, name);
        return;
    }
    copy = values_new();
    for (guint i = 0; i < values->len; i++)
        g_ptr_array_add(copy, g_strdup(g_ptr_array_index(values, i)));
    g_hash_table_replace(params->vars, g_strdup(name), copy);
}

const GPtrArray *
nwf_params_get(const NwfParams *params, const char *name)
{
    return g_hash_table_lookup(params->vars, name);
}

gboolean
nwf_params_has(const NwfParams *params, const char *name)
{
    return g_hash_table_contains(params->vars, name);
}

guint
nwf_params_size(const NwfParams *params)
{
    return g_hash_table_size(params->vars);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
nwf_params_sorted_names(const NwfParams *params)
{
    GPtrArray *names = g_ptr_array_new();
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init(&iter, params->vars);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(names, key);
    g_ptr_array_sort(names, compare_names);
    return names;
}

NwfParams *
nwf_params_overlay(const NwfParams *base, const NwfParams *over)
{
    NwfParams *result = nwf_params_copy(base);

    params_set_all(result, over);
    return result;
}
