/* XDR helpers on libtirpc streams for libvirt's remote protocol types, and
 * the codec descriptor every payload type provides. One function per type
 * serves both directions, as rpcgen output does, so a decode followed by an
 * encode reproduces the wire bytes exactly. */
#pragma once

#include <glib.h>
#include <rpc/types.h>
#include <rpc/xdr.h>

/* remote_string limit: strings longer than this are refused both ways. */
#define NWF_XDR_STRING_MAX 4194304u

typedef bool_t (*NwfXdrProc)(XDR *xdrs, void *obj);

/* How one payload type is laid out on the wire and in memory. */
typedef struct {
    const char *name;
    gsize size;              /* of the C struct; 0 for void */
    NwfXdrProc proc;         /* NULL for void */
} NwfRpcCodec;

/* remote_nonnull_string: u32 length, bytes, zero padding. On decode *STR
 * is a new NUL-terminated string (g_free); bytes past a NUL are dropped. */
bool_t nwf_xdr_nstr(XDR *xdrs, char **str);
/* remote_string: u32 0 for NULL, else 1 and a nonnull string. */
bool_t nwf_xdr_ostr(XDR *xdrs, char **str);
/* remote_uuid: 16 raw bytes, no length. */
bool_t nwf_xdr_uuid(XDR *xdrs, guint8 uuid[16]);
bool_t nwf_xdr_i32(XDR *xdrs, gint32 *value);
bool_t nwf_xdr_u32(XDR *xdrs, guint32 *value);
bool_t nwf_xdr_i64(XDR *xdrs, gint64 *value);
bool_t nwf_xdr_u64(XDR *xdrs, guint64 *value);
/* A discriminant of an optional pointer that must stay NULL here: 0 only. */
bool_t nwf_xdr_null_pointer(XDR *xdrs);

/* T items<MAX>: u32 count then COUNT elements of ELSIZE bytes each in
 * memory. On decode *ITEMS is a zeroed g_new array the caller frees with
 * nwf_xdr_free (elements included). */
bool_t nwf_xdr_vector(XDR *xdrs, void **items, guint *count, guint max,
                      gsize elsize, NwfXdrProc elproc);

/* Release every member a decode allocated (OBJ itself is not freed), by
 * running the codec in XDR_FREE mode. */
void nwf_xdr_free(const NwfRpcCodec *codec, void *obj);

/* Decode exactly LEN bytes (trailing bytes are tolerated, as libvirt does)
 * into OBJ, zeroed first; on failure OBJ holds nothing to free. */
gboolean nwf_xdr_decode(const NwfRpcCodec *codec, const guint8 *buf, gsize len, void *obj);

/* Append OBJ's encoding to OUT; FALSE when it would exceed MAX bytes in
 * total or OBJ cannot be encoded (string too long, list too big). */
gboolean nwf_xdr_encode(const NwfRpcCodec *codec, const void *obj, GByteArray *out, gsize max);
