/* Decoding a frame into the fields the ebtables and iptables matches read. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/trace_packet.h"
#include "util/nwf_error.h"

#define IP_OFFSET_MASK 0x1fff

static guint16
read16(const guint8 *p)
{
    return (guint16)((p[0] << 8) | p[1]);
}

void
nwf_trace_packet_free(NwfTracePacket *packet)
{
    if (!packet)
        return;
    if (packet->frame)
        g_bytes_unref(packet->frame);
    g_free(packet);
}

static void
decode_l4(NwfTracePacket *pkt, const guint8 *data, gsize len)
{
    gsize off = pkt->ip.l4_offset;
    const guint8 *l4 = data + off;
    gsize avail = off <= len ? len - off : 0;

    if (pkt->ip.fragment || !pkt->ip.proto_found)
        return;
    /* ebtables reads the first four bytes as ports whatever the protocol */
    if (avail >= 4) {
        pkt->l4.have_ports = TRUE;
        pkt->l4.sport = read16(l4);
        pkt->l4.dport = read16(l4 + 2);
    }
    switch (pkt->ip.proto) {
    case IPPROTO_TCP:
        if (avail >= 20) {
            gsize hlen = (gsize)(l4[12] >> 4) * 4;
            pkt->l4.have_tcp = TRUE;
            pkt->l4.tcp_flags = l4[13];
            if (hlen > 20 && hlen <= avail) {
                pkt->l4.tcp_options_len = (guint)(hlen - 20);
                memcpy(pkt->l4.tcp_options, l4 + 20, pkt->l4.tcp_options_len);
            }
        }
        break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        if (avail >= 2) {
            pkt->l4.have_icmp = TRUE;
            pkt->l4.icmp_type = l4[0];
            pkt->l4.icmp_code = l4[1];
        }
        break;
    default:
        break;
    }
}

static void
decode_ipv4(NwfTracePacket *pkt, const guint8 *data, gsize len)
{
    const guint8 *ip = data + pkt->l3_offset;
    gsize avail = len - pkt->l3_offset;
    gsize ihl;

    if (avail < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5 ||
        read16(ip + 2) < (ip[0] & 0x0f) * 4 || read16(ip + 2) > avail) {
        pkt->ip_malformed = TRUE;
        if (avail < 20)
            return;
    }
    ihl = (gsize)(ip[0] & 0x0f) * 4;
    pkt->l3 = NWF_TRACE_L3_IPV4;
    pkt->ip.tos = ip[1];
    pkt->ip.fragment = (read16(ip + 6) & IP_OFFSET_MASK) != 0;
    pkt->ip.proto = ip[9];
    pkt->ip.upper_proto = ip[9];
    pkt->ip.proto_found = TRUE;
    memcpy(&pkt->ip.src4, ip + 12, 4);
    memcpy(&pkt->ip.dst4, ip + 16, 4);
    pkt->ip.l4_offset = pkt->l3_offset + (ihl < 20 ? 20 : ihl);
    decode_l4(pkt, data, len);
}

static gboolean
ipv6_is_ext_header(guint8 next)
{
    return next == 0 || next == 43 || next == 44 || next == 51 || next == 59 || next == 60;
}

/* Skip extension headers as the kernel's ipv6_skip_exthdr does: "no next
 * header" leaves no protocol, and a fragment header with a non-zero offset
 * ends the walk with the fragment header as the protocol. */
