#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/filter_store.h"
#include "util/nwf_error.h"
#include "util/nwf_file.h"

struct _NwfFilterStore {
    char *dir;
    GHashTable *by_name;   /* name (owned by the def) -> NwfFilterDef* (owned) */
    GHashTable *by_uuid;   /* uuid bytes (owned by the def) -> NwfFilterDef* */
};

static guint
nwf_uuid_hash(gconstpointer key)
{
    guint h;

    /* A uuid is random enough that any 4 of its bytes are a fair hash. */
    memcpy(&h, key, sizeof(h));
    return h;
}

static gboolean
nwf_uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

NwfFilterStore *
nwf_filter_store_new(const char *dir)
{
    NwfFilterStore *store = g_new0(NwfFilterStore, 1);

    store->dir = g_strdup(dir);
    store->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify)nwf_filter_def_free);
    store->by_uuid = g_hash_table_new(nwf_uuid_hash, nwf_uuid_equal);
    return store;
}

void
nwf_filter_store_free(NwfFilterStore *store)
{
    if (!store)
        return;
    g_hash_table_destroy(store->by_uuid);
    g_hash_table_destroy(store->by_name);
    g_free(store->dir);
    g_free(store);
}

const char *
nwf_filter_store_dir(const NwfFilterStore *store)
{
    return store->dir;
}

guint
nwf_filter_store_count(const NwfFilterStore *store)
{
    return g_hash_table_size(store->by_name);
}

const NwfFilterDef *
nwf_filter_store_lookup(const NwfFilterStore *store, const char *name)
{
    return g_hash_table_lookup(store->by_name, name);
}

const NwfFilterDef *
nwf_filter_store_lookup_uuid(const NwfFilterStore *store, const guint8 uuid[16])
{
    return g_hash_table_lookup(store->by_uuid, uuid);
}

static gint
nwf_filter_def_compare_name(gconstpointer a, gconstpointer b)
{
    const NwfFilterDef *x = *(const NwfFilterDef *const *)a;
    const NwfFilterDef *y = *(const NwfFilterDef *const *)b;

    return strcmp(x->name, y->name);
}

GPtrArray *
nwf_filter_store_list(const NwfFilterStore *store)
{
    GPtrArray *list = g_ptr_array_sized_new(g_hash_table_size(store->by_name));
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, store->by_name);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(list, value);
    g_ptr_array_sort(list, nwf_filter_def_compare_name);
    return list;
}

static const NwfFilterDef *
nwf_filter_store_resolve(const NwfFilterStore *store, const char *name,
                         const NwfFilterDef *override)
{
    if (override && strcmp(override->name, name) == 0)
        return override;
    return g_hash_table_lookup(store->by_name, name);
}

/* Depth-first through the filterrefs from FROM; VISITED keeps a DAG with
 * shared subtrees linear. */
static gboolean
nwf_filter_store_reaches(const NwfFilterStore *store, const NwfFilterDef *from,
                         const char *name, const NwfFilterDef *override,
                         GHashTable *visited)
{
    g_autoptr(GPtrArray) refs = nwf_filter_def_referenced_names(from);

    for (guint i = 0; i < refs->len; i++) {
        const char *ref = g_ptr_array_index(refs, i);
        const NwfFilterDef *child;

        if (strcmp(ref, name) == 0)
            return TRUE;
        if (!g_hash_table_add(visited, (gpointer)ref))
            continue;
        child = nwf_filter_store_resolve(store, ref, override);
        if (child && nwf_filter_store_reaches(store, child, name, override, visited))
            return TRUE;
    }
    return FALSE;
}

gboolean
nwf_filter_store_tree_contains(const NwfFilterStore *store, const char *top,
                               const char *name, const NwfFilterDef *override)
{
    g_autoptr(GHashTable) visited = NULL;
    const NwfFilterDef *root;

    if (strcmp(top, name) == 0)
        return TRUE;
    root = nwf_filter_store_resolve(store, top, override);
    if (!root)
        return FALSE;
    visited = g_hash_table_new(g_str_hash, g_str_equal);
    return nwf_filter_store_reaches(store, root, name, override, visited);
}

gboolean
nwf_filter_store_check_define(const NwfFilterStore *store, const NwfFilterDef *def,
                              GError **error)
{
    const NwfFilterDef *same_uuid = nwf_filter_store_lookup_uuid(store, def->uuid);
    const NwfFilterDef *same_name = nwf_filter_store_lookup(store, def->name);
    g_autoptr(GHashTable) visited = NULL;

    if (same_uuid && strcmp(same_uuid->name, def->name) != 0) {
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED,
                      _("filter with same UUID but different name ('%s') already exists"),
                      same_uuid->name);
        return FALSE;
    }
    if (same_name && memcmp(same_name->uuid, def->uuid, 16) != 0) {
        g_autofree char *uuid = nwf_uuid_format(same_name->uuid);

        nwf_error_set(error, NWF_ERR_OPERATION_FAILED,
                      _("filter '%s' already exists with uuid %s"), def->name, uuid);
        return FALSE;
    }
    visited = g_hash_table_new(g_str_hash, g_str_equal);
    if (nwf_filter_store_reaches(store, def, def->name, def, visited)) {
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED, _("filter would introduce a loop"));
        return FALSE;
    }
    return TRUE;
}

