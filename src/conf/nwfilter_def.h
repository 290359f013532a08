/* The filter XML model: what a <filter> document says, parsed, validated and
 * normalized, with no I/O beyond libxml2. Formatting gives libvirt's dumpxml
 * bytes. Everything downstream (store, compile, backends) works on these
 * structs, never on XML. */
#pragma once

#include <glib.h>
#include <netinet/in.h>

#include "conf/nwfilter_params.h"

typedef enum {
    NWF_ACTION_DROP,
    NWF_ACTION_ACCEPT,
    NWF_ACTION_REJECT,
    NWF_ACTION_RETURN,
    NWF_ACTION_CONTINUE,
    NWF_ACTION_LAST
} NwfAction;

/* Bit values: inout is in|out. "out" is VM-out (sent by the guest). */
typedef enum {
    NWF_DIR_IN = 1,
    NWF_DIR_OUT = 2,
    NWF_DIR_INOUT = 3,
} NwfDirection;

/* Rule protocol elements, in the order of libvirt's protocol table. */
typedef enum {
    NWF_PROTO_NONE,        /* rule without protocol element: L2 match-all */
    NWF_PROTO_MAC,
    NWF_PROTO_VLAN,
    NWF_PROTO_STP,
    NWF_PROTO_ARP,
    NWF_PROTO_RARP,
    NWF_PROTO_IP,
    NWF_PROTO_IPV6,
    NWF_PROTO_TCP,
    NWF_PROTO_ICMP,
    NWF_PROTO_IGMP,
    NWF_PROTO_UDP,
    NWF_PROTO_UDPLITE,
    NWF_PROTO_ESP,
    NWF_PROTO_AH,
    NWF_PROTO_SCTP,
    NWF_PROTO_ALL,
    NWF_PROTO_TCP_IPV6,
    NWF_PROTO_ICMPV6,
    NWF_PROTO_UDP_IPV6,
    NWF_PROTO_UDPLITE_IPV6,
    NWF_PROTO_ESP_IPV6,
    NWF_PROTO_AH_IPV6,
    NWF_PROTO_SCTP_IPV6,
    NWF_PROTO_ALL_IPV6,
    NWF_PROTO_LAST
} NwfProtocol;

/* Which enforcement layer a protocol belongs to. */
typedef enum {
    NWF_LAYER_ETHERNET,  /* none, mac, vlan, stp, arp, rarp, ip, ipv6 */
    NWF_LAYER_IPV4,      /* tcp, udp, ..., all */
    NWF_LAYER_IPV6,      /* tcp-ipv6, ..., icmpv6, all-ipv6 */
} NwfLayer;

/* Every attribute any protocol element can carry. One id per (name, meaning):
 * STP's 'type'/'flags' are distinct from ICMP's 'type' and TCP's 'flags'.
 * The per-protocol attribute tables (and so the dumpxml order) live in
 * nwfilter_attrs.c; a field's datatype may depend on the protocol (IPv4 vs
 * IPv6 addresses), see nwf_protocol_field_type(). */
