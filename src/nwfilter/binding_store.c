#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/binding_store.h"
#include "util/nwf_error.h"
#include "util/nwf_file.h"

struct _NwfBindingStore {
    char *dir;
    GHashTable *by_port;   /* portdev (owned by the def) -> NwfBindingDef* (owned) */
};

NwfBindingStore *
nwf_binding_store_new(const char *dir)
{
    NwfBindingStore *store = g_new0(NwfBindingStore, 1);

    store->dir = g_strdup(dir);
    store->by_port = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify)nwf_binding_def_free);
    return store;
}

void
nwf_binding_store_free(NwfBindingStore *store)
{
    if (!store)
        return;
    g_hash_table_destroy(store->by_port);
    g_free(store->dir);
    g_free(store);
}

guint
nwf_binding_store_count(const NwfBindingStore *store)
{
    return g_hash_table_size(store->by_port);
}

const NwfBindingDef *
nwf_binding_store_lookup(const NwfBindingStore *store, const char *portdev)
{
    return g_hash_table_lookup(store->by_port, portdev);
}

NwfBindingDef *
nwf_binding_store_lookup_for_update(NwfBindingStore *store, const char *portdev)
{
    return g_hash_table_lookup(store->by_port, portdev);
}

static gint
nwf_binding_def_compare_port(gconstpointer a, gconstpointer b)
{
    const NwfBindingDef *x = *(const NwfBindingDef *const *)a;
    const NwfBindingDef *y = *(const NwfBindingDef *const *)b;

    return strcmp(x->portdev, y->portdev);
}

GPtrArray *
nwf_binding_store_list(const NwfBindingStore *store)
{
    GPtrArray *list = g_ptr_array_sized_new(g_hash_table_size(store->by_port));
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, store->by_port);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(list, value);
    g_ptr_array_sort(list, nwf_binding_def_compare_port);
    return list;
}

static char *
nwf_binding_store_path(const NwfBindingStore *store, const char *portdev)
{
    g_autofree char *file = g_strconcat(portdev, ".xml", NULL);

    return g_build_filename(store->dir, file, NULL);
}

static void
nwf_binding_store_put(NwfBindingStore *store, NwfBindingDef *def)
{
    g_hash_table_remove(store->by_port, def->portdev);
    g_hash_table_insert(store->by_port, def->portdev, def);
}

gboolean
nwf_binding_store_save(NwfBindingStore *store, NwfBindingDef *def, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    /* The port name becomes a file name: refuse anything that could leave
     * the state dir. */
    if (!def->portdev[0] || strchr(def->portdev, '/') || def->portdev[0] == '.') {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, _("invalid port dev name '%s'"), def->portdev);
        nwf_binding_def_free(def);
        return FALSE;
    }
    path = nwf_binding_store_path(store, def->portdev);
    text = nwf_binding_def_format_status(def);
    if (!nwf_file_ensure_dir(store->dir, 0700, error) ||
        !nwf_file_write_atomic(path, text, strlen(text), 0600, error)) {
        nwf_binding_def_free(def);
        return FALSE;
    }
    nwf_binding_store_put(store, def);
    return TRUE;
}

gboolean
nwf_binding_store_delete(NwfBindingStore *store, const char *portdev, GError **error)
{
    g_autofree char *path = NULL;

    if (!g_hash_table_contains(store->by_port, portdev))
        return TRUE;
    path = nwf_binding_store_path(store, portdev);
    if (!nwf_file_remove_durable(path, error))
        return FALSE;
    g_hash_table_remove(store->by_port, portdev);
    return TRUE;
}

static void
nwf_binding_store_load_file(NwfBindingStore *store, const char *name)
{
    g_autofree char *path = nwf_binding_store_path(store, name);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_status_file(path, &error);

    if (!def) {
        g_warning("skipping binding status file '%s': %s", path, error->message);
        return;
    }
    if (strcmp(def->portdev, name) != 0) {
        g_warning("skipping binding status file '%s': it holds port dev '%s'",
                  path, def->portdev);
        return;
    }
    nwf_binding_store_put(store, g_steal_pointer(&def));
}

gboolean
nwf_binding_store_load(NwfBindingStore *store, GError **error)
{
    g_autoptr(GPtrArray) names = nwf_file_scan_store_dir(store->dir, 0700, ".xml", error);

    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++)
        nwf_binding_store_load_file(store, g_ptr_array_index(names, i));
    return TRUE;
}
