/* libFuzzer target: a byte stream as a client would send it, cut into
 * frames, each payload decoded with the type its header names, encoded
 * again and freed. Must never crash, leak or read out of bounds. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rpc/rpc_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_one(const guint8 *msg, guint32 len)
{
    NwfRpcHeader hdr;
    const NwfRpcCodec *codec;
    g_autofree void *payload = NULL;

    nwf_rpc_header_decode(msg, &hdr);
    codec = nwf_rpc_message_payload_codec(&hdr);
    if (!codec)
        return;
    payload = g_malloc0(MAX(codec->size, 1));
    if (!nwf_xdr_decode(codec, msg + NWF_RPC_HEADER_SIZE, len - NWF_RPC_HEADER_SIZE, payload))
        return;
    g_autoptr(GBytes) again = nwf_rpc_message_encode(&hdr, codec, payload);
    /* A decoded payload always encodes, never longer than its source. */
    g_assert_nonnull(again);
    g_assert_cmpuint(g_bytes_get_size(again), <=, len);
    nwf_xdr_free(codec, payload);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    while (size >= NWF_RPC_LEN_SIZE) {
        guint32 len = nwf_rpc_frame_length(data);

        if (!nwf_rpc_frame_length_valid(len) || len > size)
            break;
        fuzz_one(data, len);
        data += len;
        size -= len;
    }
    return 0;
}
