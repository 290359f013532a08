/* Reading the byte captures of vectors/libvirt-rpc-captures: the hexlog
 * streams re-framed into messages. */
#pragma once

#include <glib.h>

typedef struct {
    guint conn;            /* connection number in the capture */
    gboolean from_client;  /* C>S */
    GBytes *bytes;         /* one whole message, length word included */
} RpcCaptureMessage;

/* Every message of PATH in stream order per connection and direction
 * (RpcCaptureMessage*, freed with the array). Fails the test on a stream
 * that does not re-frame exactly. */
GPtrArray *rpc_capture_load(const char *path);

/* The capture directory. */
char *rpc_capture_dir(void);

/* Sorted file names in the capture directory ending with SUFFIX. */
GPtrArray *rpc_capture_list(const char *suffix);
