/* The RPC server: Unix-socket listeners, connections on a GLib main loop,
 * and one worker thread that runs every driver call in turn, so the loop
 * keeps reading, answering keepalives and serving the handshake of other
 * clients while a slow call (a big firewall rebuild) runs. */
#pragma once

#include <glib.h>

#include "rpc/rpc_dispatch.h"

typedef struct _NwfRpcServer NwfRpcServer;

typedef struct {
    guint keepalive_interval;   /* seconds of silence before a PING; 0: never */
    guint keepalive_count;      /* unanswered PINGs before hanging up */
    guint max_client_requests;  /* calls queued per client before it is not read */
    gsize max_client_output;    /* reply bytes queued before it is not read */
    guint max_clients;          /* further connections are refused; 0: no limit */
} NwfRpcServerConfig;

/* libvirtd's defaults: keepalive 5 s x 5, 5 requests per client. */
void nwf_rpc_server_config_init(NwfRpcServerConfig *config);

/* Runs on the thread-default main context of the caller. OPS and DRIVER
 * must outlive the server. NULL with an error when the process is out of
 * descriptors. */
NwfRpcServer *nwf_rpc_server_new(const NwfRpcServerConfig *config,
                                 const NwfRpcDriverOps *ops, gpointer driver, GError **error);
void nwf_rpc_server_free(NwfRpcServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfRpcServer, nwf_rpc_server_free)

/* Bind PATH (a stale socket there is replaced) with permissions MODE and
 * accept on it; READONLY: every connection is read-only. The path is
 * removed again when the server is freed. */
gboolean nwf_rpc_server_listen_path(NwfRpcServer *server, const char *path, guint mode,
                                    gboolean readonly, GError **error);
/* Accept on an already listening socket (systemd socket activation); the
 * server owns FD from then on. */
gboolean nwf_rpc_server_listen_fd(NwfRpcServer *server, int fd, gboolean readonly,
                                  GError **error);
/* Serve an already connected socket (tests use socketpairs). */
void nwf_rpc_server_add_client(NwfRpcServer *server, int fd, gboolean readonly);

guint nwf_rpc_server_client_count(NwfRpcServer *server);

/* Run FUNC(DATA) on the driver worker after every call queued before it,
 * never at the same time as a call (SIGHUP re-apply uses it). */
void nwf_rpc_server_run_exclusive(NwfRpcServer *server, GFunc func, gpointer data);
