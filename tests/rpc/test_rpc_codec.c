/* Codec and framing against libvirt's own bytes: every message of every
 * capture is re-framed, decoded with the payload type its header names,
 * re-encoded, and must come out byte for byte the same. */
#include "config.h"

#include <string.h>

#include "rpc/rpc_message.h"
#include "rpc_capture.h"

/* Decode MSG fully and encode it again; the bytes must not change. */
static void
check_round_trip(GBytes *msg)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(msg, &len);
    NwfRpcHeader hdr;
    const NwfRpcCodec *codec;
    g_autofree void *payload = NULL;
    g_autoptr(GBytes) again = NULL;

    g_assert_cmpuint(len, >=, NWF_RPC_HEADER_SIZE);
    g_assert_cmpuint(nwf_rpc_frame_length(data), ==, len);
    nwf_rpc_header_decode(data, &hdr);
    codec = nwf_rpc_message_payload_codec(&hdr);
    if (!codec) {
        g_test_message("no codec for prog %#x proc %d type %u status %u",
                       hdr.prog, hdr.proc, hdr.type, hdr.status);
        g_assert_not_reached();
    }
    payload = g_malloc0(MAX(codec->size, 1));
    g_assert_true(nwf_xdr_decode(codec, data + NWF_RPC_HEADER_SIZE,
                                 len - NWF_RPC_HEADER_SIZE, payload));
    again = nwf_rpc_message_encode(&hdr, codec, payload);
    g_assert_nonnull(again);
    g_assert_true(g_bytes_equal(msg, again));

    if (codec == &nwf_rpc_codec_error) {
        NwfRpcError *e = payload;
        const char *hole = e->str1 ? strstr(e->str1, "%s") : NULL;

        /* libvirt fills str1 with the template and str2 with the detail;
         * the message is the one spliced into the other. */
        g_assert_cmpint(e->level, ==, 2);
        if (hole) {
            g_autofree char *joined = g_strdup_printf("%.*s%s%s", (int)(hole - e->str1),
                                                      e->str1, e->str2, hole + 2);
            g_assert_cmpstr(joined, ==, e->message);
        }
    }

    /* Every strict truncation of a payload must fail to decode, cleanly. */
    for (gsize cut = NWF_RPC_HEADER_SIZE; codec->proc && cut < len; cut++) {
        g_autofree void *partial = g_malloc0(codec->size);

        g_assert_false(nwf_xdr_decode(codec, data + NWF_RPC_HEADER_SIZE,
                                      cut - NWF_RPC_HEADER_SIZE, partial));
    }
    nwf_xdr_free(codec, payload);
}

static void
test_hexlog(gconstpointer data)
{
    g_autofree char *dir = rpc_capture_dir();
    g_autofree char *path = g_build_filename(dir, (const char *)data, NULL);
    g_autoptr(GPtrArray) msgs = rpc_capture_load(path);
    guint calls = 0;

    g_assert_cmpuint(msgs->len, >, 0);
    for (guint i = 0; i < msgs->len; i++) {
        RpcCaptureMessage *m = msgs->pdata[i];
        NwfRpcHeader hdr;

        check_round_trip(m->bytes);
        nwf_rpc_header_decode(g_bytes_get_data(m->bytes, NULL), &hdr);
        if (hdr.type == NWF_RPC_TYPE_CALL) {
            g_assert_true(m->from_client);
            g_assert_cmpuint(hdr.status, ==, NWF_RPC_STATUS_OK);
            calls++;
        } else if (hdr.type == NWF_RPC_TYPE_REPLY) {
            g_assert_false(m->from_client);
        } else {
            g_assert_cmpuint(hdr.type, ==, NWF_RPC_TYPE_MESSAGE);
            g_assert_cmpuint(hdr.prog, ==, NWF_RPC_PROGRAM_KEEPALIVE);
            g_assert_cmpuint(hdr.serial, ==, 0);
        }
    }
    g_assert_cmpuint(calls, >, 0);
}

/* The probe transcripts carry only decoded replies and their hex. */
static void
test_probe(gconstpointer data)
{
    g_autofree char *dir = rpc_capture_dir();
    g_autofree char *path = g_build_filename(dir, (const char *)data, NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint seen = 0;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *hex = strstr(lines[i], "hex: ");
        g_autoptr(GByteArray) raw = g_byte_array_new();
        g_autoptr(GBytes) msg = NULL;

        if (!hex)
            continue;
        hex += 5;
        for (gsize j = 0; hex[j] && hex[j + 1]; j += 2) {
            guint8 b = g_ascii_xdigit_value(hex[j]) << 4 | g_ascii_xdigit_value(hex[j + 1]);
            g_byte_array_append(raw, &b, 1);
        }
        msg = g_byte_array_free_to_bytes(g_steal_pointer(&raw));
        check_round_trip(msg);
        seen++;
    }
    g_assert_cmpuint(seen, >, 0);
}

static void
test_frame_lengths(void)
{
    g_assert_false(nwf_rpc_frame_length_valid(0));
    g_assert_false(nwf_rpc_frame_length_valid(3));
    g_assert_false(nwf_rpc_frame_length_valid(27));
    g_assert_true(nwf_rpc_frame_length_valid(28));
    g_assert_true(nwf_rpc_frame_length_valid(NWF_RPC_MESSAGE_MAX));
    g_assert_false(nwf_rpc_frame_length_valid(NWF_RPC_MESSAGE_MAX + 1));
    g_assert_false(nwf_rpc_frame_length_valid(0x80000000u));
    g_assert_false(nwf_rpc_frame_length_valid(G_MAXUINT32));
}

