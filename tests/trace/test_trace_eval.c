/* The trace evaluator against hand-built rule programs: one case per row of
 * the table below. A row lists rules, a packet and the expected verdict.
 *
 * Rule syntax, ';' between rules:
 *   WHERE PROTOCOL ACTION [prio=N] [ATTR=VALUE | !ATTR=VALUE]... [ct=S,S] [ctdir=original|reply]
 * WHERE: out / in (ethernet root chain of that direction), out:SUFFIX /
 * in:SUFFIX (sub-chain, kind from the suffix prefix, created on first use),
 * fi fo hi (IPv4 FROM_VM, TO_VM, TO_HOST), fi6 fo6 hi6 (IPv6).
 * PROTOCOL: a protocol element name, or 'none'. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "nwfilter/trace.h"

typedef struct {
    const char *name;
    const char *rules;
    const char *packet;            /* trace word description */
    gboolean out;                  /* packet direction: sent by the VM */
    const char *state;             /* conntrack state, NULL: new */
    NwfTraceVerdict want;
    int want_prio;                 /* priority of the deciding rule; INT_MIN: a chain end */
    gboolean ebiptables;           /* the ebiptables backend's semantics (default nft) */
} EvalCase;

#define END INT_MIN
#define M1 "52:54:00:00:00:01"
#define M2 "52:54:00:00:00:02"

