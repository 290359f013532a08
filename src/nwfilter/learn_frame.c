/* Frame decoding for IP address learning. Each layer gets a bounded view of
 * the bytes below it and bails out on the first inconsistency: a guest
 * writes these frames, so a length field is only believed when the bytes
 * are really there. */
#include "config.h"

#include <string.h>

#include "nwfilter/learn_frame.h"

#define ETH_HDR 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV6 0x86dd

#define IPPROTO_NR_UDP 17
#define IPPROTO_NR_ICMPV6 58

#define BOOTP_FIXED 236
#define DHCP_COOKIE 0x63825363u

/* A bounded view of the frame. */
typedef struct {
    const guint8 *p;
    gsize len;
} Bytes;

static guint16
get16(const guint8 *p)
{
    return (guint16)(p[0] << 8 | p[1]);
}

static guint32
get32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static gboolean
bytes_sub(Bytes in, gsize off, Bytes *out)
{
    if (off > in.len)
        return FALSE;
    out->p = in.p + off;
    out->len = in.len - off;
    return TRUE;
}

/* DHCPv4: the fixed BOOTP part, the magic cookie, then options. A repeated
 * option 51 or 53 makes the message invalid (a guest could otherwise hide
 * a second lease time behind the one a reader would see first). */
static gboolean
decode_dhcp(Bytes b, NwfDhcpMsg *msg)
{
    gboolean seen_type = FALSE, seen_lease = FALSE;
    gsize off = BOOTP_FIXED + 4;

    memset(msg, 0, sizeof(*msg));
    if (b.len < off || get32(b.p + BOOTP_FIXED) != DHCP_COOKIE)
        return FALSE;
    msg->op = b.p[0];
    if (msg->op != 1 && msg->op != 2)
        return FALSE;
    /* Only Ethernet hardware addresses identify a VM here. */
    if (b.p[1] != 1 || b.p[2] != 6)
        return FALSE;
    msg->xid = get32(b.p + 4);
    memcpy(&msg->ciaddr, b.p + 12, 4);
    memcpy(&msg->yiaddr, b.p + 16, 4);
    memcpy(&msg->siaddr, b.p + 20, 4);
    memcpy(msg->chaddr, b.p + 28, 6);

    while (off < b.len) {
        guint8 code = b.p[off], olen;
        const guint8 *val;

        if (code == 255)
            break;
        if (code == 0) {
            off++;
            continue;
        }
        if (off + 2 > b.len)
            return FALSE;
        olen = b.p[off + 1];
        if (off + 2 + olen > b.len)
            return FALSE;
        val = b.p + off + 2;
        switch (code) {
        case 53:
            if (seen_type || olen != 1)
                return FALSE;
            seen_type = TRUE;
            msg->type = val[0];
            break;
        case 51:
            if (seen_lease || olen != 4)
                return FALSE;
            seen_lease = TRUE;
            msg->has_lease = TRUE;
            msg->lease_secs = get32(val);
            break;
        case 50:
            if (olen == 4) {
                msg->has_requested = TRUE;
                memcpy(&msg->requested, val, 4);
            }
            break;
        case 54:
            if (olen == 4) {
                msg->has_server_id = TRUE;
                memcpy(&msg->server_id, val, 4);
            }
            break;
        default:
            break;
        }
        off += 2 + (gsize)olen;
    }
    return seen_type && msg->type >= NWF_DHCP_DISCOVER && msg->type <= NWF_DHCP_INFORM;
}

/* The IAADDR options of one IA_NA. An IA whose status is not Success
 * carries no usable address. */
static void
decode_dhcp6_ia_na(Bytes ia, NwfDhcp6Msg *msg)
{
    NwfDhcp6Msg found = { 0 };
    gsize off = 12;         /* IAID, T1, T2 */

    while (off + 4 <= ia.len) {
        guint16 code = get16(ia.p + off), olen = get16(ia.p + off + 2);
        const guint8 *val = ia.p + off + 4;

        if (off + 4 + olen > ia.len)
            return;
        if (code == 13 && (olen < 2 || get16(val) != 0))
            return;
        if (code == 5 && olen >= 24 && found.n_addrs < NWF_DHCP6_MAX_ADDRS) {
            NwfDhcp6Addr *addr = &found.addrs[found.n_addrs++];

            memcpy(&addr->addr, val, 16);
            addr->valid_secs = get32(val + 20);
        }
        off += 4 + (gsize)olen;
    }
    for (guint i = 0; i < found.n_addrs && msg->n_addrs < NWF_DHCP6_MAX_ADDRS; i++)
        msg->addrs[msg->n_addrs++] = found.addrs[i];
}

static gboolean
decode_dhcp6(Bytes b, NwfDhcp6Msg *msg)
{
    gsize off = 4;

    memset(msg, 0, sizeof(*msg));
    if (b.len < 4)
        return FALSE;
    msg->type = b.p[0];
    msg->xid = get32(b.p) & 0xffffff;
    if (msg->type < NWF_DHCP6_SOLICIT || msg->type > NWF_DHCP6_DECLINE)
        return FALSE;
    while (off + 4 <= b.len) {
        guint16 code = get16(b.p + off), olen = get16(b.p + off + 2);
        Bytes val = { b.p + off + 4, olen };

        if (off + 4 + olen > b.len)
            return FALSE;
        if (code == 3 && olen >= 12)
            decode_dhcp6_ia_na(val, msg);
        off += 4 + (gsize)olen;
    }
    return TRUE;
}

