/* Framing: a u32 length word counting itself, the 24-byte header, then the
 * XDR payload (spec/libvirt-rpc.md §1). */
#pragma once

#include <glib.h>

#include "rpc/rpc_protocol.h"

#define NWF_RPC_LEN_SIZE 4u
/* Length word plus header: the smallest valid message (void payload). */
#define NWF_RPC_HEADER_SIZE 28u
/* Largest len - 4 libvirt 9.0 accepts. */
#define NWF_RPC_PAYLOAD_MAX 33554432u
#define NWF_RPC_MESSAGE_MAX (NWF_RPC_PAYLOAD_MAX + NWF_RPC_LEN_SIZE)

/* The length word at the start of WORD (4 bytes). */
guint32 nwf_rpc_frame_length(const guint8 *word);
/* Whether a length word describes a message this side can read; anything
 * else makes the stream unusable and the connection is dropped. */
gboolean nwf_rpc_frame_length_valid(guint32 len);

/* Header of a whole message MSG (length word included, LEN >= 28). */
void nwf_rpc_header_decode(const guint8 *msg, NwfRpcHeader *hdr);

/* A complete message: length word, HDR, and PAYLOAD encoded with CODEC.
 * NULL when it would not fit in NWF_RPC_MESSAGE_MAX. */
GBytes *nwf_rpc_message_encode(const NwfRpcHeader *hdr, const NwfRpcCodec *codec,
                               const void *payload);

/* The payload type of a message of the REMOTE or KEEPALIVE program as
 * the header announces it: args of a CALL, ret or error of a REPLY, void
 * for keepalive. NULL for anything outside the subset. */
const NwfRpcCodec *nwf_rpc_message_payload_codec(const NwfRpcHeader *hdr);
