/* The packet a trace evaluates: one Ethernet frame, its headers decoded the
 * way the kernel's matches read them. A frame comes either from hex digits
 * (--frame) or from a word description ("ether src ... ip dst ... tcp dport
 * 22"), which is first built into real frame bytes so both paths share one
 * decoder. */
#pragma once

#include <glib.h>
#include <netinet/in.h>

#define NWF_TRACE_ETHERTYPE_IPV4 0x0800
#define NWF_TRACE_ETHERTYPE_ARP 0x0806
#define NWF_TRACE_ETHERTYPE_RARP 0x8035
#define NWF_TRACE_ETHERTYPE_VLAN 0x8100
#define NWF_TRACE_ETHERTYPE_IPV6 0x86dd

typedef enum {
    NWF_TRACE_L3_OTHER,    /* unknown ethertype or an 802.3 frame */
    NWF_TRACE_L3_ARP,      /* ARP or RARP (see ethertype) */
    NWF_TRACE_L3_IPV4,
    NWF_TRACE_L3_IPV6,
} NwfTraceL3;

typedef struct {
    GBytes *frame;             /* the whole frame, from the destination MAC on */
    guint8 dst[6];
    guint8 src[6];
    /* What ebtables' -p compares: 0x8100 for a tagged frame, else the
     * type/length field. */
    guint16 ethertype;
    gboolean vlan;
    guint16 vlan_id;
    guint16 inner_type;        /* the ethertype after the tag (== ethertype untagged) */
    gsize l3_offset;           /* offset of the payload after the (tagged) header */
    NwfTraceL3 l3;             /* decoded from inner_type */
    /* Untagged IPv4/IPv6 whose header fails the checks br_netfilter makes
     * before the IP layer (version, header and total length): a host that
     * passes bridged traffic to iptables drops it before any rule. */
    gboolean ip_malformed;

    struct {
        guint16 htype, ptype, op;
        guint8 hlen, plen;
        gboolean complete;     /* the addresses fit in the frame */
        guint8 sha[6], tha[6]; /* valid when hlen == 6 */
        guint8 spa[4], tpa[4]; /* valid when plen == 4 */
    } arp;

    struct {
        guint8 tos;            /* IPv4 TOS byte, IPv6 traffic class */
        /* ebtables' view: the header after IPv6 extension headers; for a
         * later IPv6 fragment that is the fragment header (44) */
        guint8 proto;
        guint8 upper_proto;    /* ip6tables' view: the protocol even in later fragments */
        gboolean proto_found;  /* FALSE when the IPv6 header chain is cut short */
        gboolean fragment;     /* not the first fragment: no L4 header to match */
        struct in_addr src4, dst4;
        struct in6_addr src6, dst6;
        gsize l4_offset;
    } ip;

    struct {
        gboolean have_ports;   /* 4 bytes of L4 header present (read as ports) */
        guint16 sport, dport;
        gboolean have_tcp;     /* a complete TCP header */
        guint8 tcp_flags;
        guint8 tcp_options[40];
        guint tcp_options_len;
        gboolean have_icmp;
        guint8 icmp_type, icmp_code;
    } l4;
} NwfTracePacket;

/* Decode FRAME (at least 14 bytes). Short or odd headers are kept as far
 * as they go; matches that need a missing part do not match. */
NwfTracePacket *nwf_trace_packet_decode(GBytes *frame, GError **error);
void nwf_trace_packet_free(NwfTracePacket *packet);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfTracePacket, nwf_trace_packet_free)

/* Hex digits (whitespace and ':' ignored) to frame bytes. */
GBytes *nwf_trace_frame_from_hex(const char *hex, GError **error);

/* MACs a description leaves out: the source and destination default to
 * these (e.g. the port's MAC on the VM's side). */
typedef struct {
    guint8 src[6];
    guint8 dst[6];
} NwfTraceFrameDefaults;

/* Build a frame from a word description (see cmd_trace for the grammar).
 * Errors are NWF_ERR_INVALID_ARG with the offending word. */
GBytes *nwf_trace_frame_build(char **words, const NwfTraceFrameDefaults *defaults,
                              GError **error);

/* One line summary: "52:54:00:00:00:01 > ff:..:ff ipv4 10.0.0.9 > 10.0.0.1 tcp 40000 > 22 [S]". */
char *nwf_trace_packet_describe(const NwfTracePacket *packet);
