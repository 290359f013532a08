/* The per-port lease table: a small array, since a port holds a handful of
 * addresses and the learning order matters (rules list them in that
 * order, so a renewal does not reshuffle the firewall). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "nwfilter/learn_lease.h"

struct _NwfLeaseTable {
    GArray *leases;             /* NwfLease */
};

NwfLeaseTable *
nwf_lease_table_new(void)
{
    NwfLeaseTable *table = g_new0(NwfLeaseTable, 1);

    table->leases = g_array_new(FALSE, TRUE, sizeof(NwfLease));
    return table;
}

void
nwf_lease_table_free(NwfLeaseTable *table)
{
    if (!table)
        return;
    g_array_unref(table->leases);
    g_free(table);
}

static gsize
addr_size(int family)
{
    return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

static gint
lease_index(const NwfLeaseTable *table, int family, gconstpointer addr)
{
    for (guint i = 0; i < table->leases->len; i++) {
        const NwfLease *lease = &g_array_index(table->leases, NwfLease, i);

        if (lease->family == family && memcmp(&lease->addr, addr, addr_size(family)) == 0)
            return (gint)i;
    }
    return -1;
}

gboolean
nwf_lease_table_add(NwfLeaseTable *table, const NwfLease *lease)
{
    gint i = lease_index(table, lease->family, &lease->addr);
    NwfLease *old;

    if (i < 0) {
        g_array_append_val(table->leases, *lease);
        return TRUE;
    }
    old = &g_array_index(table->leases, NwfLease, i);
    old->expiry = MAX(old->expiry, lease->expiry);
    if (lease->has_server) {
        old->has_server = TRUE;
        old->server = lease->server;
    }
    return FALSE;
}

gboolean
nwf_lease_table_remove(NwfLeaseTable *table, int family, gconstpointer addr)
{
    gint i = lease_index(table, family, addr);

    if (i < 0)
        return FALSE;
    g_array_remove_index(table->leases, (guint)i);
    return TRUE;
}

const NwfLease *
nwf_lease_table_find(const NwfLeaseTable *table, int family, gconstpointer addr)
{
    gint i = lease_index(table, family, addr);

    return i < 0 ? NULL : &g_array_index(table->leases, NwfLease, i);
}

gboolean
nwf_lease_table_expire(NwfLeaseTable *table, gint64 now)
{
    gboolean removed = FALSE;

    for (guint i = table->leases->len; i-- > 0;) {
        if (g_array_index(table->leases, NwfLease, i).expiry <= now) {
            g_array_remove_index(table->leases, i);
            removed = TRUE;
        }
    }
    return removed;
}

gint64
nwf_lease_table_next_expiry(const NwfLeaseTable *table)
{
    gint64 next = NWF_LEASE_NEVER;

    for (guint i = 0; i < table->leases->len; i++)
        next = MIN(next, g_array_index(table->leases, NwfLease, i).expiry);
    return next;
}

guint
nwf_lease_table_count(const NwfLeaseTable *table, int family)
{
    guint n = 0;

    for (guint i = 0; i < table->leases->len; i++) {
        if (family == 0 || g_array_index(table->leases, NwfLease, i).family == family)
            n++;
    }
    return n;
}

const NwfLease *
nwf_lease_table_get(const NwfLeaseTable *table, guint i)
{
    g_return_val_if_fail(i < table->leases->len, NULL);
    return &g_array_index(table->leases, NwfLease, i);
}

GPtrArray *
nwf_lease_table_addresses(const NwfLeaseTable *table, int family)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < table->leases->len; i++) {
        const NwfLease *lease = &g_array_index(table->leases, NwfLease, i);

        if (lease->family == family)
            g_ptr_array_add(out, nwf_lease_addr_format(family, &lease->addr));
    }
    return out;
}

char *
nwf_lease_addr_format(int family, gconstpointer addr)
{
    char buf[INET6_ADDRSTRLEN];

    return g_strdup(inet_ntop(family, addr, buf, sizeof(buf)));
}
