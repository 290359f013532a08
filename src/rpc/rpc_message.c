#include "config.h"

#include "rpc/rpc_message.h"

guint32
nwf_rpc_frame_length(const guint8 *word)
{
    return (guint32)word[0] << 24 | (guint32)word[1] << 16 | (guint32)word[2] << 8 | word[3];
}

gboolean
nwf_rpc_frame_length_valid(guint32 len)
{
    return len >= NWF_RPC_HEADER_SIZE && len - NWF_RPC_LEN_SIZE <= NWF_RPC_PAYLOAD_MAX;
}

void
nwf_rpc_header_decode(const guint8 *msg, NwfRpcHeader *hdr)
{
    hdr->prog = nwf_rpc_frame_length(msg + 4);
    hdr->vers = nwf_rpc_frame_length(msg + 8);
    hdr->proc = (gint32)nwf_rpc_frame_length(msg + 12);
    hdr->type = nwf_rpc_frame_length(msg + 16);
    hdr->serial = nwf_rpc_frame_length(msg + 20);
    hdr->status = nwf_rpc_frame_length(msg + 24);
}

static void
put_u32(guint8 *at, guint32 v)
{
    at[0] = v >> 24;
    at[1] = v >> 16;
    at[2] = v >> 8;
    at[3] = v;
}

GBytes *
nwf_rpc_message_encode(const NwfRpcHeader *hdr, const NwfRpcCodec *codec, const void *payload)
{
    g_autoptr(GByteArray) out = g_byte_array_sized_new(NWF_RPC_HEADER_SIZE);

    g_byte_array_set_size(out, NWF_RPC_HEADER_SIZE);
    put_u32(out->data + 4, hdr->prog);
    put_u32(out->data + 8, hdr->vers);
    put_u32(out->data + 12, (guint32)hdr->proc);
    put_u32(out->data + 16, hdr->type);
    put_u32(out->data + 20, hdr->serial);
    put_u32(out->data + 24, hdr->status);
    if (!nwf_xdr_encode(codec, payload, out, NWF_RPC_MESSAGE_MAX))
        return NULL;
    put_u32(out->data, out->len);
    /* A copy of exactly the message: the encoder's scratch room would
     * otherwise stay allocated for as long as the reply waits to be sent. */
    return g_bytes_new(out->data, out->len);
}

const NwfRpcCodec *
nwf_rpc_message_payload_codec(const NwfRpcHeader *hdr)
{
    const NwfRpcProcInfo *info;

    if (hdr->vers != NWF_RPC_PROTOCOL_VERSION)
        return NULL;
    if (hdr->prog == NWF_RPC_PROGRAM_KEEPALIVE)
        return hdr->type == NWF_RPC_TYPE_MESSAGE ? &nwf_rpc_codec_void : NULL;
    if (hdr->prog != NWF_RPC_PROGRAM_REMOTE)
        return NULL;
    if (hdr->type == NWF_RPC_TYPE_REPLY && hdr->status == NWF_RPC_STATUS_ERROR)
        return &nwf_rpc_codec_error;
    info = nwf_rpc_proc_info(hdr->proc);
    if (!info)
        return NULL;
    if (hdr->type == NWF_RPC_TYPE_CALL && hdr->status == NWF_RPC_STATUS_OK)
        return info->args;
    if (hdr->type == NWF_RPC_TYPE_REPLY && hdr->status == NWF_RPC_STATUS_OK)
        return info->ret;
    return NULL;
}
