/* The REMOTE program's procedures: connection-level ones answered from the
 * session state on the main loop, nwfilter ones passed to the driver on the
 * worker thread. Checks happen in libvirt's order: payload decode, open
 * connection, read-only refusal, then the handler (flags first). */
#pragma once

#include <glib.h>

#include "rpc/rpc_dispatch.h"
#include "rpc/rpc_error.h"

/* The connection state the handshake builds. */
typedef struct {
    gboolean readonly_socket;   /* came in on the -ro socket */
    gboolean opened;            /* CONNECT_OPEN succeeded */
    gboolean readonly;          /* read-only socket or VIR_CONNECT_RO */
    char *uri;                  /* as given to CONNECT_OPEN */
    gboolean keepalive;         /* client asked for feature 10 */
    gboolean close_requested;   /* CONNECT_CLOSE answered: hang up */
} NwfRpcSession;

typedef enum {
    NWF_RPC_NEEDS_NOTHING,
    NWF_RPC_NEEDS_CONN,         /* "connection not open" */
    NWF_RPC_NEEDS_HYPERVISOR,   /* "hypervisor connection not open" */
} NwfRpcNeeds;

typedef struct {
    gint32 proc;                /* payload types: nwf_rpc_proc_info(proc) */
    NwfRpcNeeds needs;
    const char *write_api;      /* refused on read-only connections */
    gboolean (*local)(NwfRpcSession *session, const void *args, void *ret, NwfRpcError *err);
    gboolean (*driver)(const NwfRpcDriverOps *ops, gpointer driver,
                       const void *args, void *ret, NwfRpcError *err);
} NwfRpcProcedure;

/* NULL for a procedure this server does not serve ("unknown procedure"). */
const NwfRpcProcedure *nwf_rpc_procedure_find(gint32 proc);

/* Whether SESSION may run PROC now; sets ERR when not. */
gboolean nwf_rpc_procedure_check(const NwfRpcProcedure *proc, const NwfRpcSession *session,
                                 NwfRpcError *err);

void nwf_rpc_session_clear(NwfRpcSession *session);
