/* Fetching a live binding and its filter tree through virsh. */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include <glib/gi18n.h>

#include "nwfilter/trace_live.h"
#include "util/nwf_error.h"

/* A path that can stand in a URI query without escaping. */
static gboolean
socket_path_ok(const char *path)
{
    static const char allowed[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-";

    return path[0] == '/' && strspn(path, allowed) == strlen(path);
}

/* The XML virsh prints for COMMAND NAME. */
static char *
virsh_dumpxml(const char *uri, const char *command, const char *name, GError **error)
{
    const char *argv[] = { "virsh", "-q", "-c", uri, command, name, NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) spawn_error = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, &spawn_error)) {
        nwf_error_set(error, NWF_ERR_NO_CONNECT, _("cannot run virsh: %s"), spawn_error->message);
        return NULL;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED, _("virsh %s %s: %s"), command, name,
                      g_strstrip(err));
        return NULL;
    }
    return g_steal_pointer(&out);
}

NwfBindingDef *
nwf_trace_live_fetch(const char *socket_path, const char *port, NwfTraceFilters *filters,
                     GError **error)
{
    g_autofree char *uri = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(NwfBindingDef) binding = NULL;
    g_autoptr(GPtrArray) queue = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) fetched = g_hash_table_new(g_str_hash, g_str_equal);

    if (!socket_path_ok(socket_path)) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG,
                      _("socket path '%s' must be absolute and of [A-Za-z0-9/._-]"), socket_path);
        return NULL;
    }
    uri = g_strconcat("nwfilter:///system?socket=", socket_path, NULL);
    xml = virsh_dumpxml(uri, "nwfilter-binding-dumpxml", port, error);
    if (!xml)
        return NULL;
    binding = nwf_binding_def_parse_string(xml, -1, error);
    if (!binding)
        return NULL;
    g_ptr_array_add(queue, g_strdup(binding->filterref.filter));
    for (guint i = 0; i < queue->len; i++) {
        const char *name = g_ptr_array_index(queue, i);
        g_autofree char *text = NULL;
        g_autoptr(GPtrArray) refs = NULL;
        NwfFilterDef *def;

        if (g_hash_table_contains(fetched, name))
            continue;
        g_hash_table_add(fetched, (gpointer)name);
        text = virsh_dumpxml(uri, "nwfilter-dumpxml", name, error);
        if (!text)
            return NULL;
        def = nwf_filter_def_parse_string(text, -1, error);
        if (!def)
            return NULL;
        refs = nwf_filter_def_referenced_names(def);
        for (guint r = 0; r < refs->len; r++)
            g_ptr_array_add(queue, g_strdup(g_ptr_array_index(refs, r)));
        nwf_trace_filters_add(filters, def);
    }
    return g_steal_pointer(&binding);
}
