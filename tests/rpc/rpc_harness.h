/* A server on its own thread and main loop (rw + ro sockets in a temp dir,
 * fake driver), and a blocking client to drive it from the test. */
#pragma once

#include <glib.h>

#include "fake_driver.h"
#include "rpc/rpc_message.h"
#include "rpc/rpc_server.h"

typedef struct {
    char *dir;
    char *rw_path;
    char *ro_path;
    FakeDriver *fake;
    NwfRpcServerConfig config;
    GThread *thread;
    GMainContext *context;
    GMainLoop *loop;
    NwfRpcServer *server;
    GMutex lock;
    GCond ready;
    gboolean up;
} Harness;

/* CONFIG may be NULL for the defaults. */
Harness *harness_start(const NwfRpcServerConfig *config);
void harness_stop(Harness *h);
/* Clients the server holds right now (asked on the server thread). */
guint harness_client_count(Harness *h);

/* Blocking client, 10 s receive timeout. */
int client_connect(const char *path);
void client_send_bytes(int fd, const void *data, gsize len);
void client_send_call(int fd, guint32 prog, guint32 vers, gint32 proc, guint32 serial,
                      const NwfRpcCodec *codec, const void *args);
/* Next message, or NULL at EOF / timeout. */
GBytes *client_recv(int fd);
/* Whether the server hung up (EOF within the timeout). */
gboolean client_wait_eof(int fd);

/* Send a REMOTE call and read its reply; the header must echo the call.
 * Returns the reply's status; decodes ret into RET or error into ERR. */
guint32 client_call(int fd, gint32 proc, guint32 serial, const NwfRpcCodec *args_codec,
                    const void *args, const NwfRpcCodec *ret_codec, void *ret, NwfRpcError *err);
/* AUTH_LIST, FEATURE 10, OPEN(name, flags), FEATURE 14, 15, REGISTER:
 * what virsh sends; returns the next serial. */
guint32 client_handshake(int fd, const char *name, guint32 flags);
