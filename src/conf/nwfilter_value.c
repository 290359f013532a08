#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib/gi18n.h>

#include "conf/nwfilter_attrs.h"
#include "conf/nwfilter_value.h"
#include "util/nwf_error.h"

#define NWF_ITERATOR_MAX 1000
#define NWF_IPSET_NAME_MAX 31
#define NWF_IPSET_FLAGS_MAX 6
#define NWF_IPSET_NAME_CHARS \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:+ -"
#define NWF_VAR_NAME_CHARS \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

static gboolean
parse_uint_end(const char *text, int base, guint32 *out, const char **end_out)
{
    char *end = NULL;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, base);
    if (end == text || errno != 0)
        return FALSE;
    /* strtoul negates "-N" in unsigned long; fold it into 32 bits the way
     * libvirt does, so "-1" is 4294967295. */
    if (memchr(text, '-', (size_t)(end - text))) {
        if (-v > UINT_MAX)
            return FALSE;
        v &= UINT_MAX;
    }
    if (v > G_MAXUINT32)
        return FALSE;
    if (end_out)
        *end_out = end;
    else if (*end != '\0')
        return FALSE;
    *out = (guint32)v;
    return TRUE;
}

gboolean
nwf_parse_uint(const char *text, int base, guint32 *out)
{
    return parse_uint_end(text, base, out, NULL);
}

gboolean
nwf_parse_int(const char *text, int *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || v < INT_MIN || v > INT_MAX)
        return FALSE;
    *out = (int)v;
    return TRUE;
}

gboolean
nwf_mac_parse(const char *text, guint8 mac[6])
{
    const char *p = text;

    for (int i = 0; i < 6; i++) {
        int digits = 0;
        guint v = 0;

        while (g_ascii_isxdigit(p[digits]) && digits < 3) {
            v = v * 16 + (guint)g_ascii_xdigit_value(p[digits]);
            digits++;
        }
        if (digits < 1 || digits > 2)
            return FALSE;
        mac[i] = (guint8)v;
        p += digits;
        if (i == 5) {
            /* libvirt stops at the sixth group when the next byte is not
             * above ' ' as a signed char: NUL, whitespace, control bytes
             * and bytes >= 0x80 all end the address. */
            return (signed char)*p <= ' ';
        }
        if (*p != ':')
            return FALSE;
        p++;
    }
    return FALSE;
}

char *
nwf_mac_format(const guint8 mac[6])
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x",
                           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* Numeric host parsing as libvirt's socket-address parser does it
 * (getaddrinfo with AI_NUMERICHOST), so inet_aton's short forms work.
 * ADDR receives a struct in_addr for AF_INET, a whole struct sockaddr_in6
 * (address and scope) for AF_INET6. */
static gboolean
parse_ip(const char *text, int family, void *addr)
{
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    gboolean ok = FALSE;

    hints.ai_family = family;
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(text, NULL, &hints, &res) != 0 || !res)
        return FALSE;
    if (res->ai_family == AF_INET && family == AF_INET) {
        memcpy(addr, &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr,
               sizeof(struct in_addr));
        ok = TRUE;
    } else if (res->ai_family == AF_INET6 && family == AF_INET6) {
        memcpy(addr, res->ai_addr, sizeof(struct sockaddr_in6));
        ok = TRUE;
    }
    freeaddrinfo(res);
    return ok;
}

static gboolean
parse_ipv6_addr(const char *text, NwfValue *out)
{
    struct sockaddr_in6 sa6;

    if (!parse_ip(text, AF_INET6, &sa6))
        return FALSE;
    out->u.ipv6 = sa6.sin6_addr;
    out->ipv6_scope = sa6.sin6_scope_id;
    return TRUE;
}

/* libvirt prints addresses with getnameinfo(NI_NUMERICHOST), which names
 * the scope of a link-local address by its interface ("fe80::1%lo"). */
