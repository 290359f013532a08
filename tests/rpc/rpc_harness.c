#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "rpc_harness.h"

static gpointer
harness_thread(gpointer data)
{
    Harness *h = data;
    g_autoptr(GError) error = NULL;

    g_main_context_push_thread_default(h->context);
    h->server = nwf_rpc_server_new(&h->config, &fake_driver_ops, h->fake, &error);
    g_assert_nonnull(h->server);
    g_assert_true(nwf_rpc_server_listen_path(h->server, h->rw_path, 0600, FALSE, &error));
    g_assert_true(nwf_rpc_server_listen_path(h->server, h->ro_path, 0666, TRUE, &error));
    g_mutex_lock(&h->lock);
    h->up = TRUE;
    g_cond_signal(&h->ready);
    g_mutex_unlock(&h->lock);
    g_main_loop_run(h->loop);
    nwf_rpc_server_free(h->server);
    g_main_context_pop_thread_default(h->context);
    return NULL;
}

Harness *
harness_start(const NwfRpcServerConfig *config)
{
    Harness *h = g_new0(Harness, 1);

    h->dir = g_dir_make_tmp("nwf-rpc-XXXXXX", NULL);
    g_assert_nonnull(h->dir);
    h->rw_path = g_build_filename(h->dir, "virtnwfilterd-sock", NULL);
    h->ro_path = g_build_filename(h->dir, "virtnwfilterd-sock-ro", NULL);
    h->fake = fake_driver_new();
    if (config)
        h->config = *config;
    else
        nwf_rpc_server_config_init(&h->config);
    h->context = g_main_context_new();
    h->loop = g_main_loop_new(h->context, FALSE);
    g_mutex_init(&h->lock);
    g_cond_init(&h->ready);
    h->thread = g_thread_new("rpc-server", harness_thread, h);
    g_mutex_lock(&h->lock);
    while (!h->up)
        g_cond_wait(&h->ready, &h->lock);
    g_mutex_unlock(&h->lock);
    return h;
}

static gboolean
harness_quit(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void
harness_stop(Harness *h)
{
    g_main_context_invoke(h->context, harness_quit, h->loop);
    g_thread_join(h->thread);
    g_assert_false(g_file_test(h->rw_path, G_FILE_TEST_EXISTS));
    g_rmdir(h->dir);
    g_main_loop_unref(h->loop);
    g_main_context_unref(h->context);
    fake_driver_free(h->fake);
    g_mutex_clear(&h->lock);
    g_cond_clear(&h->ready);
    g_free(h->dir);
    g_free(h->rw_path);
    g_free(h->ro_path);
    g_free(h);
}

typedef struct {
    Harness *h;
    guint count;
    gboolean done;
} CountQuery;

static gboolean
count_on_server(gpointer data)
{
    CountQuery *q = data;

    g_mutex_lock(&q->h->lock);
    q->count = nwf_rpc_server_client_count(q->h->server);
    q->done = TRUE;
    g_cond_signal(&q->h->ready);
    g_mutex_unlock(&q->h->lock);
    return G_SOURCE_REMOVE;
}

guint
harness_client_count(Harness *h)
{
    CountQuery q = { h, 0, FALSE };

    g_main_context_invoke(h->context, count_on_server, &q);
    g_mutex_lock(&h->lock);
    while (!q.done)
        g_cond_wait(&h->ready, &h->lock);
    g_mutex_unlock(&h->lock);
    return q.count;
}

int
client_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 10 };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

void
client_send_bytes(int fd, const void *data, gsize len)
{
    const guint8 *p = data;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(n, >, 0);
        p += n;
        len -= n;
    }
}

void
client_send_call(int fd, guint32 prog, guint32 vers, gint32 proc, guint32 serial,
                 const NwfRpcCodec *codec, const void *args)
{
    NwfRpcHeader hdr = { prog, vers, proc, NWF_RPC_TYPE_CALL, serial, NWF_RPC_STATUS_OK };
    g_autoptr(GBytes) msg = nwf_rpc_message_encode(&hdr, codec, args);
    gsize len;
    const void *data = g_bytes_get_data(msg, &len);

    client_send_bytes(fd, data, len);
}

