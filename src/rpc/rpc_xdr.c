#include "config.h"

#include <string.h>

#include "rpc/rpc_xdr.h"

bool_t
nwf_xdr_i32(XDR *xdrs, gint32 *value)
{
    return xdr_int(xdrs, value);
}

bool_t
nwf_xdr_u32(XDR *xdrs, guint32 *value)
{
    return xdr_u_int(xdrs, value);
}

bool_t
nwf_xdr_i64(XDR *xdrs, gint64 *value)
{
    quad_t v = *value;

    if (!xdr_hyper(xdrs, &v))
        return FALSE;
    *value = v;
    return TRUE;
}

bool_t
nwf_xdr_u64(XDR *xdrs, guint64 *value)
{
    u_quad_t v = *value;

    if (!xdr_u_hyper(xdrs, &v))
        return FALSE;
    *value = v;
    return TRUE;
}

bool_t
nwf_xdr_nstr(XDR *xdrs, char **str)
{
    guint32 len;
    const char *bytes;

    switch (xdrs->x_op) {
    case XDR_FREE:
        g_clear_pointer(str, g_free);
        return TRUE;
    case XDR_ENCODE:
        if (!*str)
            return FALSE;
        len = strlen(*str);
        if (len > NWF_XDR_STRING_MAX)
            return FALSE;
        return xdr_u_int(xdrs, &len) && xdr_opaque(xdrs, *str, len);
    case XDR_DECODE:
        if (!xdr_u_int(xdrs, &len) || len > NWF_XDR_STRING_MAX)
            return FALSE;
        /* Borrow the bytes in place: nothing is allocated for a length the
         * buffer cannot back, however large the claimed length. */
        bytes = (const char *)xdr_inline(xdrs, (len + 3) & ~3u);
        if (!bytes && len > 0)
            return FALSE;
        *str = g_strndup(bytes ? bytes : "", len);
        return TRUE;
    }
    return FALSE;
}

bool_t
nwf_xdr_ostr(XDR *xdrs, char **str)
{
    guint32 present = *str != NULL;

    if (xdrs->x_op == XDR_FREE)
        return nwf_xdr_nstr(xdrs, str);
    if (!xdr_u_int(xdrs, &present) || present > 1)
        return FALSE;
    if (!present) {
        *str = NULL;
        return TRUE;
    }
    return nwf_xdr_nstr(xdrs, str);
}

bool_t
nwf_xdr_uuid(XDR *xdrs, guint8 uuid[16])
{
    if (xdrs->x_op == XDR_FREE)
        return TRUE;
    return xdr_opaque(xdrs, (char *)uuid, 16);
}

bool_t
nwf_xdr_null_pointer(XDR *xdrs)
{
    guint32 present = 0;

    if (xdrs->x_op == XDR_FREE)
        return TRUE;
    return xdr_u_int(xdrs, &present) && present == 0;
}

bool_t
nwf_xdr_vector(XDR *xdrs, void **items, guint *count, guint max,
               gsize elsize, NwfXdrProc elproc)
{
    guint32 n = *count;
    guint i;

    if (xdrs->x_op == XDR_FREE) {
        for (i = 0; *items && i < *count; i++)
            elproc(xdrs, (char *)*items + i * elsize);
        g_clear_pointer(items, g_free);
        *count = 0;
        return TRUE;
    }
    if (!xdr_u_int(xdrs, &n) || n > max)
        return FALSE;
    if (xdrs->x_op == XDR_DECODE) {
        *items = n ? g_malloc0_n(n, elsize) : NULL;
        *count = 0;
    }
    for (i = 0; i < n; i++) {
        /* Count the element before decoding it, so a failure half-way
         * still frees what it already holds. */
        if (xdrs->x_op == XDR_DECODE)
            *count = i + 1;
        if (!elproc(xdrs, (char *)*items + i * elsize))
            return FALSE;
    }
    return TRUE;
}

void
nwf_xdr_free(const NwfRpcCodec *codec, void *obj)
{
    XDR xdrs = { .x_op = XDR_FREE };

    if (codec->proc && obj)
        codec->proc(&xdrs, obj);
}

gboolean
nwf_xdr_decode(const NwfRpcCodec *codec, const guint8 *buf, gsize len, void *obj)
{
    XDR xdrs;
    bool_t ok;

    if (codec->size)
        memset(obj, 0, codec->size);
    if (!codec->proc)
        return TRUE;
    if (len > G_MAXUINT)
        return FALSE;
    xdrmem_create(&xdrs, (char *)buf, len, XDR_DECODE);
    ok = codec->proc(&xdrs, obj);
    xdr_destroy(&xdrs);
    if (!ok) {
        nwf_xdr_free(codec, obj);
        memset(obj, 0, codec->size);
    }
    return ok;
}

gboolean
nwf_xdr_encode(const NwfRpcCodec *codec, const void *obj, GByteArray *out, gsize max)
{
    gsize start = out->len;
    gsize room = 4096;

    if (!codec->proc)
        return TRUE;
    /* Encode into a scratch tail that doubles until the payload fits: the
     * encoded size is not known in advance. */
    for (;;) {
        XDR xdrs;
        bool_t ok;
        gsize used;

        if (start + room > max)
            room = max - start;
        g_byte_array_set_size(out, start + room);
        xdrmem_create(&xdrs, (char *)out->data + start, room, XDR_ENCODE);
        ok = codec->proc(&xdrs, (void *)obj);
        used = xdr_getpos(&xdrs);
        xdr_destroy(&xdrs);
        if (ok) {
            g_byte_array_set_size(out, start + used);
            return TRUE;
        }
        if (start + room >= max || room >= G_MAXUINT / 2) {
            g_byte_array_set_size(out, start);
            return FALSE;
        }
        room *= 2;
    }
}
