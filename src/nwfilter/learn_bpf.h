/* learn_bpf: the classic BPF program a port's snooping socket carries, so
 * the kernel hands the daemon only frames that can teach an address (or,
 * for DAD, reveal a conflict) and drops everything else before it costs a
 * wake-up. */
#pragma once

#include <glib.h>
#include <linux/filter.h>

typedef struct {
    guint8 mac[6];              /* the VM's MAC */
    /* The socket is bound to the link device (macvtap's lower device):
     * there the VM's frames leave the host, so "outgoing" means "from the
     * VM", the opposite of a tap/veth port. */
    gboolean on_linkdev;
    gboolean ipv4_any;          /* every IPv4 frame from the VM (8021Q too),
                                 * and DHCP replies to it */
    gboolean ipv4_dhcp;         /* DHCP client messages from the VM, DHCP
                                 * replies to it */
    gboolean ipv6;              /* NS and DHCPv6 client messages from the VM;
                                 * NS, NA and DHCPv6 replies to it */
} NwfLearnBpfSpec;

/* Bytes of a frame a match passes on (DHCP and DHCPv6 fit). */
#define NWF_LEARN_SNAPLEN 2048

/* The program for SPEC (struct sock_filter). Accepts nothing when SPEC
 * asks for nothing. */
GArray *nwf_learn_bpf_build(const NwfLearnBpfSpec *spec);