static gboolean
recv_exact(int fd, guint8 *buf, gsize len)
{
    while (len) {
        ssize_t n = recv(fd, buf, len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        buf += n;
        len -= n;
    }
    return TRUE;
}

GBytes *
client_recv(int fd)
{
    guint8 word[4];
    guint32 len;
    g_autofree guint8 *buf = NULL;

    if (!recv_exact(fd, word, 4))
        return NULL;
    len = nwf_rpc_frame_length(word);
    g_assert_true(nwf_rpc_frame_length_valid(len));
    buf = g_malloc(len);
    memcpy(buf, word, 4);
    if (!recv_exact(fd, buf + 4, len - 4))
        return NULL;
    return g_bytes_new_take(g_steal_pointer(&buf), len);
}

gboolean
client_wait_eof(int fd)
{
    guint8 byte;

    for (;;) {
        ssize_t n = recv(fd, &byte, 1, 0);

        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return TRUE;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FALSE;
    }
}

guint32
client_call(int fd, gint32 proc, guint32 serial, const NwfRpcCodec *args_codec,
            const void *args, const NwfRpcCodec *ret_codec, void *ret, NwfRpcError *err)
{
    g_autoptr(GBytes) reply = NULL;
    NwfRpcHeader hdr;
    gsize len;
    const guint8 *data;

    client_send_call(fd, NWF_RPC_PROGRAM_REMOTE, NWF_RPC_PROTOCOL_VERSION, proc, serial,
                     args_codec, args);
    reply = client_recv(fd);
    g_assert_nonnull(reply);
    data = g_bytes_get_data(reply, &len);
    nwf_rpc_header_decode(data, &hdr);
    g_assert_cmpuint(hdr.prog, ==, NWF_RPC_PROGRAM_REMOTE);
    g_assert_cmpint(hdr.proc, ==, proc);
    g_assert_cmpuint(hdr.serial, ==, serial);
    g_assert_cmpuint(hdr.type, ==, NWF_RPC_TYPE_REPLY);
    if (hdr.status == NWF_RPC_STATUS_OK) {
        g_assert_true(nwf_xdr_decode(ret_codec, data + NWF_RPC_HEADER_SIZE,
                                     len - NWF_RPC_HEADER_SIZE, ret));
    } else {
        NwfRpcError scratch;

        g_assert_cmpuint(hdr.status, ==, NWF_RPC_STATUS_ERROR);
        g_assert_true(nwf_xdr_decode(&nwf_rpc_codec_error, data + NWF_RPC_HEADER_SIZE,
                                     len - NWF_RPC_HEADER_SIZE, err ? err : &scratch));
        if (!err)
            nwf_xdr_free(&nwf_rpc_codec_error, &scratch);
    }
    return hdr.status;
}

guint32
client_handshake(int fd, const char *name, guint32 flags)
{
    NwfRpcAuthList auth;
    NwfRpcInt feature = { NWF_RPC_FEATURE_PROGRAM_KEEPALIVE };
    NwfRpcInt supported;
    NwfRpcOpenArgs open = { (char *)name, flags };
    guint32 serial = 0;

    g_assert_cmpuint(client_call(fd, NWF_PROC_AUTH_LIST, serial++, &nwf_rpc_codec_void, NULL,
                                 &nwf_rpc_codec_auth_list, &auth, NULL), ==, 0);
    g_assert_cmpuint(auth.count, ==, 1);
    g_assert_cmpint(auth.types[0], ==, 0);
    nwf_xdr_free(&nwf_rpc_codec_auth_list, &auth);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_SUPPORTS_FEATURE, serial++,
                                 &nwf_rpc_codec_int, &feature, &nwf_rpc_codec_int, &supported,
                                 NULL), ==, 0);
    g_assert_cmpint(supported.value, ==, 1);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_OPEN, serial++, &nwf_rpc_codec_open_args,
                                 &open, &nwf_rpc_codec_void, NULL, NULL), ==, 0);
    feature.value = NWF_RPC_FEATURE_REMOTE_EVENT_CALLBACK;
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_SUPPORTS_FEATURE, serial++,
                                 &nwf_rpc_codec_int, &feature, &nwf_rpc_codec_int, &supported,
                                 NULL), ==, 0);
    g_assert_cmpint(supported.value, ==, 1);
    feature.value = NWF_RPC_FEATURE_REMOTE_CLOSE_CALLBACK;
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_SUPPORTS_FEATURE, serial++,
                                 &nwf_rpc_codec_int, &feature, &nwf_rpc_codec_int, &supported,
                                 NULL), ==, 0);
    g_assert_cmpint(supported.value, ==, 1);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_REGISTER_CLOSE_CALLBACK, serial++,
                                 &nwf_rpc_codec_void, NULL, &nwf_rpc_codec_void, NULL, NULL),
                     ==, 0);
    return serial;
}
