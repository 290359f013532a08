/* Building a frame from a word description, with real headers, lengths and
 * checksums, so the same bytes could be sent on a wire. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/trace_packet.h"
#include "util/nwf_error.h"

typedef enum {
    L3_NONE, L3_ARP, L3_IPV4, L3_IPV6, L3_STP,
} BuildL3;

typedef enum {
    L4_NONE, L4_TCP, L4_UDP, L4_UDPLITE, L4_SCTP, L4_ICMP, L4_ICMPV6, L4_IGMP, L4_ESP, L4_AH,
    L4_RAW,
} BuildL4;

typedef struct {
    guint8 src[6], dst[6];
    gboolean dst_given;
    gint32 ethertype;            /* -1: from the next layer */
    gboolean vlan;
    guint16 vlan_id, vlan_prio;
    BuildL3 l3;
    gboolean rarp;
    guint16 htype, ptype, op;
    guint8 sha[6], tha[6];
    struct in_addr spa, tpa;
    struct in_addr src4, dst4;
    struct in6_addr src6, dst6;
    guint8 tos, ttl;
    gint32 ip_proto;             /* -1: from the L4 layer */
    BuildL4 l4;
    guint16 sport, dport;
    guint8 tcp_flags;
    GByteArray *tcp_options;
    guint8 icmp_type, icmp_code;
    guint8 stp_type, stp_flags;
    guint16 stp_root_prio, stp_sender_prio, stp_port, stp_age, stp_max_age, stp_hello,
        stp_fwd_delay;
    guint32 stp_root_cost;
    guint8 stp_root_addr[6], stp_sender_addr[6];
    GByteArray *payload;
} BuildSpec;

typedef struct {
    char **words;
    guint pos;
    GError **error;
} Cursor;

static const char *
peek(const Cursor *c)
{
    return c->words[c->pos];
}

static gboolean
fail(Cursor *c, const char *what)
{
    const char *word = c->words[c->pos] ? c->words[c->pos] : "(end)";

    nwf_error_set(c->error, NWF_ERR_INVALID_ARG, _("packet description: %s at '%s'"), what, word);
    return FALSE;
}

/* The value word after a keyword. */
static const char *
take_value(Cursor *c)
{
    const char *value;

    c->pos++;
    value = c->words[c->pos];
    if (!value) {
        fail(c, "missing value");
        return NULL;
    }
    return value;
}

static gboolean
take_number(Cursor *c, guint32 max, guint32 *out)
{
    const char *text = take_value(c);
    guint64 v;
    char *end = NULL;

    if (!text)
        return FALSE;
    if (!g_ascii_isdigit(text[0]))
        return fail(c, "expected a number");
    v = g_ascii_strtoull(text, &end, 0);
    if (*end != '\0')
        return fail(c, "expected a number");
    if (v > max)
        return fail(c, "number out of range");
    *out = (guint32)v;
    c->pos++;
    return TRUE;
}

static gboolean
take_u8(Cursor *c, guint8 *out)
{
    guint32 v;

    if (!take_number(c, G_MAXUINT8, &v))
        return FALSE;
    *out = (guint8)v;
    return TRUE;
}

static gboolean
take_u16(Cursor *c, guint16 *out)
{
    guint32 v;

    if (!take_number(c, G_MAXUINT16, &v))
        return FALSE;
    *out = (guint16)v;
    return TRUE;
}

static gboolean
take_mac(Cursor *c, guint8 mac[6])
{
    const char *text = take_value(c);
    g_auto(GStrv) parts = NULL;

    if (!text)
        return FALSE;
    parts = g_strsplit(text, ":", -1);
    if (g_strv_length(parts) != 6)
        return fail(c, "expected a MAC address");
    for (guint i = 0; i < 6; i++) {
        gsize n = strlen(parts[i]);
        if (n < 1 || n > 2 || !g_ascii_isxdigit(parts[i][0]) ||
            (n == 2 && !g_ascii_isxdigit(parts[i][1])))
            return fail(c, "expected a MAC address");
        mac[i] = (guint8)g_ascii_strtoull(parts[i], NULL, 16);
    }
    c->pos++;
    return TRUE;
}

static gboolean
take_addr(Cursor *c, int family, void *out)
{
    const char *text = take_value(c);

    if (!text)
        return FALSE;
    if (inet_pton(family, text, out) != 1)
        return fail(c, family == AF_INET ? "expected an IPv4 address" : "expected an IPv6 address");
    c->pos++;
    return TRUE;
}

