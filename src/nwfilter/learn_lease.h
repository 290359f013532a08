/* learn_lease: the set of addresses one port has learned, each with the
 * server that handed it out and when it stops being valid. The table only
 * records; the engine (learn.c) decides what a packet means. Addresses are
 * kept in the order they were learned. */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Expiry of an address that never expires (learned from traffic, or an
 * infinite DHCP lease). */
#define NWF_LEASE_NEVER G_MAXINT64

typedef struct {
    int family;                 /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } addr;
    gboolean has_server;        /* FALSE: learned from the guest's own traffic */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } server;
    gint64 expiry;              /* seconds since the epoch, or NWF_LEASE_NEVER */
} NwfLease;

typedef struct _NwfLeaseTable NwfLeaseTable;

NwfLeaseTable *nwf_lease_table_new(void);
void nwf_lease_table_free(NwfLeaseTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfLeaseTable, nwf_lease_table_free)

/* Add LEASE, or renew the lease of the same address. A renewal never
 * shortens the expiry ("no take-backs": a forged short lease cannot cut a
 * guest off early) but takes the newer server. TRUE when the address is
 * new to the table. */
gboolean nwf_lease_table_add(NwfLeaseTable *table, const NwfLease *lease);

/* Remove the lease of ADDR (FAMILY's address struct). TRUE when it existed. */
gboolean nwf_lease_table_remove(NwfLeaseTable *table, int family, gconstpointer addr);

/* The lease of ADDR, or NULL. */
const NwfLease *nwf_lease_table_find(const NwfLeaseTable *table, int family,
                                     gconstpointer addr);

/* Drop every lease whose expiry is at or before NOW. TRUE when any went. */
gboolean nwf_lease_table_expire(NwfLeaseTable *table, gint64 now);

/* Earliest expiry in the table, NWF_LEASE_NEVER when nothing expires. */
gint64 nwf_lease_table_next_expiry(const NwfLeaseTable *table);

/* Number of leases of FAMILY (0: any family). */
guint nwf_lease_table_count(const NwfLeaseTable *table, int family);

/* Lease I in learning order (I < nwf_lease_table_count(table, 0)). */
const NwfLease *nwf_lease_table_get(const NwfLeaseTable *table, guint i);

/* Addresses of FAMILY as text (char*), in learning order. */
GPtrArray *nwf_lease_table_addresses(const NwfLeaseTable *table, int family);

/* Text form of a lease address or server of FAMILY. */
char *nwf_lease_addr_format(int family, gconstpointer addr);