static void
decode_ipv6(NwfTracePacket *pkt, const guint8 *data, gsize len)
{
    const guint8 *ip = data + pkt->l3_offset;
    gsize avail = len - pkt->l3_offset;
    gsize off;
    guint8 next;

    if (avail < 40 || (ip[0] >> 4) != 6 || 40 + (gsize)read16(ip + 4) > avail) {
        pkt->ip_malformed = TRUE;
        if (avail < 40)
            return;
    }
    pkt->l3 = NWF_TRACE_L3_IPV6;
    pkt->ip.tos = (guint8)(((ip[0] & 0x0f) << 4) | (ip[1] >> 4));
    memcpy(&pkt->ip.src6, ip + 8, 16);
    memcpy(&pkt->ip.dst6, ip + 24, 16);
    next = ip[6];
    off = pkt->l3_offset + 40;
    while (ipv6_is_ext_header(next)) {
        gsize hlen;
        if (next == 59 || off + 8 > len)
            return;
        if (next == 44) {
            if ((read16(data + off + 2) & 0xfff8) != 0) {
                pkt->ip.fragment = TRUE;
                pkt->ip.upper_proto = data[off];
                break;
            }
            hlen = 8;
        } else if (next == 51) {
            hlen = ((gsize)data[off + 1] + 2) * 4;
        } else {
            hlen = ((gsize)data[off + 1] + 1) * 8;
        }
        next = data[off];
        off += hlen;
    }
    pkt->ip.proto = next;
    if (!pkt->ip.fragment)
        pkt->ip.upper_proto = next;
    pkt->ip.proto_found = TRUE;
    pkt->ip.l4_offset = off;
    decode_l4(pkt, data, len);
}

static void
decode_arp(NwfTracePacket *pkt, const guint8 *data, gsize len)
{
    const guint8 *a = data + pkt->l3_offset;
    gsize avail = len - pkt->l3_offset;

    if (avail < 8)
        return;
    pkt->l3 = NWF_TRACE_L3_ARP;
    pkt->arp.htype = read16(a);
    pkt->arp.ptype = read16(a + 2);
    pkt->arp.hlen = a[4];
    pkt->arp.plen = a[5];
    pkt->arp.op = read16(a + 6);
    if (avail < 8 + 2 * ((gsize)pkt->arp.hlen + pkt->arp.plen))
        return;
    pkt->arp.complete = TRUE;
    if (pkt->arp.hlen == 6) {
        memcpy(pkt->arp.sha, a + 8, 6);
        memcpy(pkt->arp.tha, a + 8 + 6 + pkt->arp.plen, 6);
    }
    if (pkt->arp.plen == 4) {
        memcpy(pkt->arp.spa, a + 8 + pkt->arp.hlen, 4);
        memcpy(pkt->arp.tpa, a + 8 + 2 * (gsize)pkt->arp.hlen + 4, 4);
    }
}

NwfTracePacket *
nwf_trace_packet_decode(GBytes *frame, GError **error)
{
    g_autoptr(NwfTracePacket) pkt = g_new0(NwfTracePacket, 1);
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);

    if (len < 14) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG,
                      _("frame of %zu bytes is shorter than an Ethernet header (14)"), len);
        return NULL;
    }
    pkt->frame = g_bytes_ref(frame);
    memcpy(pkt->dst, data, 6);
    memcpy(pkt->src, data + 6, 6);
    pkt->ethertype = read16(data + 12);
    pkt->inner_type = pkt->ethertype;
    pkt->l3_offset = 14;
    if (pkt->ethertype == NWF_TRACE_ETHERTYPE_VLAN && len >= 18) {
        pkt->vlan = TRUE;
        pkt->vlan_id = read16(data + 14) & 0x0fff;
        pkt->inner_type = read16(data + 16);
        pkt->l3_offset = 18;
    }
    /* the IP layer and the ARP/IP ebtables matches only look at untagged
     * frames: a tagged frame is all "vlan" to them */
    if (pkt->vlan)
        return g_steal_pointer(&pkt);
    switch (pkt->inner_type) {
    case NWF_TRACE_ETHERTYPE_IPV4:
        decode_ipv4(pkt, data, len);
        break;
    case NWF_TRACE_ETHERTYPE_IPV6:
        decode_ipv6(pkt, data, len);
        break;
    case NWF_TRACE_ETHERTYPE_ARP:
    case NWF_TRACE_ETHERTYPE_RARP:
        decode_arp(pkt, data, len);
        break;
    default:
        break;
    }
    return g_steal_pointer(&pkt);
}