static const EvalCase cases[] = {
    /* --- ethernet layer: fields ------------------------------------- */
    { "empty-program", "", "ip src 10.0.0.1 dst 10.0.0.2", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "root-drop-all", "out none drop prio=7", "arp", TRUE, NULL, NWF_TRACE_DROP, 7, FALSE },
    { "root-reject-is-drop", "out none reject prio=7", "arp", TRUE, NULL, NWF_TRACE_DROP, 7, FALSE },
    { "other-direction-untouched", "out none drop", "arp", FALSE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "mac-src-hit", "out mac drop prio=3 srcmacaddr=" M1, "ether src " M1, TRUE, NULL,
      NWF_TRACE_DROP, 3, FALSE },
    { "mac-src-miss", "out mac drop srcmacaddr=" M1, "ether src " M2, TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "mac-src-negated-hit", "out mac drop prio=4 !srcmacaddr=" M1, "ether src " M2, TRUE, NULL,
      NWF_TRACE_DROP, 4, FALSE },
    { "mac-src-negated-miss", "out mac drop !srcmacaddr=" M1, "ether src " M1, TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "mac-mask-hit", "out mac drop srcmacaddr=52:54:00:00:00:00 srcmacmask=ff:ff:ff:00:00:00",
      "ether src 52:54:00:12:34:56", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "mac-mask-miss", "out mac drop srcmacaddr=52:54:00:00:00:00 srcmacmask=ff:ff:ff:00:00:00",
      "ether src 52:55:00:12:34:56", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "mac-dst", "in mac drop dstmacaddr=ff:ff:ff:ff:ff:ff", "ether dst ff:ff:ff:ff:ff:ff",
      FALSE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "protocolid-accept-before-drop", "out mac accept prio=1 protocolid=ipv4; out none drop prio=2",
      "ip", TRUE, NULL, NWF_TRACE_ACCEPT, 1, FALSE },
    { "protocolid-other-dropped", "out mac accept prio=1 protocolid=ipv4; out none drop prio=2",
      "arp", TRUE, NULL, NWF_TRACE_DROP, 2, FALSE },
    { "protocolid-negated", "out mac drop !protocolid=arp", "ip", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "protocolid-sees-vlan-tag", "out mac drop protocolid=ipv4", "vlan id 5 ip", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "vlan-id-hit", "out vlan drop vlanid=10", "vlan id 10 ip", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "vlan-id-miss", "out vlan drop vlanid=10", "vlan id 11 ip", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "vlan-untagged", "out vlan drop", "ip", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "vlan-encap", "out vlan drop encap-protocol=arp", "vlan id 3 arp", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "vlan-id-negated", "out vlan drop !vlanid=10", "vlan id 11", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "arp-opcode", "out arp drop opcode=Reply", "arp reply", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "arp-opcode-miss", "out arp drop opcode=Reply", "arp request", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "arp-src-ip-mask", "out arp drop arpsrcipaddr=10.0.0.0 arpsrcipmask=24",
      "arp psrc 10.0.0.77", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "arp-src-ip-mask-miss", "out arp drop arpsrcipaddr=10.0.0.0 arpsrcipmask=24",
      "arp psrc 10.0.1.77", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "arp-dst-ip-default-32", "out arp drop arpsrcipaddr=10.0.0.0 arpsrcipmask=8 "
      "arpdstipaddr=10.0.0.0", "arp psrc 10.1.1.1 pdst 10.0.0.1", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "arp-ip-negated", "out arp drop !arpsrcipaddr=10.0.0.9", "arp psrc 10.0.0.8", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "arp-ip-needs-ipv4-ptype", "out arp drop !arpsrcipaddr=10.0.0.9",
      "arp ptype 0x86dd psrc 10.0.0.8", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "arp-mac-src", "out arp drop arpsrcmacaddr=" M2, "arp hwsrc " M2, TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "arp-mac-needs-ethernet-htype", "out arp drop !arpsrcmacaddr=" M2, "arp htype 6 hwsrc " M1,
      TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "arp-hwtype", "out arp drop hwtype=6", "arp htype 6", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "arp-gratuitous", "out arp drop gratuitous=true", "arp psrc 10.0.0.5 pdst 10.0.0.5",
      TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "arp-not-gratuitous", "out arp drop gratuitous=true", "arp psrc 10.0.0.5 pdst 10.0.0.6",
      TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "rarp-not-arp", "out rarp drop", "arp", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "rarp", "out rarp drop opcode=Request_Reverse", "rarp request", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ip-src-mask", "out ip drop srcipaddr=10.1.0.0 srcipmask=16", "ip src 10.1.200.3", TRUE,
      NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ip-src-exact-miss", "out ip drop srcipaddr=10.1.0.0", "ip src 10.1.0.1", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "ip-dst-negated", "out ip drop !dstipaddr=10.0.0.1", "ip dst 10.0.0.2", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ip-port-range-low-edge", "out ip drop protocol=tcp dstportstart=20 dstportend=30",
      "ip tcp dport 20", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ip-port-range-high-edge", "out ip drop protocol=tcp dstportstart=20 dstportend=30",
      "ip tcp dport 30", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ip-port-range-below", "out ip drop protocol=tcp dstportstart=20 dstportend=30",
      "ip tcp dport 19", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ip-port-range-above", "out ip drop protocol=tcp dstportstart=20 dstportend=30",
      "ip tcp dport 31", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ip-port-negated", "out ip drop protocol=udp !srcportstart=67", "ip udp sport 68", TRUE,
      NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ip-protocol-miss", "out ip drop protocol=udp dstportstart=67", "ip tcp dport 67", TRUE,
      NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ip-dscp-is-whole-tos", "out ip drop dscp=10", "ip tos 10", TRUE, NULL, NWF_TRACE_DROP,
      500, FALSE },
    { "ip-dscp-shifted-miss", "out ip drop dscp=10", "ip dscp 10", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "ipv6-prefix", "out ipv6 drop srcipaddr=fd00:: srcipmask=64", "ip6 src fd00::1:2", TRUE,
      NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipv6-prefix-miss", "out ipv6 drop srcipaddr=fd00:: srcipmask=64", "ip6 src fd00:0:0:1::2",
      TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipv6-icmp-type-range", "out ipv6 drop protocol=icmpv6 type=133 typeend=136",
      "ip6 icmp6 type 135", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipv6-icmp-type-range-miss", "out ipv6 drop protocol=icmpv6 type=133 typeend=136",
      "ip6 icmp6 type 137", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipv6-icmp-code-only", "out ipv6 drop protocol=icmpv6 code=1", "ip6 icmp6 type 1 code 1",
      TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipv6-icmp-negated", "out ipv6 drop protocol=icmpv6 !type=128", "ip6 icmp6 type 129",
      TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "stp-needs-bpdu-address", "out stp drop", "ether dst 01:80:c2:00:00:01 stp", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "stp-any-bpdu", "out stp drop", "stp", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    /* ebt_stp reads every config field one byte early: its "flags" is the
     * real BPDU type byte and its root priority the flags plus the first
     * priority byte; its "type" is the version byte. nft reads them as
     * written. */
    { "stp-ebt-flags-offset", "out stp drop flags=0", "stp flags 0x81", TRUE, NULL,
      NWF_TRACE_DROP, 500, TRUE },
    { "stp-nft-flags", "out stp drop flags=0", "stp flags 0x81", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "stp-nft-flags-hit", "out stp drop flags=0x81", "stp flags 0x81", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "stp-ebt-root-priority-offset", "out stp drop root-priority=0x8180",
      "stp flags 0x81 root-priority 0x8000", TRUE, NULL, NWF_TRACE_DROP, 500, TRUE },
    { "stp-nft-root-priority-range", "out stp drop root-priority=0x8000 root-priority-hi=0x80ff",
      "stp flags 0x81 root-priority 0x80ff", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "stp-nft-root-priority-above", "out stp drop root-priority=0x8000 root-priority-hi=0x80ff",
      "stp root-priority 0x8100", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "stp-ebt-type-is-version", "out stp drop type=0x80", "stp type 0x80", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, TRUE },
    { "stp-nft-type", "out stp drop type=0x80", "stp type 0x80", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "stp-nft-sender-address-mask", "out stp drop sender-address=52:54:00:00:00:00 "
      "sender-address-mask=ff:ff:ff:00:00:00", "stp sender-address 52:54:00:aa:bb:cc", TRUE,
      NULL, NWF_TRACE_DROP, 500, FALSE },
    { "stp-nft-port-range-miss", "out stp drop port=1 port-hi=0x8001", "stp port 0x8002", TRUE,
      NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "stp-nft-tcn-too-short", "out stp drop port=0", "stp type 0x80", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    /* libvirt's ebtables rules pass encap-protocol in decimal; ebtables
     * reads hex */
    { "vlan-encap-ebt-decimal-as-hex", "out vlan drop encap-protocol=ipv4", "vlan id 3 ip", TRUE,
      NULL, NWF_TRACE_ACCEPT, END, TRUE },
    { "vlan-encap-ebt-0x2048", "out vlan drop encap-protocol=ipv4",
      "ether type 0x2048 vlan id 3", TRUE, NULL, NWF_TRACE_DROP, 500, TRUE },

    /* --- ethernet layer: chains ------------------------------------- */
    { "subchain-return-then-root-drop",
      "out:arp arp return prio=1 arpsrcipaddr=10.0.0.9; out none drop prio=2",
      "arp psrc 10.0.0.9", TRUE, NULL, NWF_TRACE_DROP, 2, FALSE },
    { "subchain-drop", "out:arp arp return prio=1 arpsrcipaddr=10.0.0.9; out:arp none drop prio=3",
      "arp psrc 10.0.0.8", TRUE, NULL, NWF_TRACE_DROP, 3, FALSE },
    { "subchain-end-returns", "out:arp arp drop prio=1 opcode=Reply; out mac accept prio=2",
      "arp request", TRUE, NULL, NWF_TRACE_ACCEPT, 2, FALSE },
    { "subchain-accept-stops", "out:ipv4 none accept prio=1; out none drop prio=2", "ip", TRUE,
      NULL, NWF_TRACE_ACCEPT, 1, FALSE },
    { "subchain-kind-mismatch-skipped", "out:ipv4 none drop prio=1", "arp", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "subchain-wrong-protocol-never-matches", "out:arp ip drop prio=1", "arp", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "subchain-continue", "out:mac none continue prio=1; out:mac none drop prio=2", "ip", TRUE,
      NULL, NWF_TRACE_DROP, 2, FALSE },
    { "subchain-mac-every-frame", "out:mac-x none drop prio=1", "vlan id 1", TRUE, NULL,
      NWF_TRACE_DROP, 1, FALSE },
    { "subchain-stp-jump", "out:stp none drop prio=1", "stp", TRUE, NULL, NWF_TRACE_DROP, 1, FALSE },
    { "root-return-accepts", "out none return prio=1; out none drop prio=2", "ip", TRUE, NULL,
      NWF_TRACE_ACCEPT, 1, FALSE },
    { "root-continue", "out none continue prio=1; out none drop prio=2", "ip", TRUE, NULL,
      NWF_TRACE_DROP, 2, FALSE },

    /* --- IP layer --------------------------------------------------- */
    { "fi-drop-all", "fi all drop prio=5", "ip tcp", TRUE, NULL, NWF_TRACE_DROP, 5, FALSE },
    { "fi-not-for-arp", "fi all drop", "arp", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "fi-not-for-ipv6", "fi all drop", "ip6 tcp", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "fi-not-for-tagged", "fi all drop", "vlan id 2 ip tcp", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "fo-for-vm-in", "fo all drop prio=6; fi all accept", "ip", FALSE, NULL, NWF_TRACE_DROP, 6, FALSE },
    { "hi-only-to-host", "hi all drop prio=8", "ip", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "fi-state-new", "fi tcp accept prio=1 dstportstart=22 ct=NEW,ESTABLISHED ctdir=original; "
      "fi all drop prio=2", "ip tcp dport 22", TRUE, NULL, NWF_TRACE_ACCEPT, 1, FALSE },
    { "fi-state-invalid", "fi tcp accept prio=1 dstportstart=22 ct=NEW,ESTABLISHED ctdir=original; "
      "fi all drop prio=2", "ip tcp dport 22", TRUE, "invalid", NWF_TRACE_DROP, 2, FALSE },
    { "fi-state-untracked", "fi all accept prio=1 ct=NEW,ESTABLISHED,RELATED,INVALID; "
      "fi all drop prio=2", "ip tcp", TRUE, "untracked", NWF_TRACE_DROP, 2, FALSE },
    { "fi-ctdir-reply-miss", "fi tcp accept prio=1 ct=ESTABLISHED ctdir=reply; fi all drop prio=2",
      "ip tcp", TRUE, "established", NWF_TRACE_DROP, 2, FALSE },
    { "fi-accept-is-return", "fi all accept prio=1; fi all drop prio=2", "ip", TRUE, NULL,
      NWF_TRACE_ACCEPT, 1, FALSE },
    { "fi-continue", "fi all continue prio=1; fi all drop prio=2", "ip", TRUE, NULL,
      NWF_TRACE_DROP, 2, FALSE },
    { "fi-return", "fi all return prio=1; fi all drop prio=2", "ip", TRUE, NULL,
      NWF_TRACE_ACCEPT, 1, FALSE },
    { "fo-reject", "fo tcp reject prio=9", "ip tcp", FALSE, NULL, NWF_TRACE_REJECT, 9, FALSE },
    { "ipt-tcp-port-edges", "fi tcp drop srcportstart=1000 srcportend=1002",
      "ip tcp sport 1002", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-tcp-port-edges-miss", "fi tcp drop srcportstart=1000 srcportend=1002",
      "ip tcp sport 1003", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-udp-port-negated", "fi udp drop !dstportstart=53", "ip udp dport 54", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-sctp-port", "fi sctp drop dstportstart=5000", "ip sctp dport 5000", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-protocol-miss", "fi udp drop", "ip tcp", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-src-mask", "fi all drop srcipaddr=192.168.0.0 srcipmask=255.255.0.0",
      "ip src 192.168.3.4", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-range-low", "fi all drop srcipfrom=10.0.0.10 srcipto=10.0.0.20", "ip src 10.0.0.10",
      TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-range-high", "fi all drop srcipfrom=10.0.0.10 srcipto=10.0.0.20", "ip src 10.0.0.20",
      TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-range-out", "fi all drop srcipfrom=10.0.0.10 srcipto=10.0.0.20", "ip src 10.0.0.21",
      TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-range-negated", "fi all drop !dstipfrom=10.0.0.10 !dstipto=10.0.0.20",
      "ip dst 10.0.0.9", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-addr-wins-over-range", "fi all drop srcipaddr=10.0.0.1 srcipfrom=10.0.0.5",
      "ip src 10.0.0.5", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-v6-range", "fi6 all-ipv6 drop srcipfrom=fd00::10 srcipto=fd00::20", "ip6 src fd00::1f",
      TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-tcp-flags", "fi tcp drop flags=SYN,ACK/SYN", "ip tcp flags S", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-tcp-flags-miss", "fi tcp drop flags=SYN,ACK/SYN", "ip tcp flags SA", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-tcp-flags-negated", "fi tcp drop !flags=SYN,ACK/SYN", "ip tcp flags SA", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-tcp-option", "fi tcp drop option=2", "ip tcp option 3 option 2", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-tcp-option-missing", "fi tcp drop option=2", "ip tcp option 3", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-icmp-type", "fi icmp drop type=8", "ip icmp type 8 code 3", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-icmp-type-code-miss", "fi icmp drop type=8 code=0", "ip icmp type 8 code 3", TRUE,
      NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-icmp-negated", "fi icmp drop !type=8", "ip icmp type 0", TRUE, NULL, NWF_TRACE_DROP,
      500, FALSE },
    { "ipt-icmpv6", "fi6 icmpv6 drop type=135", "ip6 icmp6 type 135", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-mac-source", "fi all drop srcmacaddr=" M2, "ether src " M2 " ip", TRUE, NULL,
      NWF_TRACE_DROP, 500, FALSE },
    { "ipt-mac-source-negated", "fi all drop !srcmacaddr=" M2, "ether src " M2 " ip", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-dscp-shifted", "fi all drop dscp=10", "ip dscp 10", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-connlimit", "fi tcp drop connlimit-above=0", "ip tcp", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },
    { "ipt-connlimit-below", "fi tcp drop connlimit-above=1", "ip tcp", TRUE, NULL,
      NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-ipset-unknown", "fi all drop ipset=blocked", "ip", TRUE, NULL, NWF_TRACE_ACCEPT, END, FALSE },
    { "ipt-ipset-negated", "fi all drop !ipset=blocked", "ip", TRUE, NULL, NWF_TRACE_DROP, 500, FALSE },

    /* --- both layers ------------------------------------------------- */
    { "both-must-accept", "out mac accept prio=1 protocolid=ipv4; fi all drop prio=2", "ip",
      TRUE, NULL, NWF_TRACE_DROP, 2, FALSE },
    { "vm-in-ip-layer-first", "in none drop prio=1; fo all reject prio=2", "ip tcp", FALSE, NULL,
      NWF_TRACE_REJECT, 2, FALSE },
    { "vm-out-eth-layer-first", "out none drop prio=1; fi all reject prio=2", "ip tcp", TRUE,
      NULL, NWF_TRACE_DROP, 1, FALSE },
};

/* --- program builder --------------------------------------------------- */

static NwfProtocol
protocol_from_name(const char *name)
{
    if (strcmp(name, "none") == 0)
        return NWF_PROTO_NONE;
    for (int p = 1; p < NWF_PROTO_LAST; p++) {
        if (strcmp(nwf_protocol_name((NwfProtocol)p), name) == 0)
            return (NwfProtocol)p;
    }
    g_error("unknown protocol %s", name);
}

static NwfAction
action_from_name(const char *name)
{
    for (int a = 0; a < NWF_ACTION_LAST; a++) {
        if (strcmp(nwf_action_name((NwfAction)a), name) == 0)
            return (NwfAction)a;
    }
    g_error("unknown action %s", name);
}

static NwfField
field_from_name(NwfProtocol protocol, const char *name)
{
    for (int f = 0; f < NWF_FIELD_LAST; f++) {
        if (strcmp(nwf_field_name((NwfField)f), name) == 0 &&
            nwf_protocol_has_field(protocol, (NwfField)f))
            return (NwfField)f;
    }
    g_error("protocol %s has no attribute %s", nwf_protocol_name(protocol), name);
}

static guint
states_from_text(const char *text)
{
    static const char *const names[] = { "NEW", "ESTABLISHED", "RELATED", "INVALID" };
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    guint bits = 0;

    for (guint i = 0; parts[i]; i++) {
        for (guint n = 0; n < G_N_ELEMENTS(names); n++) {
            if (strcmp(parts[i], names[n]) == 0)
                bits |= 1u << n;
        }
    }
    return bits;
}

static NwfChainKind
kind_from_suffix(const char *suffix)
{
    static const NwfChainKind kinds[] = {
        NWF_CHAIN_MAC, NWF_CHAIN_VLAN, NWF_CHAIN_STP, NWF_CHAIN_ARP, NWF_CHAIN_RARP,
        NWF_CHAIN_IPV4, NWF_CHAIN_IPV6,
    };

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (g_str_has_prefix(suffix, nwf_chain_kind_prefix(kinds[i])))
            return kinds[i];
    }
    g_error("no chain kind for %s", suffix);
}

static void
add_rule(NwfRuleProgram *program, const char *spec)
{
    g_auto(GStrv) words = g_strsplit(g_strstrip((char *)spec), " ", -1);
    NwfProtocol protocol = protocol_from_name(words[1]);
    NwfRuleInst *rule = nwf_rule_inst_new(protocol, action_from_name(words[2]));
    const char *where = words[0];

    g_free(rule->origin.filter);
    rule->origin.filter = g_strdup("test");
    rule->origin.priority = 500;
    for (guint i = 3; words[i]; i++) {
        const char *word = words[i];
        gboolean negated = word[0] == '!';
        g_auto(GStrv) kv = g_strsplit(negated ? word + 1 : word, "=", 2);
        NwfField field;
        if (strcmp(kv[0], "prio") == 0) {
            rule->origin.priority = atoi(kv[1]);
        } else if (strcmp(kv[0], "ct") == 0) {
            rule->ct_state = states_from_text(kv[1]);
        } else if (strcmp(kv[0], "ctdir") == 0) {
            rule->ct_dir = strcmp(kv[1], "reply") == 0 ? NWF_CT_DIR_REPLY : NWF_CT_DIR_ORIGINAL;
        } else {
            g_autoptr(GError) error = NULL;
            field = field_from_name(protocol, kv[0]);
            if (!nwf_value_parse(protocol, field, kv[1], nwf_rule_field_put(rule, field), &error))
                g_error("%s: %s", word, error->message);
            nwf_rule_field_put(rule, field)->negated = negated;
        }
    }
    if (strcmp(where, "out") == 0 || strcmp(where, "in") == 0) {
        nwf_rule_program_eth_add_rule(program, where[0] == 'o' ? NWF_ETH_VM_OUT : NWF_ETH_VM_IN,
                                      NULL, rule);
    } else if (g_str_has_prefix(where, "out:") || g_str_has_prefix(where, "in:")) {
        NwfEthDir dir = where[0] == 'o' ? NWF_ETH_VM_OUT : NWF_ETH_VM_IN;
        const char *suffix = strchr(where, ':') + 1;
        NwfEthSubChain *sub = nwf_rule_program_eth_find_subchain(program, dir, suffix);
        if (!sub)
            sub = nwf_rule_program_eth_add_subchain(program, dir, suffix,
                                                    kind_from_suffix(suffix), 0);
        nwf_rule_program_eth_add_rule(program, dir, sub, rule);
    } else {
        static const struct {
            const char *name;
            NwfIpFamily family;
            NwfIpChain chain;
        } ip_chains[] = {
            { "fi", NWF_IP_V4, NWF_IP_FROM_VM }, { "fo", NWF_IP_V4, NWF_IP_TO_VM },
            { "hi", NWF_IP_V4, NWF_IP_TO_HOST }, { "fi6", NWF_IP_V6, NWF_IP_FROM_VM },
            { "fo6", NWF_IP_V6, NWF_IP_TO_VM }, { "hi6", NWF_IP_V6, NWF_IP_TO_HOST },
        };
        for (guint i = 0; i < G_N_ELEMENTS(ip_chains); i++) {
            if (strcmp(where, ip_chains[i].name) == 0) {
                nwf_rule_program_ip_add_rule(program, ip_chains[i].family, ip_chains[i].chain,
                                             rule);
                return;
            }
        }
        g_error("unknown chain %s", where);
    }
}

static NwfRuleProgram *
build_program(const char *rules)
{
    NwfRuleProgram *program = nwf_rule_program_new("vnet0");
    g_auto(GStrv) specs = g_strsplit(rules, ";", -1);

    for (guint i = 0; specs[i]; i++) {
        if (*g_strstrip(specs[i]))
            add_rule(program, specs[i]);
    }
    return program;
}

static NwfTracePacket *
build_packet(const char *words_text)
{
    static const NwfTraceFrameDefaults defaults = {
        .src = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 },
        .dst = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
    };
    /* an empty description means a bare frame between the default MACs */
    g_auto(GStrv) words = g_strsplit(*words_text ? words_text : "ether", " ", -1);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) frame = nwf_trace_frame_build(words, &defaults, &error);
    NwfTracePacket *packet;

    g_assert_no_error(error);
    packet = nwf_trace_packet_decode(frame, &error);
    g_assert_no_error(error);
    return packet;
}