static char *
format_ipv6_addr(const NwfValue *value)
{
    struct sockaddr_in6 sa6 = { 0 };
    char host[NI_MAXHOST];

    sa6.sin6_family = AF_INET6;
    sa6.sin6_addr = value->u.ipv6;
    sa6.sin6_scope_id = value->ipv6_scope;
    if (getnameinfo((struct sockaddr *)&sa6, sizeof(sa6), host, sizeof(host), NULL, 0,
                    NI_NUMERICHOST) != 0)
        return g_strdup("");
    return g_strdup(host);
}

/* Number of leading one bits when BYTES is ones followed by zeros, else -1. */
static int
mask_prefix_len(const guint8 *bytes, gsize len)
{
    int prefix = 0;
    gboolean zeros = FALSE;

    for (gsize i = 0; i < len * 8; i++) {
        gboolean bit = (bytes[i / 8] >> (7 - i % 8)) & 1;
        if (bit && zeros)
            return -1;
        if (bit)
            prefix++;
        else
            zeros = TRUE;
    }
    return prefix;
}

static gboolean
parse_ip_mask(const char *text, int family, guint32 *prefix)
{
    guint32 max = family == AF_INET ? 32 : 128;
    struct sockaddr_in6 sa6;
    struct in_addr in4;
    guint32 n;
    int len;

    if (nwf_parse_uint(text, 10, &n))
        return (*prefix = n) <= max;
    if (!parse_ip(text, family, family == AF_INET ? (void *)&in4 : (void *)&sa6))
        return FALSE;
    if (family == AF_INET)
        len = mask_prefix_len((const guint8 *)&in4, 4);
    else
        len = mask_prefix_len(sa6.sin6_addr.s6_addr, 16);
    if (len < 0)
        return FALSE;
    *prefix = (guint32)len;
    return TRUE;
}

typedef struct {
    guint bit;
    const char *name;
} NwfFlagName;

static const NwfFlagName state_names[] = {
    { NWF_STATE_NEW, "NEW" }, { NWF_STATE_ESTABLISHED, "ESTABLISHED" },
    { NWF_STATE_RELATED, "RELATED" }, { NWF_STATE_INVALID, "INVALID" },
    { NWF_STATE_NONE, "NONE" }, { 0, NULL },
};

/* ALL and NONE come after the single bits so they never print for one. */
static const NwfFlagName tcp_flag_names[] = {
    { NWF_TCP_FIN, "FIN" }, { NWF_TCP_SYN, "SYN" }, { NWF_TCP_RST, "RST" },
    { NWF_TCP_PSH, "PSH" }, { NWF_TCP_ACK, "ACK" }, { NWF_TCP_URG, "URG" },
    { NWF_TCP_ALL, "ALL" }, { 0, "NONE" }, { 0, NULL },
};

/* A list of names separated by ',' and/or whitespace. Like libvirt, each
 * name is matched as a case-insensitive prefix of the remaining text. */
static gboolean
parse_flag_list(const NwfFlagName *names, const char *text, guint *bits)
{
    const char *p = text;

    *bits = 0;
    while (*p) {
        const NwfFlagName *n;

        while (g_ascii_isspace(*p) || *p == ',')
            p++;
        if (!*p)
            break;
        for (n = names; n->name; n++) {
            gsize len = strlen(n->name);
            if (g_ascii_strncasecmp(p, n->name, len) == 0) {
                *bits |= n->bit;
                p += len;
                break;
            }
        }
        if (!n->name)
            return FALSE;
    }
    return TRUE;
}

static void
format_flag_list(GString *out, const NwfFlagName *names, guint bits)
{
    gboolean first = TRUE;

    for (const NwfFlagName *n = names; n->name; n++) {
        /* single bits only: the combined names are handled by callers */
        if (n->bit == 0 || (n->bit & (n->bit - 1)) || !(bits & n->bit))
            continue;
        if (!first)
            g_string_append_c(out, ',');
        g_string_append(out, n->name);
        first = FALSE;
    }
}

static void
format_tcp_flag_side(GString *out, guint8 bits)
{
    if (bits == 0)
        g_string_append(out, "NONE");
    else if (bits == NWF_TCP_ALL)
        g_string_append(out, "ALL");
    else
        format_flag_list(out, tcp_flag_names, bits);
}