typedef enum {
    NWF_FIELD_SRCMACADDR,
    NWF_FIELD_SRCMACMASK,
    NWF_FIELD_DSTMACADDR,
    NWF_FIELD_DSTMACMASK,
    NWF_FIELD_PROTOCOLID,          /* mac */
    NWF_FIELD_VLANID,              /* vlan */
    NWF_FIELD_ENCAP_PROTOCOL,      /* vlan */
    NWF_FIELD_STP_TYPE,            /* stp 'type' */
    NWF_FIELD_STP_FLAGS,           /* stp 'flags' */
    NWF_FIELD_ROOT_PRIORITY,
    NWF_FIELD_ROOT_PRIORITY_HI,
    NWF_FIELD_ROOT_ADDRESS,
    NWF_FIELD_ROOT_ADDRESS_MASK,
    NWF_FIELD_ROOT_COST,
    NWF_FIELD_ROOT_COST_HI,
    NWF_FIELD_SENDER_PRIORITY,
    NWF_FIELD_SENDER_PRIORITY_HI,
    NWF_FIELD_SENDER_ADDRESS,
    NWF_FIELD_SENDER_ADDRESS_MASK,
    NWF_FIELD_PORT,
    NWF_FIELD_PORT_HI,
    NWF_FIELD_AGE,
    NWF_FIELD_AGE_HI,
    NWF_FIELD_MAX_AGE,
    NWF_FIELD_MAX_AGE_HI,
    NWF_FIELD_HELLO_TIME,
    NWF_FIELD_HELLO_TIME_HI,
    NWF_FIELD_FORWARD_DELAY,
    NWF_FIELD_FORWARD_DELAY_HI,
    NWF_FIELD_HWTYPE,              /* arp, rarp */
    NWF_FIELD_PROTOCOLTYPE,
    NWF_FIELD_OPCODE,
    NWF_FIELD_ARPSRCMACADDR,
    NWF_FIELD_ARPDSTMACADDR,
    NWF_FIELD_ARPSRCIPADDR,
    NWF_FIELD_ARPSRCIPMASK,
    NWF_FIELD_ARPDSTIPADDR,
    NWF_FIELD_ARPDSTIPMASK,
    NWF_FIELD_GRATUITOUS,
    NWF_FIELD_SRCIPADDR,           /* ip, ipv6 and every L3/L4 protocol */
    NWF_FIELD_SRCIPMASK,
    NWF_FIELD_DSTIPADDR,
    NWF_FIELD_DSTIPMASK,
    NWF_FIELD_SRCIPFROM,
    NWF_FIELD_SRCIPTO,
    NWF_FIELD_DSTIPFROM,
    NWF_FIELD_DSTIPTO,
    NWF_FIELD_PROTOCOL,            /* ip, ipv6 'protocol' */
    NWF_FIELD_SRCPORTSTART,
    NWF_FIELD_SRCPORTEND,
    NWF_FIELD_DSTPORTSTART,
    NWF_FIELD_DSTPORTEND,
    NWF_FIELD_DSCP,
    NWF_FIELD_ICMP_TYPE,           /* icmp, icmpv6, ipv6 'type' */
    NWF_FIELD_ICMP_TYPEEND,        /* ipv6 'typeend' */
    NWF_FIELD_ICMP_CODE,           /* icmp, icmpv6, ipv6 'code' */
    NWF_FIELD_ICMP_CODEEND,        /* ipv6 'codeend' */
    NWF_FIELD_CONNLIMIT_ABOVE,
    NWF_FIELD_STATE,
    NWF_FIELD_IPSET,
    NWF_FIELD_IPSETFLAGS,
    NWF_FIELD_TCP_OPTION,          /* tcp 'option' */
    NWF_FIELD_TCP_FLAGS,           /* tcp 'flags' */
    NWF_FIELD_COMMENT,
    NWF_FIELD_LAST
} NwfField;

typedef enum {
    NWF_TYPE_UINT8,
    NWF_TYPE_UINT16,
    NWF_TYPE_UINT32,
    NWF_TYPE_MAC_ADDR,
    NWF_TYPE_MAC_MASK,
    NWF_TYPE_IPV4_ADDR,
    NWF_TYPE_IPV4_MASK,
    NWF_TYPE_IPV6_ADDR,
    NWF_TYPE_IPV6_MASK,
    NWF_TYPE_STRING,               /* comment, at most 256 bytes */
    NWF_TYPE_BOOLEAN,
    NWF_TYPE_STATE,
    NWF_TYPE_TCP_FLAGS,
    NWF_TYPE_IPSET_NAME,
    NWF_TYPE_IPSET_FLAGS,
} NwfDataType;

/* Connection states (bit set). */
enum {
    NWF_STATE_NEW = 1 << 0,
    NWF_STATE_ESTABLISHED = 1 << 1,
    NWF_STATE_RELATED = 1 << 2,
    NWF_STATE_INVALID = 1 << 3,
    NWF_STATE_NONE = 1 << 4,
};

/* TCP flag bits as on the wire. */
enum {
    NWF_TCP_FIN = 0x01,
    NWF_TCP_SYN = 0x02,
    NWF_TCP_RST = 0x04,
    NWF_TCP_PSH = 0x08,
    NWF_TCP_ACK = 0x10,
    NWF_TCP_URG = 0x20,
    NWF_TCP_ALL = 0x3f,
};

typedef enum {
    NWF_VARREF_ITERATOR,   /* $NAME or $NAME[@N] */
    NWF_VARREF_INDEX,      /* $NAME[N] */
} NwfVarRefKind;

typedef struct {
    char *name;
    NwfVarRefKind kind;
    guint index;           /* iterator id or element index */
} NwfVarRef;

/* One attribute value. Either a variable reference (var != NULL, typed value
 * unset) or a parsed, validated typed value. */
/* Every rule carries one of these per field (most unset), so it is kept
 * small: the flags and the type are bytes. */
typedef struct {
    NwfVarRef *var;
    union {
        guint32 num;       /* UINT*, BOOLEAN, mask prefix lengths, named numbers */
        guint8 mac[6];     /* MAC_ADDR, MAC_MASK */
        struct in_addr ipv4;
        struct in6_addr ipv6;
        char *str;         /* STRING, IPSET_NAME */
        guint state;       /* NWF_STATE_* bits */
        struct {
            guint8 mask;
            guint8 flags;
        } tcp_flags;
        struct {
            guint8 bits;   /* bit i set: position i is 'src' */
            guint8 count;  /* 1..6 positions */
        } ipset_flags;
    } u;
    guint32 ipv6_scope;    /* IPV6_ADDR: interface index of a "%scope" suffix, or 0 */
    guint8 type;           /* NwfDataType */
    guint8 present;
    guint8 negated;        /* match='no' (masks/range ends take their partner's) */
    guint8 hex;            /* a number written in hex prints back as 0x%x */
} NwfValue;