static const NwfRuleInst *
deciding_rule(const NwfTraceResult *result)
{
    if (result->verdict != NWF_TRACE_ACCEPT)
        return result->first->verdict != NWF_TRACE_ACCEPT ? result->first->decider
                                                          : result->second->decider;
    return result->first->decider ? result->first->decider : result->second->decider;
}

static void
test_case(gconstpointer data)
{
    const EvalCase *c = data;
    g_autoptr(NwfRuleProgram) program = build_program(c->rules);
    g_autoptr(NwfTracePacket) packet = build_packet(c->packet);
    g_autoptr(NwfTraceResult) result = NULL;
    NwfTraceOptions opt = { .vm_out = c->out, .ct_dir = NWF_CT_DIR_ORIGINAL, .connections = 1,
                            .backend = c->ebiptables ? NWF_TRACE_BACKEND_EBIPTABLES
                                                     : NWF_TRACE_BACKEND_NFT };
    const NwfRuleInst *decider;

    if (c->state)
        g_assert_true(nwf_trace_ct_state_parse(c->state, &opt.ct_state));
    result = nwf_trace_run(program, packet, &opt);
    if (result->verdict != c->want || g_test_verbose()) {
        g_autofree char *text = nwf_trace_result_format(result, packet, &opt);
        g_test_message("%s", text);
    }
    g_assert_cmpstr(nwf_trace_verdict_name(result->verdict), ==, nwf_trace_verdict_name(c->want));
    decider = deciding_rule(result);
    if (c->want_prio == END)
        g_assert_null(decider);
    else
        g_assert_cmpint(decider ? decider->origin.priority : END, ==, c->want_prio);
}