static gboolean
parse_tcp_flags(const char *text, NwfValue *out)
{
    const char *slash = strchr(text, '/');
    g_autofree char *mask_text = NULL;
    guint mask;
    guint flags;

    if (!slash)
        return FALSE;
    mask_text = g_strndup(text, (gsize)(slash - text));
    if (!parse_flag_list(tcp_flag_names, mask_text, &mask) ||
        !parse_flag_list(tcp_flag_names, slash + 1, &flags))
        return FALSE;
    out->u.tcp_flags.mask = mask & NWF_TCP_ALL;
    out->u.tcp_flags.flags = flags & NWF_TCP_ALL;
    return TRUE;
}

static gboolean
parse_ipset_flags(const char *text, NwfValue *out)
{
    const char *p = text;
    guint8 bits = 0;
    guint8 count = 0;

    while (count < NWF_IPSET_FLAGS_MAX) {
        if (g_ascii_strncasecmp(p, "src", 3) == 0)
            bits |= (guint8)(1u << count);
        else if (g_ascii_strncasecmp(p, "dst", 3) != 0)
            return FALSE;
        count++;
        p += 3;
        if (*p != ',')
            break;
        p++;
    }
    if (*p != '\0')
        return FALSE;
    out->u.ipset_flags.bits = bits;
    out->u.ipset_flags.count = count;
    return TRUE;
}

static gboolean
parse_ipset_name(const char *text)
{
    gsize len = strlen(text);

    return len >= 1 && len <= NWF_IPSET_NAME_MAX &&
           strspn(text, NWF_IPSET_NAME_CHARS) == len;
}

/* Keep at most NWF_COMMENT_MAX bytes without cutting a UTF-8 sequence. */
static char *
truncate_comment(const char *text)
{
    gsize len = strlen(text);

    if (len <= NWF_COMMENT_MAX)
        return g_strdup(text);
    len = NWF_COMMENT_MAX;
    while (len > 0 && ((guchar)text[len] & 0xc0) == 0x80)
        len--;
    return g_strndup(text, len);
}

/* Range and value checks libvirt applies after a number parsed. */
static gboolean
number_allowed(NwfField field, guint32 v, gboolean named)
{
    switch (field) {
    case NWF_FIELD_PROTOCOLID:
        return named || v >= 0x600;
    case NWF_FIELD_ENCAP_PROTOCOL:
        return named || v >= 0x3c;
    case NWF_FIELD_VLANID:
        return v <= 4095;
    case NWF_FIELD_DSCP:
        return v <= 63;
    default:
        return TRUE;
    }
}

static guint32
type_max(NwfDataType type)
{
    switch (type) {
    case NWF_TYPE_UINT8: return G_MAXUINT8;
    case NWF_TYPE_UINT16: return G_MAXUINT16;
    default: return G_MAXUINT32;
    }
}

static gboolean
parse_number(const NwfAttrSpec *spec, const char *text, NwfValue *out)
{
    guint32 max = type_max(spec->type);
    guint32 v;

    /* Decimal first, then hex, then a name: the first form that parses
     * within the type's range decides, and its range checks are final. */
    if ((spec->forms & NWF_FORM_DEC) && nwf_parse_uint(text, 10, &v) && v <= max) {
        out->u.num = v;
        out->hex = FALSE;
        return number_allowed(spec->field, v, FALSE);
    }
    if ((spec->forms & NWF_FORM_HEX) && nwf_parse_uint(text, 16, &v) && v <= max) {
        out->u.num = v;
        out->hex = TRUE;
        return number_allowed(spec->field, v, FALSE);
    }
    if ((spec->forms & NWF_FORM_NAME) && nwf_field_name_to_number(spec->field, text, &v)) {
        out->u.num = v;
        /* libvirt records a named IP protocol as hex, ethertypes and
         * opcodes as decimal; it only matters for unnamed numbers. */
        out->hex = spec->field == NWF_FIELD_PROTOCOL;
        return number_allowed(spec->field, v, TRUE);
    }
    return FALSE;
}

