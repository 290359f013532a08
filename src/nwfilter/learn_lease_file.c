#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/learn_lease_file.h"
#include "util/nwf_error.h"
#include "util/nwf_file.h"

static GHashTable *
tables_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                 (GDestroyNotify)nwf_lease_table_free);
}

static gboolean
parse_addr(const char *text, int *family, gpointer out)
{
    if (inet_pton(AF_INET, text, out) == 1) {
        *family = AF_INET;
        return TRUE;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *family = AF_INET6;
        return TRUE;
    }
    return FALSE;
}

static gboolean
server_is_unset(int family, gconstpointer server)
{
    static const guint8 zero[16];

    return memcmp(server, zero, family == AF_INET ? 4 : 16) == 0;
}

/* One line into TABLES; FALSE when it is malformed. */
static gboolean
parse_line(const char *line, gint64 now, GHashTable *tables)
{
    g_auto(GStrv) cols = g_strsplit_set(line, " \t", -1);
    NwfLease lease = { 0 };
    NwfLeaseTable *table;
    int server_family;
    char *end;

    if (g_strv_length(cols) != 4)
        return FALSE;
    errno = 0;
    lease.expiry = g_ascii_strtoll(cols[0], &end, 10);
    if (errno || *end || end == cols[0] || lease.expiry < 0 || cols[1][0] == '\0')
        return FALSE;
    if (!parse_addr(cols[2], &lease.family, &lease.addr) ||
        !parse_addr(cols[3], &server_family, &lease.server) || server_family != lease.family)
        return FALSE;
    lease.has_server = !server_is_unset(lease.family, &lease.server);

    table = g_hash_table_lookup(tables, cols[1]);
    if (!table) {
        table = nwf_lease_table_new();
        g_hash_table_insert(tables, g_strdup(cols[1]), table);
    }
    /* A later record is the newer truth, so it replaces rather than
     * renews; expired and removal records just delete. */
    nwf_lease_table_remove(table, lease.family, &lease.addr);
    if (lease.expiry > now)
        nwf_lease_table_add(table, &lease);
    return TRUE;
}

GHashTable *
nwf_lease_file_parse(const char *text, gint64 now)
{
    g_autoptr(GHashTable) tables = tables_new();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GHashTableIter iter;
    NwfLeaseTable *table;

    for (guint i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (lines[i][0] == '\0' || lines[i][0] == '#')
            continue;
        if (!parse_line(lines[i], now, tables))
            g_warning("lease file: ignoring malformed line %u: '%s'", i + 1, lines[i]);
    }
    g_hash_table_iter_init(&iter, tables);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&table)) {
        if (nwf_lease_table_count(table, 0) == 0)
            g_hash_table_iter_remove(&iter);
    }
    return g_steal_pointer(&tables);
}

GHashTable *
nwf_lease_file_load(const char *path, gint64 now, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) cause = NULL;

    if (!g_file_get_contents(path, &text, NULL, &cause)) {
        if (g_error_matches(cause, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return tables_new();
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot read lease file '%s': %s"),
                      path, cause->message);
        return NULL;
    }
    return nwf_lease_file_parse(text, now);
}

static int
compare_keys(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
nwf_lease_file_format(GHashTable *tables)
{
    GString *out = g_string_new(NULL);
    guint n = 0;
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array(tables, &n);

    qsort(keys, n, sizeof(gpointer), compare_keys);
    for (guint k = 0; k < n; k++) {
        const NwfLeaseTable *table = g_hash_table_lookup(tables, keys[k]);
        guint count = nwf_lease_table_count(table, 0);

        for (guint i = 0; i < count; i++) {
            const NwfLease *lease = nwf_lease_table_get(table, i);
            g_autofree char *addr = nwf_lease_addr_format(lease->family, &lease->addr);
            g_autofree char *server = nwf_lease_addr_format(lease->family, &lease->server);

            g_string_append_printf(out, "%" G_GINT64_FORMAT " %s %s %s\n", lease->expiry,
                                   (const char *)keys[k], addr, server);
        }
    }
    return g_string_free(out, FALSE);
}

gboolean
nwf_lease_file_save(const char *path, GHashTable *tables, GError **error)
{
    g_autofree char *text = nwf_lease_file_format(tables);
    g_autofree char *dir = g_path_get_dirname(path);

    if (!nwf_file_ensure_dir(dir, 0755, error))
        return FALSE;
    return nwf_file_write_atomic(path, text, strlen(text), 0644, error);
}