/* The ipset assumption is stated, not silent. */
static void
test_ipset_note(void)
{
    g_autoptr(NwfRuleProgram) program = build_program("fi all drop ipset=blocked");
    g_autoptr(NwfTracePacket) packet = build_packet("ip");
    NwfTraceOptions opt = { .vm_out = TRUE, .ct_dir = NWF_CT_DIR_ORIGINAL, .connections = 1 };
    g_autoptr(NwfTraceResult) result = nwf_trace_run(program, packet, &opt);
    g_autofree char *text = nwf_trace_result_format(result, packet, &opt);

    g_assert_cmpuint(result->notes->len, ==, 1);
    g_assert_nonnull(strstr(text, "note: ipset 'blocked'"));
}

/* The report names the layers in kernel order and the deciding rule. */
static void
test_report(void)
{
    g_autoptr(NwfRuleProgram) program = build_program(
        "out:arp arp return prio=400 arpsrcipaddr=10.0.0.9; out:arp none drop prio=1000");
    g_autoptr(NwfTracePacket) packet = build_packet("arp psrc 10.0.0.8");
    NwfTraceOptions opt = { .vm_out = TRUE, .ct_dir = NWF_CT_DIR_ORIGINAL, .connections = 1 };
    g_autoptr(NwfTraceResult) result = nwf_trace_run(program, packet, &opt);
    g_autofree char *text = nwf_trace_result_format(result, packet, &opt);

    g_assert_nonnull(strstr(text, "[root] jump to sub-chain arp (ethertype 0x0806)"));
    g_assert_nonnull(strstr(text, "rule: filter 'test' (chain root), priority 1000, action drop"));
    g_assert_nonnull(strstr(text, "verdict: drop"));
    g_assert_true(strstr(text, "ethernet layer") < strstr(text, "ip layer"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/trace/eval/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/trace/eval/ipset-note", test_ipset_note);
    g_test_add_func("/trace/eval/report", test_report);
    return g_test_run();
}
