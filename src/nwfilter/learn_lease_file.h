/* learn_lease_file: learned addresses on disk, so a daemon restart keeps
 * every port locked to what it had learned. One line per address, the same
 * columns libvirt's nwfilter.leases uses:
 *
 *   <expiry> <owner-uuid>-<mac> <address> <server>
 *
 * expiry: seconds since the epoch (9223372036854775807: never); address and
 * server: IPv4 or IPv6 text; server 0.0.0.0 or :: for an address learned
 * from the guest's own traffic. When reading, a later line for the same
 * key and address replaces an earlier one and expiry 0 removes it (the
 * append-log form libvirt writes), so a libvirt lease file loads too. We
 * always write the compact form, through an atomic rewrite. */
#pragma once

#include <glib.h>

#include "nwfilter/learn_lease.h"

/* Key -> NwfLeaseTable*, leases expired at NOW dropped. A missing file is
 * an empty table; malformed lines are logged and skipped. */
GHashTable *nwf_lease_file_parse(const char *text, gint64 now);
GHashTable *nwf_lease_file_load(const char *path, gint64 now, GError **error);

/* The compact text of TABLES (key -> NwfLeaseTable*), keys sorted. */
char *nwf_lease_file_format(GHashTable *tables);
/* Replace PATH by the compact text of TABLES, atomically. */
gboolean nwf_lease_file_save(const char *path, GHashTable *tables, GError **error);
