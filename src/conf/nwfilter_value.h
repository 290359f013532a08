/* Datatype parsers shared inside src/conf (private). Each follows libvirt's
 * accepted forms exactly; see spec section 3. */
#pragma once

#include "conf/nwfilter_def.h"

/* strtoul/strtol semantics as libvirt uses them: leading whitespace and a
 * sign are allowed, a negative unsigned value wraps modulo 2^32, trailing
 * characters are rejected. */
gboolean nwf_parse_uint(const char *text, int base, guint32 *out);
gboolean nwf_parse_int(const char *text, int *out);

/* Six colon-separated groups of 1-2 hex digits (libvirt's MAC syntax). */
gboolean nwf_mac_parse(const char *text, guint8 mac[6]);

/* TEXT is what follows '$': NAME, NAME[@N] or NAME[N]. */
NwfVarRef *nwf_var_ref_parse(const char *text, GError **error);
NwfVarRef *nwf_var_ref_copy(const NwfVarRef *ref);
void nwf_var_ref_free(NwfVarRef *ref);

/* Parse an attribute value as written in a filter document: a variable
 * reference where the attribute allows one, otherwise a typed value. */
gboolean nwf_value_parse_attr(NwfProtocol protocol, NwfField field, const char *text,
                              NwfValue *out, GError **error);

/* For TEXT that nwf_value_parse_attr refused: TRUE, with OUT set to the
 * variable libvirt would have taken, when only we are stricter than
 * libvirt. The parser then keeps going as libvirt does, so that libvirt's
 * own errors later in the document are the ones reported. */
gboolean nwf_value_parse_as_libvirt(NwfProtocol protocol, NwfField field, const char *text,
                                    NwfValue *out);

/* Longest comment kept, in bytes. */
#define NWF_COMMENT_MAX 256
