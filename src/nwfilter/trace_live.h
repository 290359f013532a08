/* A running daemon's binding and filters, for trace and fingerprint to
 * judge a live VM port. Fetched with virsh (libvirt's own client, spawned
 * with an argument vector) over the daemon's socket, so the tools link no
 * RPC client. */
#pragma once

#include <glib.h>

#include "conf/binding_def.h"
#include "nwfilter/trace_filters.h"

/* The binding of PORT on the daemon listening on SOCKET_PATH; every filter
 * its tree reaches is added to FILTERS. Errors carry virsh's message. */
NwfBindingDef *nwf_trace_live_fetch(const char *socket_path, const char *port,
                                    NwfTraceFilters *filters, GError **error);
