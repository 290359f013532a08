/* A tiny assembler with forward labels, then the program itself. The
 * program is linear: classify the direction with the packet type the
 * kernel recorded, then test the few header fields that make a frame
 * interesting. Offsets assume an untagged Ethernet header (only the
 * 'any' IPv4 case accepts tagged frames, without looking further). */
#include "config.h"

#include <linux/if_packet.h>

#include "nwfilter/learn_bpf.h"

typedef enum {
    L_NEXT = -1,                /* fall through */
    L_ACCEPT,
    L_REJECT,
    L_FROM_VM,
    L_TO_VM,
    L_FROM_V4,
    L_FROM_V6,
    L_FROM_V6_ICMP,
    L_FROM_V6_UDP,
    L_TO_V4,
    L_TO_V6,
    L_TO_V6_ICMP,
    L_TO_V6_UDP,
    L_COUNT
} Label;

typedef struct {
    guint insn;
    gboolean false_branch;
    Label label;
} Fixup;

typedef struct {
    GArray *insns;              /* struct sock_filter */
    GArray *fixups;             /* Fixup */
    gint pos[L_COUNT];
} Asm;

static void
emit(Asm *a, guint16 code, guint32 k)
{
    struct sock_filter insn = { code, 0, 0, k };

    g_array_append_val(a->insns, insn);
}

static void
label(Asm *a, Label l)
{
    a->pos[l] = (gint)a->insns->len;
}

/* Conditional jump: to T when the test holds, else to F. */
static void
jump(Asm *a, guint16 op, guint32 k, Label t, Label f)
{
    Fixup fix = { a->insns->len, FALSE, t };

    emit(a, BPF_JMP | op | BPF_K, k);
    if (t != L_NEXT)
        g_array_append_val(a->fixups, fix);
    fix.false_branch = TRUE;
    fix.label = f;
    if (f != L_NEXT)
        g_array_append_val(a->fixups, fix);
}

static void
go(Asm *a, Label l)
{
    /* "ja" takes its offset in k; jeq 0,0 with both branches to L is the
     * same and keeps the fixup code to one kind of offset. */
    jump(a, BPF_JEQ, 0, l, l);
}

static void
ld(Asm *a, guint16 size, guint32 off)
{
    emit(a, BPF_LD | size | BPF_ABS, off);
}

static GArray *
finish(Asm *a)
{
    for (guint i = 0; i < a->fixups->len; i++) {
        const Fixup *fix = &g_array_index(a->fixups, Fixup, i);
        struct sock_filter *insn = &g_array_index(a->insns, struct sock_filter, fix->insn);
        gint off = a->pos[fix->label] - (gint)fix->insn - 1;

        g_assert(a->pos[fix->label] >= 0 && off >= 0 && off <= 255);
        if (fix->false_branch)
            insn->jf = (guint8)off;
        else
            insn->jt = (guint8)off;
    }
    g_array_unref(a->fixups);
    return a->insns;
}

/* UDP ports of an IPv4 packet whose header length is variable: reject
 * non-first fragments, load the header length into X, test the ports. */
static void
emit_udp4_ports(Asm *a, gint sport, guint dport)
{
    ld(a, BPF_B, 23);
    jump(a, BPF_JEQ, 17, L_NEXT, L_REJECT);
    ld(a, BPF_H, 20);
    jump(a, BPF_JSET, 0x1fff, L_REJECT, L_NEXT);
    emit(a, BPF_LDX | BPF_B | BPF_MSH, 14);
    if (sport >= 0) {
        emit(a, BPF_LD | BPF_H | BPF_IND, 14);
        jump(a, BPF_JEQ, (guint32)sport, L_NEXT, L_REJECT);
    }
    emit(a, BPF_LD | BPF_H | BPF_IND, 16);
    jump(a, BPF_JEQ, dport, L_ACCEPT, L_REJECT);
}