static gboolean
parse_typed(const NwfAttrSpec *spec, NwfProtocol protocol, const char *text, NwfValue *out)
{
    switch (spec->type) {
    case NWF_TYPE_UINT8:
    case NWF_TYPE_UINT16:
    case NWF_TYPE_UINT32:
        return parse_number(spec, text, out);
    case NWF_TYPE_MAC_ADDR:
        return nwf_mac_parse(text, out->u.mac);
    case NWF_TYPE_MAC_MASK:
        return nwf_mac_parse(text, out->u.mac) && mask_prefix_len(out->u.mac, 6) >= 0;
    case NWF_TYPE_IPV4_ADDR:
        return parse_ip(text, AF_INET, &out->u.ipv4);
    case NWF_TYPE_IPV4_MASK:
        return parse_ip_mask(text, AF_INET, &out->u.num);
    case NWF_TYPE_IPV6_ADDR:
        /* libvirt types dstipto IPv4 even on the -ipv6 protocols; keep
         * accepting that, and accept IPv6 there as well. */
        if (spec->field == NWF_FIELD_DSTIPTO && nwf_protocol_layer(protocol) == NWF_LAYER_IPV6 &&
            parse_ip(text, AF_INET, &out->u.ipv4)) {
            out->type = NWF_TYPE_IPV4_ADDR;
            return TRUE;
        }
        return parse_ipv6_addr(text, out);
    case NWF_TYPE_IPV6_MASK:
        return parse_ip_mask(text, AF_INET6, &out->u.num);
    case NWF_TYPE_STRING:
        out->u.str = truncate_comment(text);
        return TRUE;
    case NWF_TYPE_BOOLEAN:
        out->u.num = strcmp(text, "true") == 0 || strcmp(text, "1") == 0 ||
                     strcmp(text, "yes") == 0;
        return TRUE;
    case NWF_TYPE_STATE:
        if (!parse_flag_list(state_names, text, &out->u.state))
            return FALSE;
        if (out->u.state & NWF_STATE_NONE)
            out->u.state = NWF_STATE_NONE;
        return TRUE;
    case NWF_TYPE_TCP_FLAGS:
        return parse_tcp_flags(text, out);
    case NWF_TYPE_IPSET_NAME:
        if (!parse_ipset_name(text))
            return FALSE;
        out->u.str = g_strdup(text);
        return TRUE;
    case NWF_TYPE_IPSET_FLAGS:
        return parse_ipset_flags(text, out);
    }
    return FALSE;
}

static void
set_illegal(GError **error, NwfField field, const char *text)
{
    nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("%s has illegal value %s"),
                  nwf_field_name(field), text);
}

gboolean
nwf_value_parse(NwfProtocol protocol, NwfField field, const char *text,
                NwfValue *out, GError **error)
{
    const NwfAttrSpec *spec = nwf_protocol_attr(protocol, field);
    NwfValue v = { 0 };

    g_return_val_if_fail(spec != NULL && text != NULL && out != NULL, FALSE);
    v.present = TRUE;
    v.type = spec->type;
    if (!parse_typed(spec, protocol, text, &v)) {
        nwf_value_clear(&v);
        set_illegal(error, field, text);
        return FALSE;
    }
    nwf_value_clear(out);
    *out = v;
    return TRUE;
}

gboolean
nwf_value_parse_attr(NwfProtocol protocol, NwfField field, const char *text,
                     NwfValue *out, GError **error)
{
    const NwfAttrSpec *spec = nwf_protocol_attr(protocol, field);
    NwfVarRef *ref;

    g_return_val_if_fail(spec != NULL, FALSE);
    if (text[0] != '$')
        return nwf_value_parse(protocol, field, text, out, error);

    /* libvirt takes '$' here as a variable but never resolves it for state,
     * flags or comment; refuse instead of silently dropping the match. */
    if (spec->type == NWF_TYPE_STATE || spec->type == NWF_TYPE_TCP_FLAGS ||
        spec->type == NWF_TYPE_STRING) {
        set_illegal(error, field, text);
        return FALSE;
    }
    ref = nwf_var_ref_parse(text + 1, NULL);
    if (!ref) {
        set_illegal(error, field, text);
        return FALSE;
    }
    nwf_value_clear(out);
    out->present = TRUE;
    out->type = spec->type;
    out->var = ref;
    return TRUE;
}

