/* Watching firewalld on the system bus so that bindings it wiped are put
 * back (firewalld_watch.c explains when and how). */
#pragma once

#include <glib.h>

#include "nwfilter/driver.h"
#include "rpc/rpc_server.h"

typedef struct _NwfFirewalldWatch NwfFirewalldWatch;

/* Start watching (asynchronously: the bus connection is made from the main
 * loop). Repairs run through SERVER's driver worker, so they never overlap
 * an RPC call. Both must outlive the watch. */
NwfFirewalldWatch *nwf_firewalld_watch_new(NwfRpcServer *server, NwfDriver *driver);
void nwf_firewalld_watch_free(NwfFirewalldWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfFirewalldWatch, nwf_firewalld_watch_free)
