#include "config.h"

#include <string.h>

#include "rpc/rpc_error.h"

void
nwf_rpc_error_clear(NwfRpcError *err)
{
    nwf_xdr_free(&nwf_rpc_codec_error, err);
    memset(err, 0, sizeof(*err));
}

static void
error_fill(NwfRpcError *err, gint32 code, gint32 domain, char *message,
           const char *str1, const char *str2)
{
    nwf_rpc_error_clear(err);
    err->code = code;
    err->domain = domain;
    err->message = message;
    err->level = 2;
    err->str1 = g_strdup(str1);
    err->str2 = g_strdup(str2);
    err->int1 = -1;
    err->int2 = -1;
}

void
nwf_rpc_error_set(NwfRpcError *err, NwfErrorCode code, gint32 domain, const char *detail)
{
    const char *tmpl = nwf_error_template(code);
    const char *hole = strstr(tmpl, "%s");

    error_fill(err, code, domain,
               g_strdup_printf("%.*s%s%s", (int)(hole - tmpl), tmpl, detail, hole + 2),
               tmpl, detail);
}

void
nwf_rpc_error_set_rpc(NwfRpcError *err, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *detail = NULL;

    va_start(ap, fmt);
    detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    nwf_rpc_error_set(err, NWF_ERR_RPC, NWF_DOMAIN_RPC, detail);
}

void
nwf_rpc_error_set_flags(NwfRpcError *err, guint32 flags, const char *function)
{
    error_fill(err, NWF_ERR_INVALID_ARG, NWF_DOMAIN_NWFILTER,
               g_strdup_printf("unsupported flags (0x%x) in function %s", flags, function),
               function, "flags");
    err->int1 = 0;
    err->int2 = 0;
}

void
nwf_rpc_error_set_gerror(NwfRpcError *err, const GError *error)
{
    NwfErrorCode code = nwf_error_code(error);
    const char *tmpl = nwf_error_template(code);
    const char *hole = strstr(tmpl, "%s");
    gsize head = hole - tmpl;
    gsize tail = strlen(hole + 2);
    gsize len = strlen(error->message);
    g_autofree char *detail = NULL;

    if (!nwf_error_is_ours(error)) {
        nwf_rpc_error_set(err, NWF_ERR_INTERNAL_ERROR, NWF_DOMAIN_NWFILTER, error->message);
        return;
    }
    /* Recover the detail libvirt would put in str2 from the full text. */
    if (len >= head + tail && strncmp(error->message, tmpl, head) == 0 &&
        strcmp(error->message + len - tail, hole + 2) == 0) {
        detail = g_strndup(error->message + head, len - head - tail);
        error_fill(err, code, nwf_error_domain_of(error), g_strdup(error->message), tmpl,
                   detail);
    } else {
        error_fill(err, code, nwf_error_domain_of(error), g_strdup(error->message),
                   "%s", error->message);
    }
}
