/* Per-protocol attribute tables (private to src/conf). A protocol's table
 * lists its attributes in libvirt's order, which is also the dumpxml order,
 * with the forms each attribute accepts and the attribute it takes its
 * negation from. */
#pragma once

#include "conf/nwfilter_def.h"

/* Accepted textual forms, tried in this order: decimal, hex, name. */
enum {
    NWF_FORM_DEC = 1 << 0,
    NWF_FORM_HEX = 1 << 1,
    NWF_FORM_NAME = 1 << 2,   /* a named constant (protocolid, opcode, protocol) */
};

typedef struct {
    NwfField field;
    NwfDataType type;
    guint forms;              /* NWF_FORM_* for numbers, 0 otherwise */
    NwfField partner;         /* negation source, NWF_FIELD_LAST for none */
} NwfAttrSpec;

/* PROTOCOL's attributes in table order; *n_out receives the count. */
const NwfAttrSpec *nwf_protocol_attrs(NwfProtocol protocol, guint *n_out);

/* The spec of FIELD within PROTOCOL, or NULL. */
const NwfAttrSpec *nwf_protocol_attr(NwfProtocol protocol, NwfField field);

/* Protocol for an element name, NWF_PROTO_LAST when unknown. */
NwfProtocol nwf_protocol_from_name(const char *name);

/* TRUE for protocols that carry the IP common group (tcp ... all-ipv6). */
gboolean nwf_protocol_is_l3(NwfProtocol protocol);

/* Named constants of a number field (protocolid, encap-protocol, opcode,
 * protocol): lookup by name (case-insensitive) and by value. */
gboolean nwf_field_name_to_number(NwfField field, const char *name, guint32 *value);
const char *nwf_field_number_to_name(NwfField field, guint32 value);
