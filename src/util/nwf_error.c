#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "nwf_error.h"

G_DEFINE_QUARK(nwf-error-quark, nwf_error)

const char *
nwf_error_template(NwfErrorCode code)
{
    switch (code) {
    case NWF_ERR_INTERNAL_ERROR: return "internal error: %s";
    case NWF_ERR_NO_MEMORY: return "out of memory%s";
    case NWF_ERR_NO_SUPPORT: return "this function is not supported by the connection driver: %s";
    case NWF_ERR_NO_CONNECT: return "no connection driver available for %s";
    case NWF_ERR_INVALID_ARG: return "invalid argument: %s";
    case NWF_ERR_OPERATION_FAILED: return "operation failed: %s";
    case NWF_ERR_XML_ERROR: return "XML error: %s";
    case NWF_ERR_OPERATION_DENIED: return "operation forbidden: %s";
    case NWF_ERR_OPERATION_INVALID: return "Requested operation is not valid: %s";
    case NWF_ERR_NO_NWFILTER: return "Network filter not found: %s";
    case NWF_ERR_BUILD_FIREWALL: return "Error while building firewall: %s";
    case NWF_ERR_CONFIG_UNSUPPORTED: return "unsupported configuration: %s";
    case NWF_ERR_ARGUMENT_UNSUPPORTED: return "argument unsupported: %s";
    case NWF_ERR_OPERATION_UNSUPPORTED: return "Operation not supported: %s";
    case NWF_ERR_XML_INVALID_SCHEMA: return "XML document failed to validate against schema: %s";
    case NWF_ERR_NO_NWFILTER_BINDING: return "Network filter binding not found: %s";
    case NWF_ERR_XML_DETAIL:
    case NWF_ERR_RPC:
    case NWF_ERR_SYSTEM_ERROR:
    case NWF_ERR_OK:
        return "%s";
    }
    return "%s";
}

NwfErrorDomain
nwf_error_domain_for(NwfErrorCode code)
{
    switch (code) {
    case NWF_ERR_XML_ERROR:
    case NWF_ERR_XML_INVALID_SCHEMA:
        return NWF_DOMAIN_XML;
    case NWF_ERR_RPC:
        return NWF_DOMAIN_RPC;
    default:
        return NWF_DOMAIN_NWFILTER;
    }
}

void
nwf_error_set_literal(GError **error, NwfErrorCode code, const char *message)
{
    g_set_error_literal(error, NWF_ERROR, code, message);
}

void
nwf_error_set(GError **error, NwfErrorCode code, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *detail = NULL;
    g_autofree char *message = NULL;
    const char *tmpl;
    const char *hole;

    if (!error)
        return;
    va_start(ap, fmt);
    detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    /* The template holds exactly one "%s"; splice without a format call. */
    tmpl = nwf_error_template(code);
    hole = strstr(tmpl, "%s");
    message = g_strdup_printf("%.*s%s%s", (int)(hole - tmpl), tmpl, detail, hole + 2);
    g_set_error_literal(error, NWF_ERROR, code, message);
}

NwfErrorCode
nwf_error_code(const GError *error)
{
    if (error && error->domain == NWF_ERROR)
        return (NwfErrorCode)error->code;
    return NWF_ERR_INTERNAL_ERROR;
}