char *
nwf_filter_store_format_file(const NwfFilterDef *def)
{
    g_autofree char *xml = nwf_filter_def_format(def);
    /* "--" may not appear inside an XML comment: such a name is left out
     * rather than making the file unreadable. */
    const char *name = strstr(def->name, "--") ? "<name>" : def->name;

    return g_strdup_printf(
        "<!--\n"
        "WARNING: THIS IS AN AUTO-GENERATED FILE. Edits made here are lost the\n"
        "next time the filter is defined. Change it with\n"
        "  virsh nwfilter-edit %s\n"
        "or another client of the libvirt API.\n"
        "-->\n"
        "\n"
        "%s", name, xml);
}

static char *
nwf_filter_store_path(const NwfFilterStore *store, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    return g_build_filename(store->dir, file, NULL);
}

static void
nwf_filter_store_put(NwfFilterStore *store, NwfFilterDef *def)
{
    NwfFilterDef *old = g_hash_table_lookup(store->by_name, def->name);

    if (old) {
        g_hash_table_remove(store->by_uuid, old->uuid);
        g_hash_table_remove(store->by_name, def->name);
    }
    g_hash_table_insert(store->by_name, def->name, def);
    g_hash_table_insert(store->by_uuid, def->uuid, def);
}

static gboolean
nwf_filter_store_write(const NwfFilterStore *store, const NwfFilterDef *def, GError **error)
{
    g_autofree char *path = nwf_filter_store_path(store, def->name);
    g_autofree char *text = nwf_filter_store_format_file(def);

    if (!nwf_file_ensure_dir(store->dir, 0700, error))
        return FALSE;
    return nwf_file_write_atomic(path, text, strlen(text), 0600, error);
}

gboolean
nwf_filter_store_save(NwfFilterStore *store, NwfFilterDef *def, GError **error)
{
    if (!nwf_filter_store_write(store, def, error)) {
        nwf_filter_def_free(def);
        return FALSE;
    }
    nwf_filter_store_put(store, def);
    return TRUE;
}

gboolean
nwf_filter_store_delete(NwfFilterStore *store, const char *name, GError **error)
{
    g_autofree char *path = nwf_filter_store_path(store, name);
    NwfFilterDef *def = g_hash_table_lookup(store->by_name, name);
    g_autoptr(GError) cause = NULL;

    if (!def)
        return TRUE;
    if (!nwf_file_remove_durable(path, &cause)) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot remove config for %s: %s"),
                      name, cause->message);
        return FALSE;
    }
    g_hash_table_remove(store->by_uuid, def->uuid);
    g_hash_table_remove(store->by_name, name);
    return TRUE;
}

static gboolean
nwf_uuid_is_null(const guint8 uuid[16])
{
    static const guint8 zero[16];

    return memcmp(uuid, zero, 16) == 0;
}

/* conf does not say whether the document carried a uuid; an absent one is
 * generated at random, so two parses of the same file disagree. */
static gboolean
nwf_filter_store_file_has_uuid(const char *path, const NwfFilterDef *def)
{
    g_autoptr(NwfFilterDef) again = NULL;

    if (nwf_uuid_is_null(def->uuid))
        return FALSE;
    again = nwf_filter_def_parse_file(path, NULL);
    return again && memcmp(again->uuid, def->uuid, 16) == 0;
}

static void
nwf_filter_store_load_file(NwfFilterStore *store, const char *path, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_file(path, &error);
    gboolean write_back;

    if (!def) {
        g_warning("skipping filter file '%s': %s", path, error->message);
        return;
    }
    if (strcmp(def->name, name) != 0) {
        nwf_error_set(&error, NWF_ERR_XML_ERROR,
                      _("network filter config filename '%s' does not match name '%s'"),
                      path, def->name);
        g_warning("skipping filter file: %s", error->message);
        return;
    }
    write_back = !nwf_filter_store_file_has_uuid(path, def);
    if (write_back && nwf_uuid_is_null(def->uuid))
        nwf_uuid_generate(def->uuid);
    if (!nwf_filter_store_check_define(store, def, &error)) {
        g_warning("skipping filter file '%s': %s", path, error->message);
        return;
    }
    if (write_back && !nwf_filter_store_write(store, def, &error))
        g_warning("cannot write the generated uuid back to '%s': %s", path, error->message);
    nwf_filter_store_put(store, g_steal_pointer(&def));
}

gboolean
nwf_filter_store_load(NwfFilterStore *store, GError **error)
{
    g_autoptr(GPtrArray) names = nwf_file_scan_store_dir(store->dir, 0700, ".xml", error);

    if (!names)
        return FALSE;
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *path = nwf_filter_store_path(store, name);

        nwf_filter_store_load_file(store, path, name);
    }
    return TRUE;
}