GBytes *
nwf_trace_frame_from_hex(const char *hex, GError **error)
{
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    int high = -1;

    for (const char *p = hex; *p; p++) {
        int digit;
        if (g_ascii_isspace(*p) || *p == ':')
            continue;
        digit = g_ascii_xdigit_value(*p);
        if (digit < 0) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG, _("frame: '%c' is not a hex digit"), *p);
            return NULL;
        }
        if (high < 0) {
            high = digit;
        } else {
            guint8 b = (guint8)((high << 4) | digit);
            g_byte_array_append(bytes, &b, 1);
            high = -1;
        }
    }
    if (high >= 0) {
        nwf_error_set(error, NWF_ERR_INVALID_ARG, "%s", _("frame: odd number of hex digits"));
        return NULL;
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
}

static void
append_mac(GString *out, const guint8 *mac)
{
    g_string_append_printf(out, "%02x:%02x:%02x:%02x:%02x:%02x",
                           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void
append_l4(GString *out, const NwfTracePacket *pkt)
{
    static const char tcp_flag_letters[] = "FSRPAU";

    switch (pkt->ip.proto) {
    case IPPROTO_TCP: g_string_append(out, " tcp"); break;
    case IPPROTO_UDP: g_string_append(out, " udp"); break;
    case IPPROTO_UDPLITE: g_string_append(out, " udplite"); break;
    case IPPROTO_SCTP: g_string_append(out, " sctp"); break;
    case IPPROTO_ICMP: g_string_append(out, " icmp"); break;
    case IPPROTO_ICMPV6: g_string_append(out, " icmpv6"); break;
    default: g_string_append_printf(out, " proto %u", pkt->ip.proto); break;
    }
    if (pkt->l4.have_ports && !pkt->l4.have_icmp && pkt->ip.proto != IPPROTO_ESP &&
        pkt->ip.proto != IPPROTO_IGMP)
        g_string_append_printf(out, " %u > %u", pkt->l4.sport, pkt->l4.dport);
    if (pkt->l4.have_tcp) {
        g_string_append(out, " [");
        for (guint i = 0; i < 6; i++) {
            if (pkt->l4.tcp_flags & (1u << i))
                g_string_append_c(out, tcp_flag_letters[i]);
        }
        g_string_append_c(out, ']');
    }
    if (pkt->l4.have_icmp)
        g_string_append_printf(out, " type %u code %u", pkt->l4.icmp_type, pkt->l4.icmp_code);
    if (pkt->ip.fragment)
        g_string_append(out, " (fragment)");
}

char *
nwf_trace_packet_describe(const NwfTracePacket *pkt)
{
    GString *out = g_string_new(NULL);
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

    append_mac(out, pkt->src);
    g_string_append(out, " > ");
    append_mac(out, pkt->dst);
    if (pkt->vlan)
        g_string_append_printf(out, " vlan %u", pkt->vlan_id);
    g_string_append_printf(out, " type 0x%04x", pkt->inner_type);
    switch (pkt->l3) {
    case NWF_TRACE_L3_ARP:
        g_string_append_printf(out, " %s op %u", pkt->inner_type == NWF_TRACE_ETHERTYPE_RARP
                                                     ? "rarp" : "arp", pkt->arp.op);
        if (pkt->arp.complete && pkt->arp.plen == 4) {
            inet_ntop(AF_INET, pkt->arp.spa, a, sizeof(a));
            inet_ntop(AF_INET, pkt->arp.tpa, b, sizeof(b));
            g_string_append_printf(out, " %s > %s", a, b);
        }
        break;
    case NWF_TRACE_L3_IPV4:
        inet_ntop(AF_INET, &pkt->ip.src4, a, sizeof(a));
        inet_ntop(AF_INET, &pkt->ip.dst4, b, sizeof(b));
        g_string_append_printf(out, " ipv4 %s > %s", a, b);
        append_l4(out, pkt);
        break;
    case NWF_TRACE_L3_IPV6:
        inet_ntop(AF_INET6, &pkt->ip.src6, a, sizeof(a));
        inet_ntop(AF_INET6, &pkt->ip.dst6, b, sizeof(b));
        g_string_append_printf(out, " ipv6 %s > %s", a, b);
        append_l4(out, pkt);
        break;
    case NWF_TRACE_L3_OTHER:
        break;
    }
    return g_string_free(out, FALSE);
}