/* IPv6 without extension headers: ICMPv6 types at 54, UDP ports at 54/56. */
static void
emit_ipv6(Asm *a, Label icmp, Label udp, guint icmp_type1, guint icmp_type2,
          gint sport, guint dport)
{
    ld(a, BPF_B, 20);
    jump(a, BPF_JEQ, 58, icmp, L_NEXT);
    jump(a, BPF_JEQ, 17, udp, L_REJECT);
    label(a, icmp);
    ld(a, BPF_B, 54);
    jump(a, BPF_JEQ, icmp_type1, L_ACCEPT, L_NEXT);
    jump(a, BPF_JEQ, icmp_type2, L_ACCEPT, L_REJECT);
    label(a, udp);
    if (sport >= 0) {
        ld(a, BPF_H, 54);
        jump(a, BPF_JEQ, (guint32)sport, L_NEXT, L_REJECT);
    }
    ld(a, BPF_H, 56);
    jump(a, BPF_JEQ, dport, L_ACCEPT, L_REJECT);
}

GArray *
nwf_learn_bpf_build(const NwfLearnBpfSpec *spec)
{
    const guint8 *m = spec->mac;
    gboolean v4 = spec->ipv4_any || spec->ipv4_dhcp;
    Asm a = {
        g_array_new(FALSE, TRUE, sizeof(struct sock_filter)),
        g_array_new(FALSE, TRUE, sizeof(Fixup)),
        { 0 },
    };

    for (guint i = 0; i < L_COUNT; i++)
        a.pos[i] = -1;
    if (!v4 && !spec->ipv6) {
        emit(&a, BPF_RET | BPF_K, 0);
        return finish(&a);
    }

    ld(&a, BPF_W, (guint32)(SKF_AD_OFF + SKF_AD_PKTTYPE));
    if (spec->on_linkdev)
        jump(&a, BPF_JEQ, PACKET_OUTGOING, L_FROM_VM, L_TO_VM);
    else
        jump(&a, BPF_JEQ, PACKET_OUTGOING, L_TO_VM, L_FROM_VM);

    /* From the VM: only frames with its own source MAC. */
    label(&a, L_FROM_VM);
    ld(&a, BPF_W, 6);
    jump(&a, BPF_JEQ, (guint32)m[0] << 24 | (guint32)m[1] << 16 | (guint32)m[2] << 8 | m[3],
         L_NEXT, L_REJECT);
    ld(&a, BPF_H, 10);
    jump(&a, BPF_JEQ, (guint32)m[4] << 8 | m[5], L_NEXT, L_REJECT);
    ld(&a, BPF_H, 12);
    if (spec->ipv4_any) {
        jump(&a, BPF_JEQ, 0x0800, L_ACCEPT, L_NEXT);
        jump(&a, BPF_JEQ, 0x8100, L_ACCEPT, L_NEXT);
    } else if (spec->ipv4_dhcp) {
        jump(&a, BPF_JEQ, 0x0800, L_FROM_V4, L_NEXT);
    }
    if (spec->ipv6)
        jump(&a, BPF_JEQ, 0x86dd, L_FROM_V6, L_REJECT);
    else
        go(&a, L_REJECT);
    if (spec->ipv4_dhcp && !spec->ipv4_any) {
        label(&a, L_FROM_V4);
        emit_udp4_ports(&a, 68, 67);
    }
    if (spec->ipv6) {
        label(&a, L_FROM_V6);
        /* DAD solicitations (135) and DHCPv6 client messages to 547. */
        emit_ipv6(&a, L_FROM_V6_ICMP, L_FROM_V6_UDP, 135, 135, -1, 547);
    }

    /* To the VM: DHCP(v6) replies and neighbour messages. */
    label(&a, L_TO_VM);
    ld(&a, BPF_H, 12);
    if (v4)
        jump(&a, BPF_JEQ, 0x0800, L_TO_V4, L_NEXT);
    if (spec->ipv6)
        jump(&a, BPF_JEQ, 0x86dd, L_TO_V6, L_REJECT);
    else
        go(&a, L_REJECT);
    if (v4) {
        label(&a, L_TO_V4);
        emit_udp4_ports(&a, 67, 68);
    }
    if (spec->ipv6) {
        label(&a, L_TO_V6);
        emit_ipv6(&a, L_TO_V6_ICMP, L_TO_V6_UDP, 135, 136, 547, 546);
    }

    label(&a, L_ACCEPT);
    emit(&a, BPF_RET | BPF_K, NWF_LEARN_SNAPLEN);
    label(&a, L_REJECT);
    emit(&a, BPF_RET | BPF_K, 0);
    return finish(&a);
}
