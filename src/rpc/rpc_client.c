#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/rpc_client.h"
#include "rpc/rpc_message.h"

/* Bytes asked of read() at a time, and reads per wakeup before the loop
 * moves on to other clients. */
#define READ_CHUNK 65536
#define READS_PER_WAKEUP 8
/* A frame buffer that grew past this is given back once empty. */
#define RX_KEEP 262144

struct _NwfRpcClient {
    gint ref;
    gint closed;                /* atomic: read by the worker */
    NwfRpcServer *server;
    int fd;
    GIOCondition watching;      /* events registered with the server */
    NwfRpcSession session;
    GByteArray *rx;             /* stream bytes not yet framed */
    GQueue tx;                  /* GBytes waiting to be written */
    gsize tx_offset;            /* into the head of tx */
    gsize tx_bytes;
    GQueue calls;               /* GBytes calls waiting their turn */
    gboolean busy;              /* a call is with the worker */
    gint64 last_rx;
    guint pings;                /* unanswered server PINGs */
};

static void client_parse(NwfRpcClient *c);

NwfRpcClient *
nwf_rpc_client_ref(NwfRpcClient *c)
{
    g_atomic_int_inc(&c->ref);
    return c;
}

void
nwf_rpc_client_unref(NwfRpcClient *c)
{
    if (!g_atomic_int_dec_and_test(&c->ref))
        return;
    g_byte_array_unref(c->rx);
    g_queue_clear_full(&c->tx, (GDestroyNotify)g_bytes_unref);
    g_queue_clear_full(&c->calls, (GDestroyNotify)g_bytes_unref);
    nwf_rpc_session_clear(&c->session);
    g_free(c);
}

gboolean
nwf_rpc_client_is_closed(NwfRpcClient *c)
{
    return g_atomic_int_get(&c->closed);
}

static gboolean
client_wants_read(NwfRpcClient *c)
{
    const NwfRpcServerConfig *cfg = nwf_rpc_server_get_config(c->server);

    return !c->closed && !c->session.close_requested &&
           c->calls.length + (c->busy ? 1 : 0) < cfg->max_client_requests &&
           c->tx_bytes < cfg->max_client_output;
}

static void
client_update_watch(NwfRpcClient *c)
{
    GIOCondition want = 0;

    if (c->closed)
        return;
    if (client_wants_read(c))
        want |= G_IO_IN;
    if (c->tx.length)
        want |= G_IO_OUT;
    if (want != c->watching) {
        nwf_rpc_server_watch(c->server, c->fd, c, want, FALSE);
        c->watching = want;
    }
}

NwfRpcClient *
nwf_rpc_client_new(NwfRpcServer *server, int fd, gboolean readonly)
{
    NwfRpcClient *c = g_new0(NwfRpcClient, 1);

    c->ref = 1;
    c->server = server;
    c->fd = fd;
    c->session.readonly_socket = readonly;
    c->rx = g_byte_array_new();
    c->last_rx = g_get_monotonic_time();
    g_queue_init(&c->tx);
    g_queue_init(&c->calls);
    c->watching = G_IO_IN;
    nwf_rpc_server_watch(server, fd, c, c->watching, TRUE);
    return c;
}

void
nwf_rpc_client_close(NwfRpcClient *c)
{
    if (c->closed)
        return;
    g_atomic_int_set(&c->closed, 1);
    nwf_rpc_server_unwatch(c->server, c->fd);
    close(c->fd);
    c->fd = -1;
    g_queue_clear_full(&c->tx, (GDestroyNotify)g_bytes_unref);
    g_queue_clear_full(&c->calls, (GDestroyNotify)g_bytes_unref);
    c->tx_bytes = 0;
    nwf_rpc_server_client_gone(c->server, c);
}

static void
client_flush(NwfRpcClient *c)
{
    while (!c->closed && c->tx.length) {
        GBytes *head = g_queue_peek_head(&c->tx);
        gsize len;
        const guint8 *data = g_bytes_get_data(head, &len);
        ssize_t n = send(c->fd, data + c->tx_offset, len - c->tx_offset,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            g_debug("client fd %d: write failed: %s", c->fd, g_strerror(errno));
            nwf_rpc_client_close(c);
            return;
        }
        c->tx_offset += n;
        if (c->tx_offset == len) {
            c->tx_bytes -= len;
            c->tx_offset = 0;
            g_bytes_unref(g_queue_pop_head(&c->tx));
        }
    }
    /* CONNECT_CLOSE is answered, then the connection goes, as libvirtd does. */
    if (!c->closed && c->session.close_requested && !c->tx.length)
        nwf_rpc_client_close(c);
}

static void
client_send(NwfRpcClient *c, GBytes *msg)
{
    if (c->closed) {
        g_bytes_unref(msg);
        return;
    }
    c->tx_bytes += g_bytes_get_size(msg);
    g_queue_push_tail(&c->tx, msg);
    client_flush(c);
}

