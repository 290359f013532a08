/* Packet descriptions and hex frames: what they decode to, and which inputs
 * are refused (the tool exits 2 on those). One case per table row. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "nwfilter/trace_packet.h"
#include "util/nwf_error.h"

static const NwfTraceFrameDefaults defaults = {
    .src = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 },
    .dst = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
};

typedef struct {
    const char *words;
    const char *described;         /* nwf_trace_packet_describe() of the built frame */
} ValidCase;

static const ValidCase valid_cases[] = {
    { "ether", "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x88b5" },
    { "ether src 52:54:0:0:0:9 dst ff:ff:ff:ff:ff:ff type 0x1234",
      "52:54:00:00:00:09 > ff:ff:ff:ff:ff:ff type 0x1234" },
    { "arp request psrc 10.0.0.9 pdst 10.0.0.1",
      "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0806 arp op 1 10.0.0.9 > 10.0.0.1" },
    { "rarp reply", "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x8035 rarp op 4 0.0.0.0 > 0.0.0.0" },
    { "arp op 9", "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0806 arp op 9 0.0.0.0 > 0.0.0.0" },
    { "ip src 10.0.0.9 dst 10.0.0.1 tcp sport 40000 dport 22 flags SA",
      "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0800 ipv4 10.0.0.9 > 10.0.0.1 tcp 40000 > 22 [SA]" },
    { "ip tcp", "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0800 ipv4 0.0.0.0 > 0.0.0.0 tcp 0 > 0 [S]" },
    { "ip tcp flags 0", "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0800 ipv4 0.0.0.0 > 0.0.0.0 tcp 0 > 0 []" },
    { "ip udp sport 68 dport 67",
      "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0800 ipv4 0.0.0.0 > 0.0.0.0 udp 68 > 67" },
    { "ip icmp type 3 code 1",
      "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0800 ipv4 0.0.0.0 > 0.0.0.0 icmp type 3 code 1" },
    { "ip proto 47", "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x0800 ipv4 0.0.0.0 > 0.0.0.0 proto 47" },
    { "ip6 src fd00::2 dst ff02::1 icmp6 type 135",
      "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x86dd ipv6 fd00::2 > ff02::1 icmpv6 type 135 code 0" },
    { "ip6 sctp dport 9", "52:54:00:00:00:01 > 02:00:00:00:00:01 type 0x86dd ipv6 :: > :: sctp 0 > 9" },
    { "vlan id 7 ip", "52:54:00:00:00:01 > 02:00:00:00:00:01 vlan 7 type 0x0800" },
    { "stp", "52:54:00:00:00:01 > 01:80:c2:00:00:00 type 0x0026" },
    { "ether dst ff:ff:ff:ff:ff:ff payload 00:11:22",
      "52:54:00:00:00:01 > ff:ff:ff:ff:ff:ff type 0x88b5" },
};

static void
test_valid(gconstpointer data)
{
    const ValidCase *c = data;
    g_auto(GStrv) words = g_strsplit(c->words, " ", -1);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) frame = nwf_trace_frame_build(words, &defaults, &error);
    g_autoptr(NwfTracePacket) packet = NULL;
    g_autofree char *text = NULL;

    g_assert_no_error(error);
    packet = nwf_trace_packet_decode(frame, &error);
    g_assert_no_error(error);
    text = nwf_trace_packet_describe(packet);
    g_assert_cmpstr(text, ==, c->described);
}

typedef struct {
    const char *words;
    const char *message;           /* part of the error message */
} InvalidCase;

static const InvalidCase invalid_cases[] = {
    { "", "no packet given" },
    { "tcp dport 22", "unexpected word at 'tcp'" },
    { "ip src 300.1.1.1", "expected an IPv4 address at '300.1.1.1'" },
    { "ip src", "missing value" },
    { "ip tcp dport 70000", "number out of range at '70000'" },
    { "ip tcp dport -1", "expected a number at '-1'" },
    { "ip tcp dport 22x", "expected a number at '22x'" },
    { "vlan id 5000", "VLAN id above 4095" },
    { "ether src zz:54:00:00:00:01", "expected a MAC address" },
    { "ether src 52:54:00:00:00", "expected a MAC address" },
    { "ip6 icmp", "this protocol needs 'ip'" },
    { "ip icmp6", "icmp6 needs 'ip6'" },
    { "ip6 src 10.0.0.1", "expected an IPv6 address" },
    { "foo", "unexpected word at 'foo'" },
    { "arp op x", "expected a number at 'x'" },
    { "ip tcp flags Z", "expected TCP flag letters" },
    { "ip udp flags S", "unexpected word at 'flags'" },
    { "ip dscp 64", "DSCP above 63" },
    { "payload 0g", "expected hex digits" },
    { "ip udp dport 1 tcp", "unexpected word at 'tcp'" },
};

static void
test_invalid(gconstpointer data)
{
    const InvalidCase *c = data;
    g_auto(GStrv) words = *c->words ? g_strsplit(c->words, " ", -1) : g_new0(char *, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) frame = nwf_trace_frame_build(words, &defaults, &error);

    g_assert_null(frame);
    g_assert_error(error, NWF_ERROR, NWF_ERR_INVALID_ARG);
    if (!strstr(error->message, c->message))
        g_error("'%s' gave '%s', expected '%s'", c->words, error->message, c->message);
}