NwfVarRef *
nwf_var_ref_parse(const char *text, GError **error)
{
    gsize name_len = strspn(text, NWF_VAR_NAME_CHARS);
    const char *p = text + name_len;
    NwfVarRefKind kind = NWF_VARREF_ITERATOR;
    guint32 number = 0;
    NwfVarRef *ref;

    if (name_len == 0) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, _("Malformed variable: empty name"));
        return NULL;
    }
    if (*p == '[') {
        p++;
        while (g_ascii_isspace(*p))
            p++;
        if (*p == '@') {
            p++;
        } else {
            kind = NWF_VARREF_INDEX;
        }
        if (!parse_uint_end(p, 10, &number, &p)) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG, _("Malformed variable"));
            return NULL;
        }
        while (g_ascii_isspace(*p))
            p++;
        if (*p != ']') {
            nwf_error_set(error, NWF_ERR_INVALID_ARG, _("Malformed variable"));
            return NULL;
        }
        /* libvirt ignores anything after ']'; we allow only blanks, which
         * libvirt's own test data has ("$B[  @0 ] "). */
        for (p++; g_ascii_isspace(*p); p++)
            ;
        if (*p != '\0') {
            nwf_error_set(error, NWF_ERR_INVALID_ARG, _("Malformed variable"));
            return NULL;
        }
        if (kind == NWF_VARREF_ITERATOR && number > NWF_ITERATOR_MAX) {
            nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                          _("Iterator ID exceeds maximum ID of %u"), NWF_ITERATOR_MAX);
            return NULL;
        }
    } else if (*p != '\0') {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, _("Malformed variable"));
        return NULL;
    }
    ref = g_new0(NwfVarRef, 1);
    ref->name = g_strndup(text, name_len);
    ref->kind = kind;
    ref->index = number;
    return ref;
}

/* libvirt's own variable parser: like ours, but it lets an empty name and
 * anything after ']' through. Returns NULL where libvirt refuses too. */
static NwfVarRef *
libvirt_var_ref_parse(const char *text)
{
    gsize name_len = strspn(text, NWF_VAR_NAME_CHARS);
    const char *p = text + name_len;
    NwfVarRefKind kind = NWF_VARREF_ITERATOR;
    guint32 number = 0;
    NwfVarRef *ref;

    if (*p == '[') {
        for (p++; g_ascii_isspace(*p); p++)
            ;
        if (*p == '@')
            p++;
        else
            kind = NWF_VARREF_INDEX;
        if (!parse_uint_end(p, 10, &number, &p))
            return NULL;
        while (g_ascii_isspace(*p))
            p++;
        if (*p != ']' || (kind == NWF_VARREF_ITERATOR && number > NWF_ITERATOR_MAX))
            return NULL;
    } else if (*p != '\0') {
        return NULL;
    }
    ref = g_new0(NwfVarRef, 1);
    ref->name = g_strndup(text, name_len);
    ref->kind = kind;
    ref->index = number;
    return ref;
}

gboolean
nwf_value_parse_as_libvirt(NwfProtocol protocol, NwfField field, const char *text, NwfValue *out)
{
    const NwfAttrSpec *spec = nwf_protocol_attr(protocol, field);
    NwfVarRef *ref;

    if (!spec || text[0] != '$' || !(ref = libvirt_var_ref_parse(text + 1)))
        return FALSE;
    nwf_value_clear(out);
    out->present = TRUE;
    out->type = spec->type;
    out->var = ref;
    return TRUE;
}