typedef struct {
    NwfAction action;
    NwfDirection direction;
    int priority;              /* -1000..1000, default 500 */
    gboolean statematch;       /* FALSE when statematch='false' or '0' */
    NwfProtocol protocol;
    NwfValue fields[NWF_FIELD_LAST];
    int line;                  /* line of <rule> in the source document, 0 if unknown */
} NwfRuleDef;

typedef struct {
    char *filter;
    NwfParams *params;         /* never NULL */
} NwfFilterRefDef;

typedef enum {
    NWF_ENTRY_RULE,
    NWF_ENTRY_FILTERREF,
} NwfEntryKind;

typedef struct {
    NwfEntryKind kind;
    union {
        NwfRuleDef *rule;
        NwfFilterRefDef *ref;
    };
} NwfEntry;

/* Chain protocol prefix, from the chain name (checked in this order). */
typedef enum {
    NWF_CHAIN_ROOT,
    NWF_CHAIN_MAC,
    NWF_CHAIN_VLAN,
    NWF_CHAIN_STP,
    NWF_CHAIN_ARP,
    NWF_CHAIN_RARP,
    NWF_CHAIN_IPV4,
    NWF_CHAIN_IPV6,
} NwfChainKind;

typedef struct {
    char *name;
    guint8 uuid[16];
    char *chain;               /* "root" or the full chain name, e.g. "arp-xyz" */
    NwfChainKind chain_kind;
    int chain_priority;        /* effective priority (default for the prefix) */
    GPtrArray *entries;        /* NwfEntry*, document order */
} NwfFilterDef;

/* Parsing. The document is checked as libvirt's parser checks it; errors are
 * NWF_ERROR with libvirt's code and message. Safe against hostile input: no
 * network, no external entities, no entity expansion, bounded size/depth. */
NwfFilterDef *nwf_filter_def_parse_string(const char *xml, gssize len, GError **error);
NwfFilterDef *nwf_filter_def_parse_file(const char *path, GError **error);

/* libvirt's dumpxml form, ending with a newline. */
char *nwf_filter_def_format(const NwfFilterDef *def);

NwfFilterDef *nwf_filter_def_copy(const NwfFilterDef *def);
void nwf_filter_def_free(NwfFilterDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfFilterDef, nwf_filter_def_free)

/* TRUE when both format identically ignoring the uuid. */
gboolean nwf_filter_def_equal_ignoring_uuid(const NwfFilterDef *a, const NwfFilterDef *b);

/* Names of the filters this one references directly, in document order
 * (copies; free with g_ptr_array_unref). */
GPtrArray *nwf_filter_def_referenced_names(const NwfFilterDef *def);

/* --- metadata and typed values, shared with compile and the backends --- */

const char *nwf_action_name(NwfAction action);          /* "drop", ... */
const char *nwf_direction_name(NwfDirection direction); /* "in", ... */
const char *nwf_protocol_name(NwfProtocol protocol);    /* "tcp-ipv6", ""(none) */
NwfLayer nwf_protocol_layer(NwfProtocol protocol);
const char *nwf_field_name(NwfField field);             /* XML attribute name */
const char *nwf_chain_kind_prefix(NwfChainKind kind);   /* "root", "mac", ... */

/* Whether PROTOCOL carries FIELD, and as which type. */
gboolean nwf_protocol_has_field(NwfProtocol protocol, NwfField field);
NwfDataType nwf_protocol_field_type(NwfProtocol protocol, NwfField field);

/* Parse TEXT as FIELD of PROTOCOL into OUT (typed, never a variable), with
 * libvirt's accepted formats. Used by compile to validate variable values
 * before they reach any rule text. On error: "<attr> has illegal value <text>". */
gboolean nwf_value_parse(NwfProtocol protocol, NwfField field, const char *text,
                         NwfValue *out, GError **error);

/* The value as dumpxml prints it (variable references as $NAME[...]), before
 * XML escaping: a comment comes back as its plain text. */
char *nwf_value_format(const NwfValue *value, NwfField field);

void nwf_value_clear(NwfValue *value);
void nwf_value_copy(NwfValue *dst, const NwfValue *src);

/* Variable reference text as printed: "$IP", "$IP[@2]", "$IP[1]". */
char *nwf_var_ref_format(const NwfVarRef *ref);

/* UUID helpers (RFC 4122 text form, lowercase, dashed). */
void nwf_uuid_generate(guint8 uuid[16]);
gboolean nwf_uuid_parse(const char *text, guint8 uuid[16]);
char *nwf_uuid_format(const guint8 uuid[16]);