/* A frame as hex decodes its real headers; separators are allowed. */
static void
test_hex_frame(void)
{
    /* VLAN 100 tagged IPv4 UDP 10.1.1.1:1234 -> 10.1.1.2:53 */
    const char *hex =
        "ff:ff:ff:ff:ff:ff 52:54:00:aa:bb:cc 8100 0064 0800"
        "4500 001c 0000 0000 4011 0000 0a010101 0a010102"
        "04d2 0035 0008 0000";
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) frame = nwf_trace_frame_from_hex(hex, &error);
    g_autoptr(NwfTracePacket) packet = NULL;

    g_assert_no_error(error);
    packet = nwf_trace_packet_decode(frame, &error);
    g_assert_no_error(error);
    g_assert_true(packet->vlan);
    g_assert_cmpuint(packet->vlan_id, ==, 100);
    g_assert_cmphex(packet->ethertype, ==, 0x8100);
    g_assert_cmphex(packet->inner_type, ==, 0x0800);
    /* tagged: neither the IP matches nor iptables look inside */
    g_assert_cmpint(packet->l3, ==, NWF_TRACE_L3_OTHER);
}

static void
test_hex_ipv6_ext(void)
{
    /* IPv6, hop-by-hop header, then TCP 1000 -> 22 SYN */
    const char *hex =
        "020000000001 525400000001 86dd"
        "60000000 0020 00 40 fd000000000000000000000000000002 fd000000000000000000000000000001"
        "06 00 0000 00000000"
        "03e8 0016 00000001 00000000 5002 ffff 0000 0000";
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) frame = nwf_trace_frame_from_hex(hex, &error);
    g_autoptr(NwfTracePacket) packet = nwf_trace_packet_decode(frame, &error);

    g_assert_no_error(error);
    g_assert_cmpint(packet->l3, ==, NWF_TRACE_L3_IPV6);
    g_assert_cmpuint(packet->ip.proto, ==, 6);
    g_assert_cmpuint(packet->l4.dport, ==, 22);
    g_assert_cmphex(packet->l4.tcp_flags, ==, 0x02);
}

static void
test_hex_errors(void)
{
    g_autoptr(GError) odd = NULL;
    g_autoptr(GError) bad = NULL;
    g_autoptr(GError) shortf = NULL;
    g_autoptr(GBytes) frame = NULL;

    g_assert_null(nwf_trace_frame_from_hex("abc", &odd));
    g_assert_error(odd, NWF_ERROR, NWF_ERR_INVALID_ARG);
    g_assert_null(nwf_trace_frame_from_hex("0x12", &bad));
    g_assert_error(bad, NWF_ERROR, NWF_ERR_INVALID_ARG);
    frame = nwf_trace_frame_from_hex("0011223344", NULL);
    g_assert_null(nwf_trace_packet_decode(frame, &shortf));
    g_assert_error(shortf, NWF_ERROR, NWF_ERR_INVALID_ARG);
}

/* Headers br_netfilter refuses are flagged; valid ones are not. */
static void
test_malformed(void)
{
    static const struct {
        const char *words;
        gboolean malformed;
    } rows[] = {
        { "ip tcp", FALSE },
        { "ip6 udp", FALSE },
        { "ether type 0x0800 payload 4500001c", TRUE },           /* cut short */
        { "ether type 0x0800 payload 46000014000000004011000000000000000000000000", TRUE },
        { "ether type 0x86dd payload 60000000", TRUE },
        { "ether type 0x0800 vlan id 1 payload 45", FALSE },       /* tagged: not IP to iptables */
        { "ip udp payload 00", FALSE },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_auto(GStrv) words = g_strsplit(rows[i].words, " ", -1);
        g_autoptr(GBytes) frame = NULL;
        g_autoptr(NwfTracePacket) packet = NULL;
        frame = nwf_trace_frame_build(words, &defaults, NULL);
        g_assert_nonnull(frame);
        packet = nwf_trace_packet_decode(frame, NULL);
        if (packet->ip_malformed != rows[i].malformed)
            g_error("'%s': malformed=%d", rows[i].words, packet->ip_malformed);
    }
}

/* Built frames carry valid checksums, so they could be replayed. */
static void
test_checksums(void)
{
    g_auto(GStrv) words = g_strsplit("ip src 10.0.0.9 dst 10.0.0.1 udp sport 5 dport 6 payload 0102", " ", -1);
    g_autoptr(GBytes) frame = nwf_trace_frame_build(words, &defaults, NULL);
    gsize len;
    const guint8 *d = g_bytes_get_data(frame, &len);
    guint32 sum = 0;

    g_assert_cmpuint(len, ==, 14 + 20 + 8 + 2);
    for (guint i = 14; i < 34; i += 2)
        sum += (guint32)((d[i] << 8) | d[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    g_assert_cmphex(sum, ==, 0xffff);
    /* UDP over the pseudo header */
    sum = 0;
    for (guint i = 26; i < 34; i += 2)
        sum += (guint32)((d[i] << 8) | d[i + 1]);
    sum += 17 + 10;
    for (guint i = 34; i < len; i += 2)
        sum += (guint32)((d[i] << 8) | (i + 1 < len ? d[i + 1] : 0));
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    g_assert_cmphex(sum, ==, 0xffff);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(valid_cases); i++) {
        g_autofree char *path = g_strdup_printf("/trace/packet/valid/%u", i);
        g_test_add_data_func(path, &valid_cases[i], test_valid);
    }
    for (guint i = 0; i < G_N_ELEMENTS(invalid_cases); i++) {
        g_autofree char *path = g_strdup_printf("/trace/packet/invalid/%u", i);
        g_test_add_data_func(path, &invalid_cases[i], test_invalid);
    }
    g_test_add_func("/trace/packet/hex-vlan", test_hex_frame);
    g_test_add_func("/trace/packet/hex-ipv6-ext", test_hex_ipv6_ext);
    g_test_add_func("/trace/packet/hex-errors", test_hex_errors);
    g_test_add_func("/trace/packet/checksums", test_checksums);
    g_test_add_func("/trace/packet/malformed", test_malformed);
    return g_test_run();
}
