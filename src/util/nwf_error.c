#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwf_error.h"

G_DEFINE_QUARK(nwf-error-quark, nwf_error)
G_DEFINE_QUARK(nwf-firewall-error-quark, nwf_firewall_error)

static const char *
nwf_error_template_english(NwfErrorCode code)
{
    switch (code) {
    case NWF_ERR_INTERNAL_ERROR: return N_("internal error: %s");
    case NWF_ERR_NO_MEMORY: return N_("out of memory%s");
    case NWF_ERR_NO_SUPPORT: return N_("this function is not supported by the connection driver: %s");
    case NWF_ERR_NO_CONNECT: return N_("no connection driver available for %s");
    case NWF_ERR_INVALID_ARG: return N_("invalid argument: %s");
    case NWF_ERR_OPERATION_FAILED: return N_("operation failed: %s");
    case NWF_ERR_XML_ERROR: return N_("XML error: %s");
    case NWF_ERR_OPERATION_DENIED: return N_("operation forbidden: %s");
    case NWF_ERR_OPERATION_INVALID: return N_("Requested operation is not valid: %s");
    case NWF_ERR_NO_NWFILTER: return N_("Network filter not found: %s");
    case NWF_ERR_BUILD_FIREWALL: return N_("Error while building firewall: %s");
    case NWF_ERR_CONFIG_UNSUPPORTED: return N_("unsupported configuration: %s");
    case NWF_ERR_ARGUMENT_UNSUPPORTED: return N_("argument unsupported: %s");
    case NWF_ERR_OPERATION_UNSUPPORTED: return N_("Operation not supported: %s");
    case NWF_ERR_XML_INVALID_SCHEMA: return N_("XML document failed to validate against schema: %s");
    case NWF_ERR_NO_NWFILTER_BINDING: return N_("Network filter binding not found: %s");
    case NWF_ERR_XML_DETAIL:
    case NWF_ERR_RPC:
    case NWF_ERR_SYSTEM_ERROR:
    case NWF_ERR_OK:
        return "%s";
    }
    return "%s";
}

/* A translated template must keep its single "%s" (msgfmt --check-format
 * enforces it); a broken catalogue falls back to libvirt's English. */
const char *
nwf_error_template(NwfErrorCode code)
{
    const char *tmpl = nwf_error_template_english(code);
    const char *translated = _(tmpl);

    return strstr(translated, "%s") ? translated : tmpl;
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

/* Set *ERROR in DOMAIN to CODE's template with the printf-formatted detail
 * spliced in. */
static void
error_set_valist(GError **error, GQuark domain, NwfErrorCode code, const char *fmt, va_list ap)
{
    g_autofree char *detail = NULL;
    g_autofree char *message = NULL;
    const char *tmpl;
    const char *hole;

    if (!error)
        return;
    detail = g_strdup_vprintf(fmt, ap);
    /* The template holds exactly one "%s"; splice without a format call. */
    tmpl = nwf_error_template(code);
    hole = strstr(tmpl, "%s");
    message = g_strdup_printf("%.*s%s%s", (int)(hole - tmpl), tmpl, detail, hole + 2);
    g_set_error_literal(error, domain, code, message);
}

void
nwf_error_set(GError **error, NwfErrorCode code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_set_valist(error, NWF_ERROR, code, fmt, ap);
    va_end(ap);
}

void
nwf_error_set_firewall(GError **error, NwfErrorCode code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_set_valist(error, NWF_FIREWALL_ERROR, code, fmt, ap);
    va_end(ap);
}

gboolean
nwf_error_is_ours(const GError *error)
{
    return error && (error->domain == NWF_ERROR || error->domain == NWF_FIREWALL_ERROR);
}

NwfErrorCode
nwf_error_code(const GError *error)
{
    if (nwf_error_is_ours(error))
        return (NwfErrorCode)error->code;
    return NWF_ERR_INTERNAL_ERROR;
}

NwfErrorDomain
nwf_error_domain_of(const GError *error)
{
    if (error && error->domain == NWF_FIREWALL_ERROR)
        return NWF_DOMAIN_FIREWALL;
    return nwf_error_domain_for(nwf_error_code(error));
}
