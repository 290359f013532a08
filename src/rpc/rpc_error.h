/* remote_error payloads filled the way libvirtd fills them: the message,
 * the code's template in str1, the detail in str2, int1 = int2 = -1. */
#pragma once

#include <glib.h>

#include "rpc/rpc_protocol.h"
#include "util/nwf_error.h"

/* CODE's template with DETAIL spliced in, under DOMAIN. */
void nwf_rpc_error_set(NwfRpcError *err, NwfErrorCode code, gint32 domain, const char *detail);
/* VIR_ERR_RPC / domain RPC, bare "%s" template. */
void nwf_rpc_error_set_rpc(NwfRpcError *err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* libvirt's flag check failure: "unsupported flags (0x2) in function F". */
void nwf_rpc_error_set_flags(NwfRpcError *err, guint32 flags, const char *function);
/* A driver error, under the libvirt domain nwf_error_domain_of() gives;
 * errors not of ours become internal errors. */
void nwf_rpc_error_set_gerror(NwfRpcError *err, const GError *error);
/* Release the strings (the struct itself is not freed). */
void nwf_rpc_error_clear(NwfRpcError *err);