static void
test_string_limits(void)
{
    /* A length word claiming 4 MiB with nothing behind it must fail
     * without allocating for it; one past the limit fails outright. */
    static const guint8 huge[] = { 0x00, 0x40, 0x00, 0x00, 'a', 'b', 'c', 'd' };
    static const guint8 over[] = { 0x00, 0x40, 0x00, 0x01, 'a', 'b', 'c', 'd' };
    static const guint8 nul[] = { 0x00, 0x00, 0x00, 0x03, 'a', 0, 'b', 0 };
    NwfRpcString s;

    g_assert_false(nwf_xdr_decode(&nwf_rpc_codec_string, huge, sizeof(huge), &s));
    g_assert_null(s.str);
    g_assert_false(nwf_xdr_decode(&nwf_rpc_codec_string, over, sizeof(over), &s));
    g_assert_true(nwf_xdr_decode(&nwf_rpc_codec_string, nul, sizeof(nul), &s));
    g_assert_cmpstr(s.str, ==, "a");
    nwf_xdr_free(&nwf_rpc_codec_string, &s);
}

static void
test_list_limit(void)
{
    /* 16385 names: one over REMOTE_NWFILTER_LIST_MAX. */
    static const guint8 count[] = { 0x00, 0x00, 0x40, 0x01 };
    NwfRpcNameList l;
    NwfRpcNameList big = { 0 };
    g_autoptr(GByteArray) out = g_byte_array_new();

    g_assert_false(nwf_xdr_decode(&nwf_rpc_codec_name_list, count, sizeof(count), &l));
    big.count = NWF_RPC_NWFILTER_LIST_MAX + 1;
    big.names = g_new0(char *, big.count);
    for (guint i = 0; i < big.count; i++)
        big.names[i] = (char *)"n";
    g_assert_false(nwf_xdr_encode(&nwf_rpc_codec_name_list, &big, out, NWF_RPC_MESSAGE_MAX));
    g_assert_cmpuint(out->len, ==, 0);
    g_free(big.names);
}

static void
test_typed_params(void)
{
    NwfRpcTypedParam params[] = {
        { .field = (char *)"user-name", .type = NWF_RPC_PARAM_STRING, .value.s = (char *)"root" },
        { .field = (char *)"unix-user-id", .type = NWF_RPC_PARAM_ULLONG, .value.ul = 0 },
        { .field = (char *)"process-id", .type = NWF_RPC_PARAM_LLONG, .value.l = 4242 },
        { .field = (char *)"d", .type = NWF_RPC_PARAM_DOUBLE, .value.d = 1.5 },
        { .field = (char *)"b", .type = NWF_RPC_PARAM_BOOLEAN, .value.i = 1 },
    };
    NwfRpcIdentityArgs args = { G_N_ELEMENTS(params), params, 0 };
    NwfRpcIdentityArgs back;
    g_autoptr(GByteArray) out = g_byte_array_new();

    g_assert_true(nwf_xdr_encode(&nwf_rpc_codec_identity_args, &args, out, NWF_RPC_MESSAGE_MAX));
    g_assert_true(nwf_xdr_decode(&nwf_rpc_codec_identity_args, out->data, out->len, &back));
    g_assert_cmpuint(back.count, ==, 5);
    g_assert_cmpstr(back.params[0].value.s, ==, "root");
    g_assert_cmpint(back.params[2].value.l, ==, 4242);
    g_assert_cmpfloat(back.params[3].value.d, ==, 1.5);
    nwf_xdr_free(&nwf_rpc_codec_identity_args, &back);

    /* Type 8 is not a typed-param type: the whole payload is refused. */
    out->data[4 + 4 + 12 + 3] = 8;
    g_assert_false(nwf_xdr_decode(&nwf_rpc_codec_identity_args, out->data, out->len, &back));
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) hexlogs = NULL;
    g_autoptr(GPtrArray) probes = NULL;

    g_test_init(&argc, &argv, NULL);
    hexlogs = rpc_capture_list(".hexlog");
    probes = rpc_capture_list(".txt");
    for (guint i = 0; i < hexlogs->len; i++) {
        g_autofree char *name = g_strdup_printf("/rpc/codec/capture/%s",
                                                (char *)hexlogs->pdata[i]);
        g_test_add_data_func(name, hexlogs->pdata[i], test_hexlog);
    }
    for (guint i = 0; i < probes->len; i++) {
        const char *f = probes->pdata[i];
        g_autofree char *name = NULL;

        if (f[0] != 'p')
            continue;
        name = g_strdup_printf("/rpc/codec/probe/%s", f);
        g_test_add_data_func(name, f, test_probe);
    }
    g_test_add_func("/rpc/codec/frame-lengths", test_frame_lengths);
    g_test_add_func("/rpc/codec/string-limits", test_string_limits);
    g_test_add_func("/rpc/codec/list-limit", test_list_limit);
    g_test_add_func("/rpc/codec/typed-params", test_typed_params);
    return g_test_run();
}