static gboolean
take_hex(Cursor *c, GByteArray *out)
{
    const char *text = take_value(c);
    g_autoptr(GBytes) bytes = NULL;
    gsize len;
    const guint8 *data;

    if (!text)
        return FALSE;
    bytes = nwf_trace_frame_from_hex(text, NULL);
    if (!bytes)
        return fail(c, "expected hex digits");
    data = g_bytes_get_data(bytes, &len);
    g_byte_array_append(out, data, (guint)len);
    c->pos++;
    return TRUE;
}

/* TCP flags as letters (F S R P A U, e.g. "SA") or a number. */
static gboolean
take_tcp_flags(Cursor *c, guint8 *out)
{
    static const char letters[] = "FSRPAUEC";
    const char *text = take_value(c);
    guint8 flags = 0;

    if (!text)
        return FALSE;
    if (g_ascii_isdigit(text[0])) {
        c->pos--;
        return take_u8(c, out);
    }
    for (const char *p = text; *p; p++) {
        const char *hit = strchr(letters, g_ascii_toupper(*p));
        if (!hit)
            return fail(c, "expected TCP flag letters from FSRPAUEC");
        flags |= (guint8)(1u << (hit - letters));
    }
    *out = flags;
    c->pos++;
    return TRUE;
}

static gboolean
is(const Cursor *c, const char *word)
{
    return c->words[c->pos] && strcmp(c->words[c->pos], word) == 0;
}

static gboolean
parse_ether(Cursor *c, BuildSpec *s)
{
    c->pos++;
    for (;;) {
        guint16 type;
        if (is(c, "src")) {
            if (!take_mac(c, s->src))
                return FALSE;
        } else if (is(c, "dst")) {
            if (!take_mac(c, s->dst))
                return FALSE;
            s->dst_given = TRUE;
        } else if (is(c, "type")) {
            if (!take_u16(c, &type))
                return FALSE;
            s->ethertype = type;
        } else {
            return TRUE;
        }
    }
}

static gboolean
parse_vlan(Cursor *c, BuildSpec *s)
{
    s->vlan = TRUE;
    c->pos++;
    for (;;) {
        if (is(c, "id")) {
            if (!take_u16(c, &s->vlan_id))
                return FALSE;
            if (s->vlan_id > 4095) {
                c->pos--;
                return fail(c, "VLAN id above 4095");
            }
        } else if (is(c, "prio")) {
            if (!take_u16(c, &s->vlan_prio))
                return FALSE;
            if (s->vlan_prio > 7) {
                c->pos--;
                return fail(c, "VLAN priority above 7");
            }
        } else {
            return TRUE;
        }
    }
}

static gboolean
parse_arp(Cursor *c, BuildSpec *s)
{
    s->l3 = L3_ARP;
    s->rarp = is(c, "rarp");
    s->htype = 1;
    s->ptype = NWF_TRACE_ETHERTYPE_IPV4;
    s->op = s->rarp ? 3 : 1;
    memcpy(s->sha, s->src, 6);
    c->pos++;
    for (;;) {
        if (is(c, "request")) {
            s->op = s->rarp ? 3 : 1;
            c->pos++;
        } else if (is(c, "reply")) {
            s->op = s->rarp ? 4 : 2;
            c->pos++;
        } else if (is(c, "op")) {
            if (!take_u16(c, &s->op))
                return FALSE;
        } else if (is(c, "htype")) {
            if (!take_u16(c, &s->htype))
                return FALSE;
        } else if (is(c, "ptype")) {
            if (!take_u16(c, &s->ptype))
                return FALSE;
        } else if (is(c, "hwsrc")) {
            if (!take_mac(c, s->sha))
                return FALSE;
        } else if (is(c, "hwdst")) {
            if (!take_mac(c, s->tha))
                return FALSE;
        } else if (is(c, "psrc")) {
            if (!take_addr(c, AF_INET, &s->spa))
                return FALSE;
        } else if (is(c, "pdst")) {
            if (!take_addr(c, AF_INET, &s->tpa))
                return FALSE;
        } else {
            return TRUE;
        }
    }
}

