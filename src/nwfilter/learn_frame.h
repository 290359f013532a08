/* learn_frame: what one captured Ethernet frame tells IP address learning.
 * Pure decoding of untrusted bytes (a guest controls most of them): every
 * length is checked, nothing is trusted, a malformed frame decodes to
 * "nothing to learn". The engine (learn.c) decides what a decoded frame
 * means for a port. */
#pragma once

#include <glib.h>
#include <netinet/in.h>

/* DHCPv4 message types (option 53). */
enum {
    NWF_DHCP_DISCOVER = 1,
    NWF_DHCP_OFFER = 2,
    NWF_DHCP_REQUEST = 3,
    NWF_DHCP_DECLINE = 4,
    NWF_DHCP_ACK = 5,
    NWF_DHCP_NAK = 6,
    NWF_DHCP_RELEASE = 7,
    NWF_DHCP_INFORM = 8,
};

/* DHCPv6 message types. */
enum {
    NWF_DHCP6_SOLICIT = 1,
    NWF_DHCP6_ADVERTISE = 2,
    NWF_DHCP6_REQUEST = 3,
    NWF_DHCP6_RENEW = 5,
    NWF_DHCP6_REBIND = 6,
    NWF_DHCP6_REPLY = 7,
    NWF_DHCP6_RELEASE = 8,
    NWF_DHCP6_DECLINE = 9,
};

/* ICMPv6 neighbour discovery types. */
enum {
    NWF_ND_SOLICIT = 135,
    NWF_ND_ADVERT = 136,
};

/* Lease time meaning "never expires" (DHCPv4 option 51 / DHCPv6 lifetime). */
#define NWF_LEASE_INFINITE 0xffffffffu

/* IA_NA addresses kept from one DHCPv6 message; more are ignored. */
#define NWF_DHCP6_MAX_ADDRS 8

typedef struct {
    guint8 op;                  /* 1 BOOTREQUEST, 2 BOOTREPLY */
    guint8 type;                /* option 53 */
    guint32 xid;                /* host order */
    struct in_addr ciaddr, yiaddr, siaddr;
    guint8 chaddr[6];
    gboolean has_lease;
    guint32 lease_secs;         /* option 51 */
    gboolean has_requested;
    struct in_addr requested;   /* option 50 */
    gboolean has_server_id;
    struct in_addr server_id;   /* option 54 */
} NwfDhcpMsg;

typedef struct {
    struct in6_addr addr;
    guint32 valid_secs;         /* valid lifetime; 0 = withdrawn */
} NwfDhcp6Addr;

typedef struct {
    guint8 type;
    guint32 xid;                /* 24-bit transaction id */
    guint n_addrs;
    NwfDhcp6Addr addrs[NWF_DHCP6_MAX_ADDRS];
} NwfDhcp6Msg;

typedef struct {
    guint8 type;                /* NWF_ND_SOLICIT or NWF_ND_ADVERT */
    struct in6_addr target;
} NwfNdMsg;

typedef struct {
    guint8 src_mac[6], dst_mac[6];
    guint16 ethertype;          /* after at most one 802.1Q tag */
    gboolean vlan;              /* the frame carried an 802.1Q tag */

    gboolean ipv4;              /* a whole, unfragmented-enough IPv4 header */
    struct in_addr ip4_src, ip4_dst;
    gboolean ipv6;
    struct in6_addr ip6_src, ip6_dst;

    gboolean arp;               /* Ethernet/IPv4 ARP */
    guint16 arp_op;
    struct in_addr arp_sender_ip, arp_target_ip;

    gboolean dhcp;              /* a valid DHCPv4 message (UDP 67/68) */
    NwfDhcpMsg dhcp_msg;
    gboolean dhcp6;             /* a valid DHCPv6 message (UDP 546/547) */
    NwfDhcp6Msg dhcp6_msg;
    gboolean nd;                /* a neighbour solicitation or advertisement */
    NwfNdMsg nd_msg;
} NwfLearnFrame;

/* Decode the LEN bytes of FRAME (starting at the Ethernet header) into OUT.
 * FALSE when the frame is too short to carry an Ethernet header; every
 * upper layer that does not decode cleanly is simply left unset. */
gboolean nwf_learn_frame_decode(const guint8 *frame, gsize len, NwfLearnFrame *out);
