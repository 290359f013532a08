/* The snooping BPF programs, run by a small classic-BPF interpreter (the
 * instructions learn_bpf.c emits, with the kernel's semantics: a load past
 * the end of the frame rejects it) over the frame vectors of
 * tests/learn/frames, in both directions. No socket, no root. */
#include "config.h"

#include <linux/if_packet.h>
#include <string.h>

#include "nwfilter/learn_bpf.h"

static const guint8 VM_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static gboolean
load(const guint8 *pkt, gsize len, guint32 off, guint size, guint32 *out)
{
    if ((gsize)off + size > len)
        return FALSE;
    *out = 0;
    for (guint i = 0; i < size; i++)
        *out = *out << 8 | pkt[off + i];
    return TRUE;
}

/* The accepted length, 0 for a rejected frame. */
static guint32
run(GArray *prog, const guint8 *pkt, gsize len, guint32 pkttype)
{
    guint32 a = 0, x = 0;

    for (guint pc = 0; pc < prog->len; pc++) {
        const struct sock_filter *in = &g_array_index(prog, struct sock_filter, pc);
        guint size = BPF_SIZE(in->code) == BPF_W ? 4 : BPF_SIZE(in->code) == BPF_H ? 2 : 1;

        switch (BPF_CLASS(in->code)) {
        case BPF_LD:
            if (BPF_MODE(in->code) == BPF_ABS && in->k == (guint32)(SKF_AD_OFF + SKF_AD_PKTTYPE))
                a = pkttype;
            else if (!load(pkt, len, BPF_MODE(in->code) == BPF_IND ? in->k + x : in->k, size, &a))
                return 0;
            break;
        case BPF_LDX:
            g_assert_cmpint(BPF_MODE(in->code), ==, BPF_MSH);
            if (in->k >= len)
                return 0;
            x = (guint32)(pkt[in->k] & 0x0f) * 4;
            break;
        case BPF_JMP: {
            gboolean hit = BPF_OP(in->code) == BPF_JEQ ? a == in->k : (a & in->k) != 0;

            g_assert_true(BPF_OP(in->code) == BPF_JEQ || BPF_OP(in->code) == BPF_JSET);
            pc += hit ? in->jt : in->jf;
            break;
        }
        case BPF_RET:
            return in->k;
        default:
            g_assert_not_reached();
        }
    }
    g_assert_not_reached();
}

typedef enum { ANY4 = 1, DHCP4 = 2, V6 = 4, LINKDEV = 8 } Spec;

typedef struct {
    const char *frame;
    Spec spec;
    guint32 pkttype;            /* PACKET_HOST (from the VM on a port) or PACKET_OUTGOING */
    gboolean accept;
} BpfCase;