static gboolean
parse_ip(Cursor *c, BuildSpec *s)
{
    gboolean v6 = is(c, "ip6") || is(c, "ipv6");
    int family = v6 ? AF_INET6 : AF_INET;

    s->l3 = v6 ? L3_IPV6 : L3_IPV4;
    c->pos++;
    for (;;) {
        guint8 v;
        if (is(c, "src")) {
            if (!take_addr(c, family, v6 ? (void *)&s->src6 : (void *)&s->src4))
                return FALSE;
        } else if (is(c, "dst")) {
            if (!take_addr(c, family, v6 ? (void *)&s->dst6 : (void *)&s->dst4))
                return FALSE;
        } else if (is(c, "tos") || is(c, "tclass")) {
            if (!take_u8(c, &s->tos))
                return FALSE;
        } else if (is(c, "dscp")) {
            if (!take_u8(c, &v))
                return FALSE;
            if (v > 63) {
                c->pos--;
                return fail(c, "DSCP above 63");
            }
            s->tos = (guint8)(v << 2);
        } else if (is(c, "proto")) {
            if (!take_u8(c, &v))
                return FALSE;
            s->ip_proto = v;
        } else if (is(c, "ttl") || is(c, "hlim")) {
            if (!take_u8(c, &s->ttl))
                return FALSE;
        } else {
            return TRUE;
        }
    }
}

static gboolean
parse_l4(Cursor *c, BuildSpec *s)
{
    static const struct {
        const char *word;
        BuildL4 l4;
        guint8 proto;
    } kinds[] = {
        { "tcp", L4_TCP, IPPROTO_TCP }, { "udp", L4_UDP, IPPROTO_UDP },
        { "udplite", L4_UDPLITE, IPPROTO_UDPLITE }, { "sctp", L4_SCTP, IPPROTO_SCTP },
        { "icmp", L4_ICMP, IPPROTO_ICMP }, { "icmp6", L4_ICMPV6, IPPROTO_ICMPV6 },
        { "icmpv6", L4_ICMPV6, IPPROTO_ICMPV6 }, { "igmp", L4_IGMP, IPPROTO_IGMP },
        { "esp", L4_ESP, IPPROTO_ESP }, { "ah", L4_AH, IPPROTO_AH },
    };

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (!is(c, kinds[i].word))
            continue;
        if (s->l3 != L3_IPV4 && s->l3 != L3_IPV6)
            return fail(c, "a transport protocol needs 'ip' or 'ip6' before it");
        if ((kinds[i].l4 == L4_ICMP || kinds[i].l4 == L4_IGMP) && s->l3 != L3_IPV4)
            return fail(c, "this protocol needs 'ip'");
        if (kinds[i].l4 == L4_ICMPV6 && s->l3 != L3_IPV6)
            return fail(c, "icmp6 needs 'ip6'");
        s->l4 = kinds[i].l4;
        if (s->ip_proto < 0)
            s->ip_proto = kinds[i].proto;
        break;
    }
    if (s->l4 == L4_NONE)
        return fail(c, "unexpected word");
    if (s->l4 == L4_ICMP || s->l4 == L4_ICMPV6)
        s->icmp_type = s->l4 == L4_ICMP ? 8 : 128;
    if (s->l4 == L4_IGMP)
        s->icmp_type = 0x11;
    if (s->l4 == L4_TCP)
        s->tcp_flags = 0x02;
    c->pos++;
    for (;;) {
        gboolean ports = s->l4 == L4_TCP || s->l4 == L4_UDP || s->l4 == L4_UDPLITE ||
                         s->l4 == L4_SCTP;
        gboolean icmp = s->l4 == L4_ICMP || s->l4 == L4_ICMPV6 || s->l4 == L4_IGMP;
        guint8 option;
        if (ports && is(c, "sport")) {
            if (!take_u16(c, &s->sport))
                return FALSE;
        } else if (ports && is(c, "dport")) {
            if (!take_u16(c, &s->dport))
                return FALSE;
        } else if (s->l4 == L4_TCP && is(c, "flags")) {
            if (!take_tcp_flags(c, &s->tcp_flags))
                return FALSE;
        } else if (s->l4 == L4_TCP && is(c, "option")) {
            if (!take_u8(c, &option))
                return FALSE;
            g_byte_array_append(s->tcp_options, &option, 1);
        } else if (icmp && is(c, "type")) {
            if (!take_u8(c, &s->icmp_type))
                return FALSE;
        } else if (icmp && s->l4 != L4_IGMP && is(c, "code")) {
            if (!take_u8(c, &s->icmp_code))
                return FALSE;
        } else {
            return TRUE;
        }
    }
}