static void
client_send_error(NwfRpcClient *c, const NwfRpcHeader *call, NwfRpcError *err)
{
    NwfRpcHeader hdr = *call;
    GBytes *msg;

    hdr.type = NWF_RPC_TYPE_REPLY;
    hdr.status = NWF_RPC_STATUS_ERROR;
    msg = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_error, err);
    if (!msg) {
        /* Only a text beyond the 4 MiB string limit gets here. */
        NwfRpcError small = { 0 };

        nwf_rpc_error_set_rpc(&small, "Unable to encode message payload");
        msg = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_error, &small);
        nwf_rpc_error_clear(&small);
    }
    client_send(c, msg);
}

static void
client_send_rpc_error(NwfRpcClient *c, const NwfRpcHeader *call, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void
client_send_rpc_error(NwfRpcClient *c, const NwfRpcHeader *call, const char *fmt, ...)
{
    NwfRpcError err = { 0 };
    g_autofree char *detail = NULL;
    va_list ap;

    va_start(ap, fmt);
    detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    nwf_rpc_error_set_rpc(&err, "%s", detail);
    client_send_error(c, call, &err);
    nwf_rpc_error_clear(&err);
}

static void
client_send_keepalive(NwfRpcClient *c, gint32 proc)
{
    NwfRpcHeader hdr = {
        NWF_RPC_PROGRAM_KEEPALIVE, NWF_RPC_PROTOCOL_VERSION, proc,
        NWF_RPC_TYPE_MESSAGE, 0, NWF_RPC_STATUS_OK,
    };

    client_send(c, nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_void, NULL));
}

static void
client_reply(NwfRpcClient *c, NwfRpcCall *call)
{
    NwfRpcHeader hdr = call->hdr;
    GBytes *msg;

    if (!call->ok) {
        client_send_error(c, &call->hdr, &call->err);
        return;
    }
    hdr.type = NWF_RPC_TYPE_REPLY;
    hdr.status = NWF_RPC_STATUS_OK;
    msg = nwf_rpc_message_encode(&hdr, call->info->ret, call->ret);
    if (!msg) {
        client_send_rpc_error(c, &call->hdr, "Unable to encode message payload");
        return;
    }
    client_send(c, msg);
}

void
nwf_rpc_call_free(NwfRpcCall *call)
{
    if (!call)
        return;
    if (call->args) {
        nwf_xdr_free(call->info->args, call->args);
        g_free(call->args);
    }
    if (call->ret) {
        nwf_xdr_free(call->info->ret, call->ret);
        g_free(call->ret);
    }
    nwf_rpc_error_clear(&call->err);
    if (call->client)
        nwf_rpc_client_unref(call->client);
    g_free(call);
}

/* Run queued calls in order until one has to wait for the worker. */
static void
client_pump(NwfRpcClient *c)
{
    GBytes *msg;

    while (!c->busy && !c->closed && !c->session.close_requested &&
           (msg = g_queue_pop_head(&c->calls))) {
        gsize len;
        const guint8 *data = g_bytes_get_data(msg, &len);
        NwfRpcCall *call = g_new0(NwfRpcCall, 1);

        nwf_rpc_header_decode(data, &call->hdr);
        call->proc = nwf_rpc_procedure_find(call->hdr.proc);
        if (!call->proc) {
            client_send_rpc_error(c, &call->hdr, "unknown procedure: %d", call->hdr.proc);
            goto next;
        }
        call->info = nwf_rpc_proc_info(call->proc->proc);
        call->args = g_malloc0(MAX(call->info->args->size, 1));
        call->ret = g_malloc0(MAX(call->info->ret->size, 1));
        if (!nwf_xdr_decode(call->info->args, data + NWF_RPC_HEADER_SIZE,
                            len - NWF_RPC_HEADER_SIZE, call->args)) {
            client_send_rpc_error(c, &call->hdr, "Unable to decode message payload");
            goto next;
        }
        if (!nwf_rpc_procedure_check(call->proc, &c->session, &call->err)) {
            client_reply(c, call);
            goto next;
        }
        if (call->proc->local) {
            call->ok = call->proc->local(&c->session, call->args, call->ret, &call->err);
            client_reply(c, call);
            goto next;
        }
        c->busy = TRUE;
        call->client = nwf_rpc_client_ref(c);
        g_bytes_unref(msg);
        nwf_rpc_server_submit(c->server, call);
        return;
    next:
        g_bytes_unref(msg);
        nwf_rpc_call_free(call);
    }
    if (!c->closed && c->session.close_requested) {
        g_queue_clear_full(&c->calls, (GDestroyNotify)g_bytes_unref);
        if (!c->tx.length)
            nwf_rpc_client_close(c);
    }
}

void
nwf_rpc_client_call_done(NwfRpcCall *call)
{
    NwfRpcClient *c = call->client;

    c->busy = FALSE;
    if (!c->closed) {
        client_reply(c, call);
        client_pump(c);
        /* Frames already buffered while the call ran can go on now. */
        client_parse(c);
        client_update_watch(c);
    }
    nwf_rpc_call_free(call);
}

