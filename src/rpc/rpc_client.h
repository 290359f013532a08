/* One connection: non-blocking reads into a frame buffer, calls run in
 * order one at a time, replies queued and written as the peer takes them.
 * Reading pauses while too many calls or too many reply bytes wait, so a
 * client that never reads costs bounded memory and nobody else waits. */
#pragma once

#include <glib.h>

#include "rpc/rpc_procedures.h"
#include "rpc/rpc_server.h"

typedef struct _NwfRpcClient NwfRpcClient;

/* A driver call on its way to the worker and back. */
typedef struct {
    NwfRpcClient *client;        /* holds a reference */
    NwfRpcHeader hdr;
    const NwfRpcProcedure *proc;
    const NwfRpcProcInfo *info;
    void *args;
    void *ret;
    gboolean ok;
    NwfRpcError err;
} NwfRpcCall;

NwfRpcClient *nwf_rpc_client_new(NwfRpcServer *server, int fd, gboolean readonly);
NwfRpcClient *nwf_rpc_client_ref(NwfRpcClient *client);
void nwf_rpc_client_unref(NwfRpcClient *client);
/* Hang up (idempotent); the server's reference is dropped. */
void nwf_rpc_client_close(NwfRpcClient *client);
/* Thread-safe: whether the connection is gone. */
gboolean nwf_rpc_client_is_closed(NwfRpcClient *client);

/* Main loop: the socket is ready for COND (G_IO_IN/OUT/HUP/ERR). */
void nwf_rpc_client_io(NwfRpcClient *client, GIOCondition cond);

/* Main loop: a call came back from the worker; reply, run the next. */
void nwf_rpc_client_call_done(NwfRpcCall *call);
void nwf_rpc_call_free(NwfRpcCall *call);

/* Main loop: PING if silent for INTERVAL seconds, hang up after COUNT
 * unanswered ones. Only for clients that asked for keepalive. */
void nwf_rpc_client_keepalive(NwfRpcClient *client, gint64 now, guint interval, guint count);

/* What the client needs from its server (rpc_server.c). */
const NwfRpcServerConfig *nwf_rpc_server_get_config(NwfRpcServer *server);
void nwf_rpc_server_submit(NwfRpcServer *server, NwfRpcCall *call);
void nwf_rpc_server_client_gone(NwfRpcServer *server, NwfRpcClient *client);
/* Readiness of FD for EVENTS is reported to nwf_rpc_client_io(CLIENT);
 * ADD for a new descriptor, else a change of events. */
void nwf_rpc_server_watch(NwfRpcServer *server, int fd, NwfRpcClient *client,
                          GIOCondition events, gboolean add);
void nwf_rpc_server_unwatch(NwfRpcServer *server, int fd);