static gboolean
parse_stp(Cursor *c, BuildSpec *s)
{
    static const guint8 bga[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };

    s->l3 = L3_STP;
    if (!s->dst_given)
        memcpy(s->dst, bga, 6);
    c->pos++;
    for (;;) {
        gboolean ok;
        if (is(c, "type"))
            ok = take_u8(c, &s->stp_type);
        else if (is(c, "flags"))
            ok = take_u8(c, &s->stp_flags);
        else if (is(c, "root-priority"))
            ok = take_u16(c, &s->stp_root_prio);
        else if (is(c, "root-address"))
            ok = take_mac(c, s->stp_root_addr);
        else if (is(c, "root-cost"))
            ok = take_number(c, G_MAXUINT32, &s->stp_root_cost);
        else if (is(c, "sender-priority"))
            ok = take_u16(c, &s->stp_sender_prio);
        else if (is(c, "sender-address"))
            ok = take_mac(c, s->stp_sender_addr);
        else if (is(c, "port"))
            ok = take_u16(c, &s->stp_port);
        else if (is(c, "age"))
            ok = take_u16(c, &s->stp_age);
        else if (is(c, "max-age"))
            ok = take_u16(c, &s->stp_max_age);
        else if (is(c, "hello-time"))
            ok = take_u16(c, &s->stp_hello);
        else if (is(c, "forward-delay"))
            ok = take_u16(c, &s->stp_fwd_delay);
        else
            return TRUE;
        if (!ok)
            return FALSE;
    }
}

/* --- serialization ----------------------------------------------------- */

static void
put8(GByteArray *b, guint v)
{
    guint8 x = (guint8)v;
    g_byte_array_append(b, &x, 1);
}