static const BpfCase cases[] = {
    /* 'any': every IPv4 frame from the VM, DHCP replies to it. */
    { "ipv4-udp", ANY4, PACKET_HOST, TRUE },
    { "ipv4-vlan", ANY4, PACKET_HOST, TRUE },
    { "arp-request", ANY4, PACKET_HOST, FALSE },
    { "dhcp-ack", ANY4, PACKET_OUTGOING, TRUE },
    { "dhcp-ack", ANY4, PACKET_HOST, FALSE },        /* a reply sent by the guest */
    { "dhcp-fragment", ANY4, PACKET_OUTGOING, FALSE },
    { "nd-dad", ANY4, PACKET_HOST, FALSE },
    { "ipv4-udp", ANY4, PACKET_OUTGOING, FALSE },
    /* 'dhcp': client messages from the VM, replies to it. */
    { "dhcp-discover", DHCP4, PACKET_HOST, TRUE },
    { "dhcp-release", DHCP4, PACKET_HOST, TRUE },
    { "dhcp-decline", DHCP4, PACKET_HOST, TRUE },
    { "ipv4-udp", DHCP4, PACKET_HOST, FALSE },
    { "dhcp-ack", DHCP4, PACKET_OUTGOING, TRUE },
    { "dhcp-offer-broadcast", DHCP4, PACKET_OUTGOING, TRUE },
    { "dhcp-nak", DHCP4, PACKET_OUTGOING, TRUE },
    { "dhcp-discover", DHCP4, PACKET_OUTGOING, FALSE },
    /* IPv6: DAD and DHCPv6 from the VM; NA/NS and DHCPv6 replies to it. */
    { "nd-dad", V6, PACKET_HOST, TRUE },
    { "nd-dad", V6, PACKET_OUTGOING, TRUE },         /* a competing probe */
    { "nd-advert", V6, PACKET_OUTGOING, TRUE },
    { "dhcp6-reply", V6, PACKET_OUTGOING, TRUE },
    { "dhcp6-release", V6, PACKET_HOST, TRUE },
    { "dhcp6-reply", V6, PACKET_HOST, FALSE },
    { "ipv4-udp", V6, PACKET_HOST, FALSE },
    { "dhcp-ack", V6, PACKET_OUTGOING, FALSE },
    /* Extension headers are not followed in BPF (the guest's DAD probes
     * carry none; MLD reports, which do, are not needed). */
    { "nd-hopbyhop", V6, PACKET_HOST, FALSE },
    { "nd-dad", ANY4 | V6, PACKET_HOST, TRUE },
    { "ipv4-udp", ANY4 | V6, PACKET_HOST, TRUE },
    /* On the link device the directions swap. */
    { "ipv4-udp", ANY4 | LINKDEV, PACKET_OUTGOING, TRUE },
    { "ipv4-udp", ANY4 | LINKDEV, PACKET_HOST, FALSE },
    { "dhcp-ack", ANY4 | LINKDEV, PACKET_HOST, TRUE },
    /* Nothing asked for: nothing passes. */
    { "ipv4-udp", 0, PACKET_HOST, FALSE },
    { "dhcp-ack", 0, PACKET_OUTGOING, FALSE },
    /* Truncated frames never read past their end. */
    { "ipv4-truncated", ANY4, PACKET_HOST, TRUE },
    { "ethernet-short", ANY4 | V6, PACKET_HOST, FALSE },
};

static GByteArray *
read_frame(const char *name)
{
    const char *src = g_getenv("NWF_SOURCE_ROOT");
    g_autofree char *file = g_strconcat(name, ".hex", NULL);
    g_autofree char *path = g_build_filename(src ? src : ".", "tests", "learn", "frames", file, NULL);
    g_autofree char *hex = NULL;
    GByteArray *bytes = g_byte_array_new();

    g_assert_true(g_file_get_contents(path, &hex, NULL, NULL));
    g_strstrip(hex);
    for (gsize i = 0; hex[i] && hex[i + 1]; i += 2) {
        guint8 b = (guint8)(g_ascii_xdigit_value(hex[i]) << 4 | g_ascii_xdigit_value(hex[i + 1]));
        g_byte_array_append(bytes, &b, 1);
    }
    return bytes;
}

static void
test_case(gconstpointer data)
{
    const BpfCase *c = data;
    NwfLearnBpfSpec spec = {
        .on_linkdev = (c->spec & LINKDEV) != 0,
        .ipv4_any = (c->spec & ANY4) != 0,
        .ipv4_dhcp = (c->spec & DHCP4) != 0,
        .ipv6 = (c->spec & V6) != 0,
    };
    g_autoptr(GArray) prog = NULL;
    g_autoptr(GByteArray) frame = read_frame(c->frame);
    guint32 verdict;

    memcpy(spec.mac, VM_MAC, 6);
    prog = nwf_learn_bpf_build(&spec);
    g_assert_cmpuint(prog->len, >, 0);
    g_assert_cmpuint(prog->len, <=, BPF_MAXINSNS);
    verdict = run(prog, frame->data, frame->len, c->pkttype);
    if (c->accept)
        g_assert_cmpuint(verdict, ==, NWF_LEARN_SNAPLEN);
    else
        g_assert_cmpuint(verdict, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const BpfCase *c = &cases[i];
        g_autofree char *path = g_strdup_printf(
            "/learn/bpf/%02u-%s-%s%s%s%s-%s", i, c->frame, c->spec & ANY4 ? "any" : "",
            c->spec & DHCP4 ? "dhcp" : "", c->spec & V6 ? "v6" : "", c->spec & LINKDEV ? "-linkdev" : "",
            c->pkttype == PACKET_OUTGOING ? "outgoing" : "incoming");

        g_test_add_data_func(path, c, test_case);
    }
    return g_test_run();
}