static void
client_handle_message(NwfRpcClient *c, GBytes *msg)
{
    NwfRpcHeader hdr;

    nwf_rpc_header_decode(g_bytes_get_data(msg, NULL), &hdr);
    c->last_rx = g_get_monotonic_time();
    c->pings = 0;
    switch ((NwfRpcType)hdr.type) {
    case NWF_RPC_TYPE_CALL:
        if (hdr.prog != NWF_RPC_PROGRAM_REMOTE || hdr.vers != NWF_RPC_PROTOCOL_VERSION) {
            client_send_rpc_error(c, &hdr, "Cannot find program %u version %u",
                                  hdr.prog, hdr.vers);
        } else if (hdr.status != NWF_RPC_STATUS_OK) {
            client_send_rpc_error(c, &hdr, "Unexpected message status %u", hdr.status);
        } else {
            g_queue_push_tail(&c->calls, g_bytes_ref(msg));
            client_pump(c);
        }
        return;
    case NWF_RPC_TYPE_CALL_WITH_FDS:
        /* No nwfilter procedure passes descriptors; the caller still
         * waits for an answer. */
        client_send_rpc_error(c, &hdr, "Unexpected message type %u", hdr.type);
        return;
    case NWF_RPC_TYPE_MESSAGE:
        if (hdr.prog == NWF_RPC_PROGRAM_KEEPALIVE && hdr.vers == NWF_RPC_PROTOCOL_VERSION &&
            hdr.proc == NWF_RPC_KEEPALIVE_PING) {
            g_debug("client fd %d: keepalive PING, answering PONG", c->fd);
            client_send_keepalive(c, NWF_RPC_KEEPALIVE_PONG);
        }
        return;
    case NWF_RPC_TYPE_REPLY:
    case NWF_RPC_TYPE_STREAM:
    case NWF_RPC_TYPE_REPLY_WITH_FDS:
    case NWF_RPC_TYPE_STREAM_HOLE:
        break;
    }
    g_debug("client fd %d: ignoring message type %u", c->fd, hdr.type);
}

/* Cut complete frames off the buffer while the client may be served. */
static void
client_parse(NwfRpcClient *c)
{
    while (!c->closed && client_wants_read(c) && c->rx->len >= NWF_RPC_LEN_SIZE) {
        guint32 len = nwf_rpc_frame_length(c->rx->data);
        g_autoptr(GBytes) msg = NULL;

        if (!nwf_rpc_frame_length_valid(len)) {
            g_debug("client fd %d: bad frame length %u, hanging up", c->fd, len);
            nwf_rpc_client_close(c);
            return;
        }
        if (c->rx->len < len)
            return;
        msg = g_bytes_new(c->rx->data, len);
        g_byte_array_remove_range(c->rx, 0, len);
        client_handle_message(c, msg);
    }
}

static void
client_read(NwfRpcClient *c)
{
    /* Read into scratch space and keep only what arrived: an idle or
     * slow client then holds no more than its unframed bytes. */
    guint8 chunk[READ_CHUNK];

    for (int i = 0; i < READS_PER_WAKEUP && client_wants_read(c); i++) {
        gsize peak = c->rx->len;
        ssize_t n = recv(c->fd, chunk, sizeof(chunk), MSG_DONTWAIT);

        if (n == 0) {
            g_debug("client fd %d: peer hung up", c->fd);
            nwf_rpc_client_close(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                g_debug("client fd %d: read failed: %s", c->fd, g_strerror(errno));
                nwf_rpc_client_close(c);
            }
            return;
        }
        g_byte_array_append(c->rx, chunk, n);
        peak += n;
        client_parse(c);
        if (c->rx->len == 0 && peak > RX_KEEP) {
            g_byte_array_unref(c->rx);
            c->rx = g_byte_array_new();
        }
    }
}

void
nwf_rpc_client_io(NwfRpcClient *c, GIOCondition cond)
{
    if (c->closed)
        return;
    if (cond & G_IO_ERR) {
        g_debug("client fd %d: socket error", c->fd);
        nwf_rpc_client_close(c);
        return;
    }
    if (cond & G_IO_OUT) {
        client_flush(c);
        /* Room in the output queue may let buffered calls run. */
        client_parse(c);
    }
    if (cond & G_IO_IN)
        client_read(c);
    else if (cond & G_IO_HUP) {
        g_debug("client fd %d: peer hung up while not being read", c->fd);
        nwf_rpc_client_close(c);
    }
    client_update_watch(c);
}

void
nwf_rpc_client_keepalive(NwfRpcClient *c, gint64 now, guint interval, guint count)
{
    if (c->closed || !c->session.keepalive)
        return;
    if (now - c->last_rx < (gint64)interval * G_USEC_PER_SEC)
        return;
    if (c->pings >= count) {
        g_info("client fd %d: no answer to %u keepalive probes, hanging up", c->fd, count);
        nwf_rpc_client_close(c);
        return;
    }
    c->pings++;
    c->last_rx = now;
    client_send_keepalive(c, NWF_RPC_KEEPALIVE_PING);
    client_update_watch(c);
}