static void
put16(GByteArray *b, guint v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void
put32(GByteArray *b, guint32 v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

static void
put_bytes(GByteArray *b, const void *data, gsize len)
{
    g_byte_array_append(b, data, (guint)len);
}

static guint32
sum_add(guint32 sum, const guint8 *data, gsize len)
{
    for (gsize i = 0; i + 1 < len; i += 2)
        sum += (guint32)((data[i] << 8) | data[i + 1]);
    if (len & 1)
        sum += (guint32)(data[len - 1] << 8);
    return sum;
}

static guint16
sum_fold(guint32 sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (guint16)~sum;
}

static void
store16(guint8 *p, guint16 v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

/* SCTP's CRC32c (Castagnoli), reflected, as the protocol stores it. */
static guint32
crc32c(const guint8 *data, gsize len)
{
    guint32 crc = 0xffffffff;

    for (gsize i = 0; i < len; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78 & (0u - (crc & 1)));
    }
    return ~crc;
}

static void
build_tcp_options(GByteArray *l4, const GByteArray *kinds)
{
    for (guint i = 0; i < kinds->len; i++) {
        guint8 kind = kinds->data[i];
        switch (kind) {
        case 0:
        case 1:
            put8(l4, kind);
            break;
        case 2:
            put8(l4, 2); put8(l4, 4); put16(l4, 1460);
            break;
        case 3:
            put8(l4, 3); put8(l4, 3); put8(l4, 7);
            break;
        case 8:
            put8(l4, 8); put8(l4, 10); put32(l4, 1); put32(l4, 0);
            break;
        default:
            put8(l4, kind); put8(l4, 2);
            break;
        }
    }
    while ((l4->len - 20) % 4)
        put8(l4, 0);
}

/* The L4 header and payload; checksums that need the pseudo header are
 * filled in by the caller. Returns the checksum offset or -1. */
static int
build_l4(const BuildSpec *s, GByteArray *l4)
{
    switch (s->l4) {
    case L4_TCP:
        put16(l4, s->sport); put16(l4, s->dport);
        put32(l4, 1); put32(l4, (s->tcp_flags & 0x10) ? 1 : 0);
        put16(l4, 0); put16(l4, 64240); put16(l4, 0); put16(l4, 0);
        build_tcp_options(l4, s->tcp_options);
        l4->data[12] = (guint8)((l4->len / 4) << 4);
        l4->data[13] = s->tcp_flags;
        put_bytes(l4, s->payload->data, s->payload->len);
        return 16;
    case L4_UDP:
    case L4_UDPLITE:
        put16(l4, s->sport); put16(l4, s->dport);
        put16(l4, s->l4 == L4_UDP ? 8 + s->payload->len : 0); put16(l4, 0);
        put_bytes(l4, s->payload->data, s->payload->len);
        return 6;
    case L4_SCTP: {
        guint32 crc;
        put16(l4, s->sport); put16(l4, s->dport); put32(l4, 0); put32(l4, 0);
        /* an INIT chunk: what starts an association */
        put8(l4, 1); put8(l4, 0); put16(l4, 20);
        put32(l4, 0x1234); put32(l4, 65535); put16(l4, 1); put16(l4, 1); put32(l4, 1);
        put_bytes(l4, s->payload->data, s->payload->len);
        crc = crc32c(l4->data, l4->len);
        l4->data[8] = (guint8)crc;
        l4->data[9] = (guint8)(crc >> 8);
        l4->data[10] = (guint8)(crc >> 16);
        l4->data[11] = (guint8)(crc >> 24);
        return -1;
    }
    case L4_ICMP:
    case L4_ICMPV6:
    case L4_IGMP:
        put8(l4, s->icmp_type); put8(l4, s->icmp_code); put16(l4, 0);
        put32(l4, s->l4 == L4_IGMP ? 0 : 0x00010001);
        put_bytes(l4, s->payload->data, s->payload->len);
        if (s->l4 != L4_ICMPV6)
            store16(l4->data + 2, sum_fold(sum_add(0, l4->data, l4->len)));
        return s->l4 == L4_ICMPV6 ? 2 : -1;
    case L4_ESP:
        put32(l4, 0x100); put32(l4, 1);
        put_bytes(l4, s->payload->data, s->payload->len);
        return -1;
    case L4_AH:
        put8(l4, 59); put8(l4, 4); put16(l4, 0); put32(l4, 0x100); put32(l4, 1);
        put32(l4, 0); put32(l4, 0); put32(l4, 0);
        put_bytes(l4, s->payload->data, s->payload->len);
        return -1;
    case L4_NONE:
    case L4_RAW:
        put_bytes(l4, s->payload->data, s->payload->len);
        return -1;
    }
    return -1;
}

static void
build_ip(const BuildSpec *s, GByteArray *out)
{
    g_autoptr(GByteArray) l4 = g_byte_array_new();
    int csum_at = build_l4(s, l4);
    guint8 proto = s->ip_proto >= 0 ? (guint8)s->ip_proto : 59;
    guint32 pseudo;

    if (s->l3 == L3_IPV4) {
        guint start = out->len;
        put8(out, 0x45); put8(out, s->tos); put16(out, 20 + l4->len);
        put16(out, 1); put16(out, 0); put8(out, s->ttl); put8(out, proto);
        put16(out, 0);
        put_bytes(out, &s->src4, 4); put_bytes(out, &s->dst4, 4);
        store16(out->data + start + 10, sum_fold(sum_add(0, out->data + start, 20)));
        pseudo = sum_add(0, (const guint8 *)&s->src4, 4);
        pseudo = sum_add(pseudo, (const guint8 *)&s->dst4, 4);
        pseudo += proto + l4->len;
    } else {
        put32(out, 0x60000000u | ((guint32)s->tos << 20));
        put16(out, l4->len); put8(out, proto); put8(out, s->ttl);
        put_bytes(out, &s->src6, 16); put_bytes(out, &s->dst6, 16);
        pseudo = sum_add(0, (const guint8 *)&s->src6, 16);
        pseudo = sum_add(pseudo, (const guint8 *)&s->dst6, 16);
        pseudo += proto + l4->len;
    }
    if (csum_at >= 0) {
        guint16 sum = sum_fold(sum_add(pseudo, l4->data, l4->len));
        if (s->l4 == L4_UDP && sum == 0)
            sum = 0xffff;
        store16(l4->data + csum_at, sum);
    }
    put_bytes(out, l4->data, l4->len);
}

static void
build_arp(const BuildSpec *s, GByteArray *out)
{
    put16(out, s->htype); put16(out, s->ptype); put8(out, 6); put8(out, 4); put16(out, s->op);
    put_bytes(out, s->sha, 6); put_bytes(out, &s->spa, 4);
    put_bytes(out, s->tha, 6); put_bytes(out, &s->tpa, 4);
    put_bytes(out, s->payload->data, s->payload->len);
}

/* An 802.3 frame carrying an LLC header and a BPDU in its real layout. */
static void
build_stp(const BuildSpec *s, GByteArray *out)
{
    put8(out, 0x42); put8(out, 0x42); put8(out, 0x03);
    put16(out, 0); put8(out, 0); put8(out, s->stp_type);
    if (s->stp_type != 0x80) {
        put8(out, s->stp_flags);
        put16(out, s->stp_root_prio); put_bytes(out, s->stp_root_addr, 6);
        put32(out, s->stp_root_cost);
        put16(out, s->stp_sender_prio); put_bytes(out, s->stp_sender_addr, 6);
        put16(out, s->stp_port); put16(out, s->stp_age); put16(out, s->stp_max_age);
        put16(out, s->stp_hello); put16(out, s->stp_fwd_delay);
    }
    put_bytes(out, s->payload->data, s->payload->len);
}

static guint16
l3_ethertype(const BuildSpec *s, guint payload_len)
{
    switch (s->l3) {
    case L3_ARP: return s->rarp ? NWF_TRACE_ETHERTYPE_RARP : NWF_TRACE_ETHERTYPE_ARP;
    case L3_IPV4: return NWF_TRACE_ETHERTYPE_IPV4;
    case L3_IPV6: return NWF_TRACE_ETHERTYPE_IPV6;
    case L3_STP: return (guint16)payload_len;
    case L3_NONE: break;
    }
    return 0x88b5;   /* IEEE "local experimental" */
}

static gboolean
parse_words(Cursor *c, BuildSpec *s)
{
    if (is(c, "ether") && !parse_ether(c, s))
        return FALSE;
    if (is(c, "vlan") && !parse_vlan(c, s))
        return FALSE;
    if (is(c, "arp") || is(c, "rarp")) {
        if (!parse_arp(c, s))
            return FALSE;
    } else if (is(c, "ip") || is(c, "ip6") || is(c, "ipv6")) {
        if (!parse_ip(c, s))
            return FALSE;
        if (peek(c) && !is(c, "payload") && !parse_l4(c, s))
            return FALSE;
    } else if (is(c, "stp")) {
        if (!parse_stp(c, s))
            return FALSE;
    }
    if (is(c, "payload") && !take_hex(c, s->payload))
        return FALSE;
    if (peek(c))
        return fail(c, "unexpected word");
    if (s->l4 == L4_NONE && (s->l3 == L3_IPV4 || s->l3 == L3_IPV6) && s->ip_proto >= 0)
        s->l4 = L4_RAW;
    return TRUE;
}

GBytes *
nwf_trace_frame_build(char **words, const NwfTraceFrameDefaults *defaults, GError **error)
{
    g_autoptr(GByteArray) tcp_options = g_byte_array_new();
    g_autoptr(GByteArray) payload = g_byte_array_new();
    g_autoptr(GByteArray) body = g_byte_array_new();
    g_autoptr(GByteArray) frame = g_byte_array_new();
    BuildSpec spec = { .ethertype = -1, .ip_proto = -1, .ttl = 64,
                       .tcp_options = tcp_options, .payload = payload };
    Cursor cursor = { .words = words, .error = error };

    if (!words || !words[0]) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, "%s",
                      _("no packet given: describe one (e.g. 'ip src 10.0.0.9 dst 10.0.0.1 "
                        "tcp dport 22') or pass --frame HEX"));
        return NULL;
    }
    memcpy(spec.src, defaults->src, 6);
    memcpy(spec.dst, defaults->dst, 6);
    if (!parse_words(&cursor, &spec))
        return NULL;

    switch (spec.l3) {
    case L3_ARP: build_arp(&spec, body); break;
    case L3_IPV4:
    case L3_IPV6: build_ip(&spec, body); break;
    case L3_STP: build_stp(&spec, body); break;
    case L3_NONE: put_bytes(body, payload->data, payload->len); break;
    }
    put_bytes(frame, spec.dst, 6);
    put_bytes(frame, spec.src, 6);
    if (spec.vlan) {
        put16(frame, NWF_TRACE_ETHERTYPE_VLAN);
        put16(frame, (guint)(spec.vlan_prio << 13) | spec.vlan_id);
    }
    put16(frame, spec.ethertype >= 0 ? (guint)spec.ethertype : l3_ethertype(&spec, body->len));
    put_bytes(frame, body->data, body->len);
    return g_byte_array_free_to_bytes(g_steal_pointer(&frame));
}
