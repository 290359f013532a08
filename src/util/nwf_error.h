/* Errors carry libvirt's error code (virErrorNumber) and are reported with
 * libvirt's message template, so the RPC layer and the tools can pass them on
 * unchanged. The GError code is the libvirt code. The libvirt domain follows
 * from the code for NWF_ERROR; NWF_FIREWALL_ERROR marks the failures libvirt
 * raises in its firewall layer, which it reports under the FIREWALL domain
 * (spec/libvirt-rpc.md section 5). */
#pragma once

#include <glib.h>

#define NWF_ERROR (nwf_error_quark())
GQuark nwf_error_quark(void);

#define NWF_FIREWALL_ERROR (nwf_firewall_error_quark())
GQuark nwf_firewall_error_quark(void);

/* libvirt's virErrorNumber values that this project produces. */
typedef enum {
    NWF_ERR_OK = 0,
    NWF_ERR_INTERNAL_ERROR = 1,
    NWF_ERR_NO_MEMORY = 2,
    NWF_ERR_NO_SUPPORT = 3,
    NWF_ERR_NO_CONNECT = 5,
    NWF_ERR_INVALID_ARG = 8,
    NWF_ERR_OPERATION_FAILED = 9,
    NWF_ERR_XML_ERROR = 27,
    NWF_ERR_OPERATION_DENIED = 29,
    NWF_ERR_XML_DETAIL = 35,
    NWF_ERR_RPC = 39,
    NWF_ERR_SYSTEM_ERROR = 38,
    NWF_ERR_OPERATION_INVALID = 55,
    NWF_ERR_NO_NWFILTER = 62,
    NWF_ERR_BUILD_FIREWALL = 63,
    NWF_ERR_CONFIG_UNSUPPORTED = 67,
    NWF_ERR_ARGUMENT_UNSUPPORTED = 74,
    NWF_ERR_OPERATION_UNSUPPORTED = 84,
    NWF_ERR_XML_INVALID_SCHEMA = 92,
    NWF_ERR_NO_NWFILTER_BINDING = 101,
} NwfErrorCode;

/* libvirt's virErrorDomain values used on the wire. */
typedef enum {
    NWF_DOMAIN_NONE = 0,
    NWF_DOMAIN_XML = 5,
    NWF_DOMAIN_RPC = 7,
    NWF_DOMAIN_NWFILTER = 33,
    NWF_DOMAIN_FIREWALL = 59,
} NwfErrorDomain;

/* Set *error to CODE with the code's libvirt template applied to the
 * printf-formatted detail, e.g. INTERNAL_ERROR + "filter has no name" gives
 * "internal error: filter has no name". */
void nwf_error_set(GError **error, NwfErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* As nwf_error_set(), for the firewall refusing rules (a failed
 * ebtables/iptables run, a refused nftables batch): NWF_FIREWALL_ERROR,
 * reported under libvirt's FIREWALL domain as libvirt's own "Failed to apply
 * firewall rules" is. */
void nwf_error_set_firewall(GError **error, NwfErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* nwf_error_set() without a format: the message taken verbatim. */
void nwf_error_set_literal(GError **error, NwfErrorCode code, const char *message);

/* The template for CODE, with "%s" where the detail goes. */
const char *nwf_error_template(NwfErrorCode code);

/* The libvirt error domain a code is reported under. */
NwfErrorDomain nwf_error_domain_for(NwfErrorCode code);

/* Whether ERROR is one of ours (NWF_ERROR or NWF_FIREWALL_ERROR). */
gboolean nwf_error_is_ours(const GError *error);

/* The code of ERROR when it is one of ours, otherwise INTERNAL_ERROR. */
NwfErrorCode nwf_error_code(const GError *error);

/* The libvirt error domain ERROR goes out under: FIREWALL for
 * NWF_FIREWALL_ERROR, otherwise that of its code. */
NwfErrorDomain nwf_error_domain_of(const GError *error);