/* UDP: the DHCP ports of the IP version say what the payload is. */
static void
decode_udp(Bytes l4, gboolean ipv6, NwfLearnFrame *out)
{
    guint16 sport, dport, ulen;
    Bytes payload;

    if (l4.len < 8)
        return;
    sport = get16(l4.p);
    dport = get16(l4.p + 2);
    ulen = get16(l4.p + 4);
    if (ulen < 8 || ulen > l4.len)
        return;
    payload = (Bytes){ l4.p + 8, ulen - 8 };
    if (!ipv6 && ((sport == 67 && dport == 68) || (sport == 68 && dport == 67)))
        out->dhcp = decode_dhcp(payload, &out->dhcp_msg);
    else if (ipv6 && ((sport == 547 && dport == 546) || (sport == 546 && dport == 547)))
        out->dhcp6 = decode_dhcp6(payload, &out->dhcp6_msg);
}

static void
decode_ipv4(Bytes b, NwfLearnFrame *out)
{
    guint ihl, total;
    Bytes l4;

    if (b.len < 20 || (b.p[0] >> 4) != 4)
        return;
    ihl = (guint)(b.p[0] & 0x0f) * 4;
    total = get16(b.p + 2);
    if (ihl < 20 || total < ihl || total > b.len)
        return;
    out->ipv4 = TRUE;
    memcpy(&out->ip4_src, b.p + 12, 4);
    memcpy(&out->ip4_dst, b.p + 16, 4);
    /* Only a first fragment starts with the UDP header. */
    if ((get16(b.p + 6) & 0x1fff) != 0 || b.p[9] != IPPROTO_NR_UDP)
        return;
    l4 = (Bytes){ b.p + ihl, total - ihl };
    decode_udp(l4, FALSE, out);
}

static void
decode_arp(Bytes b, NwfLearnFrame *out)
{
    if (b.len < 28 || get16(b.p) != 1 || get16(b.p + 2) != ETHERTYPE_IPV4 ||
        b.p[4] != 6 || b.p[5] != 4)
        return;
    out->arp = TRUE;
    out->arp_op = get16(b.p + 6);
    memcpy(&out->arp_sender_ip, b.p + 14, 4);
    memcpy(&out->arp_target_ip, b.p + 24, 4);
}

static void
decode_icmp6(Bytes b, guint8 hop_limit, NwfLearnFrame *out)
{
    /* RFC 4861: ND messages that did not come from the link itself (hop
     * limit below 255) are invalid. */
    if (b.len < 24 || hop_limit != 255 || b.p[1] != 0)
        return;
    if (b.p[0] != NWF_ND_SOLICIT && b.p[0] != NWF_ND_ADVERT)
        return;
    out->nd = TRUE;
    out->nd_msg.type = b.p[0];
    memcpy(&out->nd_msg.target, b.p + 8, 16);
}

static void
decode_ipv6(Bytes b, NwfLearnFrame *out)
{
    guint8 next, hop_limit;
    guint plen;
    Bytes l4;

    if (b.len < 40 || (b.p[0] >> 4) != 6)
        return;
    plen = get16(b.p + 4);
    if (40 + plen > b.len)
        return;
    out->ipv6 = TRUE;
    next = b.p[6];
    hop_limit = b.p[7];
    memcpy(&out->ip6_src, b.p + 8, 16);
    memcpy(&out->ip6_dst, b.p + 24, 16);
    l4 = (Bytes){ b.p + 40, plen };
    /* Hop-by-hop, routing and destination options may precede the upper
     * layer; a fragment header ends the walk. */
    for (guint hops = 0; hops < 4 && (next == 0 || next == 43 || next == 60); hops++) {
        gsize ext;

        if (l4.len < 8)
            return;
        ext = ((gsize)l4.p[1] + 1) * 8;
        next = l4.p[0];
        if (!bytes_sub(l4, ext, &l4))
            return;
    }
    if (next == IPPROTO_NR_ICMPV6)
        decode_icmp6(l4, hop_limit, out);
    else if (next == IPPROTO_NR_UDP)
        decode_udp(l4, TRUE, out);
}

gboolean
nwf_learn_frame_decode(const guint8 *frame, gsize len, NwfLearnFrame *out)
{
    Bytes b = { frame, len };
    Bytes l3;

    memset(out, 0, sizeof(*out));
    if (len < ETH_HDR)
        return FALSE;
    memcpy(out->dst_mac, frame, 6);
    memcpy(out->src_mac, frame + 6, 6);
    out->ethertype = get16(frame + 12);
    if (!bytes_sub(b, ETH_HDR, &l3))
        return FALSE;
    if (out->ethertype == ETHERTYPE_VLAN) {
        if (l3.len < 4)
            return TRUE;
        out->vlan = TRUE;
        out->ethertype = get16(l3.p + 2);
        bytes_sub(l3, 4, &l3);
    }
    switch (out->ethertype) {
    case ETHERTYPE_IPV4:
        decode_ipv4(l3, out);
        break;
    case ETHERTYPE_IPV6:
        decode_ipv6(l3, out);
        break;
    case ETHERTYPE_ARP:
        decode_arp(l3, out);
        break;
    default:
        break;
    }
    return TRUE;
}
