#include "config.h"

#include <string.h>

#include "rpc/rpc_message.h"
#include "rpc_capture.h"

static void
capture_message_free(gpointer data)
{
    RpcCaptureMessage *m = data;

    g_bytes_unref(m->bytes);
    g_free(m);
}

char *
rpc_capture_dir(void)
{
    const char *shared = g_getenv("NWF_SHARED");

    g_assert_nonnull(shared);
    return g_build_filename(shared, "vectors", "libvirt-rpc-captures", NULL);
}

GPtrArray *
rpc_capture_list(const char *suffix)
{
    g_autofree char *dir = rpc_capture_dir();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, suffix))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_ascii_strcasecmp);
    return names;
}

typedef struct {
    guint conn;
    gboolean from_client;
    GByteArray *pending;
} Stream;

static void
stream_free(gpointer data)
{
    Stream *s = data;

    g_byte_array_unref(s->pending);
    g_free(s);
}

static Stream *
stream_get(GPtrArray *streams, guint conn, gboolean from_client)
{
    Stream *s;

    for (guint i = 0; i < streams->len; i++) {
        s = streams->pdata[i];
        if (s->conn == conn && s->from_client == from_client)
            return s;
    }
    s = g_new0(Stream, 1);
    s->conn = conn;
    s->from_client = from_client;
    s->pending = g_byte_array_new();
    g_ptr_array_add(streams, s);
    return s;
}

static void
stream_drain(Stream *s, GPtrArray *out)
{
    while (s->pending->len >= NWF_RPC_LEN_SIZE) {
        guint32 len = nwf_rpc_frame_length(s->pending->data);
        RpcCaptureMessage *m;

        g_assert_true(nwf_rpc_frame_length_valid(len));
        if (s->pending->len < len)
            return;
        m = g_new0(RpcCaptureMessage, 1);
        m->conn = s->conn;
        m->from_client = s->from_client;
        m->bytes = g_bytes_new(s->pending->data, len);
        g_ptr_array_add(out, m);
        g_byte_array_remove_range(s->pending, 0, len);
    }
}

GPtrArray *
rpc_capture_load(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) streams = g_ptr_array_new_with_free_func(stream_free);
    GPtrArray *out = g_ptr_array_new_with_free_func(capture_message_free);

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(g_strstrip(lines[i]), " ", 3);
        g_autofree guint8 *raw = NULL;
        gsize hexlen;
        Stream *s;

        if (g_strv_length(f) < 3)
            continue;
        g_assert_true(strcmp(f[1], "C>S") == 0 || strcmp(f[1], "S>C") == 0);
        s = stream_get(streams, (guint)g_ascii_strtoull(f[0], NULL, 10),
                       strcmp(f[1], "C>S") == 0);
        hexlen = strlen(f[2]);
        g_assert_cmpuint(hexlen % 2, ==, 0);
        raw = g_malloc(hexlen / 2);
        for (gsize j = 0; j < hexlen / 2; j++) {
            int hi = g_ascii_xdigit_value(f[2][2 * j]);
            int lo = g_ascii_xdigit_value(f[2][2 * j + 1]);

            g_assert_true(hi >= 0 && lo >= 0);
            raw[j] = hi << 4 | lo;
        }
        g_byte_array_append(s->pending, raw, hexlen / 2);
        stream_drain(s, out);
    }
    for (guint i = 0; i < streams->len; i++)
        g_assert_cmpuint(((Stream *)streams->pdata[i])->pending->len, ==, 0);
    return out;
}