NwfVarRef *
nwf_var_ref_copy(const NwfVarRef *ref)
{
    NwfVarRef *copy;

    if (!ref)
        return NULL;
    copy = g_new0(NwfVarRef, 1);
    copy->name = g_strdup(ref->name);
    copy->kind = ref->kind;
    copy->index = ref->index;
    return copy;
}

void
nwf_var_ref_free(NwfVarRef *ref)
{
    if (!ref)
        return;
    g_free(ref->name);
    g_free(ref);
}

char *
nwf_var_ref_format(const NwfVarRef *ref)
{
    if (ref->kind == NWF_VARREF_INDEX)
        return g_strdup_printf("$%s[%u]", ref->name, ref->index);
    if (ref->index == 0)
        return g_strdup_printf("$%s", ref->name);
    return g_strdup_printf("$%s[@%u]", ref->name, ref->index);
}

static char *
format_number(const NwfValue *value, NwfField field)
{
    const char *name = nwf_field_number_to_name(field, value->u.num);

    if (name)
        return g_strdup(name);
    /* opcodes outside the table always print in decimal */
    if (value->hex && field != NWF_FIELD_OPCODE)
        return g_strdup_printf("0x%x", value->u.num);
    return g_strdup_printf("%u", value->u.num);
}

char *
nwf_value_format(const NwfValue *value, NwfField field)
{
    char buf[INET6_ADDRSTRLEN];
    GString *out;

    if (value->var)
        return nwf_var_ref_format(value->var);
    switch (value->type) {
    case NWF_TYPE_UINT8:
    case NWF_TYPE_UINT16:
    case NWF_TYPE_UINT32:
        return format_number(value, field);
    case NWF_TYPE_MAC_ADDR:
    case NWF_TYPE_MAC_MASK:
        return nwf_mac_format(value->u.mac);
    case NWF_TYPE_IPV4_ADDR:
        return g_strdup(inet_ntop(AF_INET, &value->u.ipv4, buf, sizeof(buf)));
    case NWF_TYPE_IPV6_ADDR:
        return format_ipv6_addr(value);
    case NWF_TYPE_IPV4_MASK:
    case NWF_TYPE_IPV6_MASK:
        return g_strdup_printf("%u", value->u.num);
    case NWF_TYPE_STRING:
    case NWF_TYPE_IPSET_NAME:
        return g_strdup(value->u.str ? value->u.str : "");
    case NWF_TYPE_BOOLEAN:
        return g_strdup(value->u.num ? "true" : "false");
    case NWF_TYPE_STATE:
        out = g_string_new(NULL);
        format_flag_list(out, state_names, value->u.state);
        return g_string_free(out, FALSE);
    case NWF_TYPE_TCP_FLAGS:
        out = g_string_new(NULL);
        format_tcp_flag_side(out, value->u.tcp_flags.mask);
        g_string_append_c(out, '/');
        format_tcp_flag_side(out, value->u.tcp_flags.flags);
        return g_string_free(out, FALSE);
    case NWF_TYPE_IPSET_FLAGS:
        out = g_string_new(NULL);
        for (guint i = 0; i < value->u.ipset_flags.count; i++) {
            if (i)
                g_string_append_c(out, ',');
            g_string_append(out, (value->u.ipset_flags.bits >> i) & 1 ? "src" : "dst");
        }
        return g_string_free(out, FALSE);
    }
    return g_strdup("");
}

static gboolean
value_owns_string(const NwfValue *value)
{
    return !value->var && (value->type == NWF_TYPE_STRING || value->type == NWF_TYPE_IPSET_NAME);
}

void
nwf_value_clear(NwfValue *value)
{
    if (value_owns_string(value))
        g_free(value->u.str);
    nwf_var_ref_free(value->var);
    memset(value, 0, sizeof(*value));
}

void
nwf_value_copy(NwfValue *dst, const NwfValue *src)
{
    *dst = *src;
    dst->var = nwf_var_ref_copy(src->var);
    if (value_owns_string(src))
        dst->u.str = g_strdup(src->u.str);
}
