/* trace: what a compiled rule program does to one frame, evaluated with the
 * kernel's semantics, without sending anything. Pure.
 *
 * Two layers decide, and the frame passes only when both accept:
 *   - the ethernet layer (ebtables nat PREROUTING for VM-out, POSTROUTING
 *     for VM-in): the root chain in order, jumps into protocol sub-chains
 *     whose match fits; accept and drop stop everything, return leaves the
 *     current chain, continue goes on; a sub-chain that runs out of rules
 *     returns to the root chain, a root chain that runs out accepts;
 *   - the IP layer (iptables/ip6tables, only for untagged IPv4/IPv6
 *     frames): FROM_VM (or TO_HOST) for VM-out, TO_VM for VM-in; drop and
 *     reject stop, continue goes on, and accept, return and the chain end
 *     all let the packet through (libvirt's accept in FROM_VM/TO_HOST is a
 *     RETURN that hands the packet on to the host's own rules).
 * The verdict needs both layers, so their order only decides which one is
 * reported as refusing first: the ebtables/iptables order, where VM-out
 * frames meet the ethernet layer first and VM-in frames the IP layer
 * (FORWARD runs before bridge POSTROUTING). */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"
#include "nwfilter/trace_packet.h"

/* Connection-tracking state of the packet (what --ctstate sees). */
typedef enum {
    NWF_TRACE_CT_NEW,
    NWF_TRACE_CT_ESTABLISHED,
    NWF_TRACE_CT_RELATED,
    NWF_TRACE_CT_INVALID,      /* no connection (e.g. an ICMP error nobody asked for) */
    NWF_TRACE_CT_UNTRACKED,    /* exempt from tracking (e.g. IPv6 neighbour discovery) */
} NwfTraceCtState;

/* Which backend's rules the kernel runs. They agree except where a match
 * itself differs: libvirt's ebtables rules pass the VLAN encapsulation
 * number in decimal to an option ebtables reads as hex, and ebtables' STP
 * match reads the BPDU one byte early; the nft rules read both as written. */
typedef enum {
    NWF_TRACE_BACKEND_NFT,
    NWF_TRACE_BACKEND_EBIPTABLES,
} NwfTraceBackend;

typedef struct {
    NwfTraceBackend backend;
    gboolean vm_out;           /* TRUE: sent by the VM; FALSE: sent to it */
    gboolean to_host;          /* VM-out only: addressed to the host (TO_HOST), not bridged */
    NwfTraceCtState ct_state;
    NwfCtDir ct_dir;           /* ORIGINAL or REPLY */
    guint connections;         /* what connlimit counts (this connection included) */
} NwfTraceOptions;

typedef enum {
    NWF_TRACE_ACCEPT,
    NWF_TRACE_DROP,
    NWF_TRACE_REJECT,
} NwfTraceVerdict;

/* One thing that happened in a chain. */
typedef struct {
    guint depth;               /* 0 in a root/IP chain, 1 in a sub-chain */
    char *chain;               /* "root", "arp-ip", "FROM_VM" ... */
    const NwfRuleInst *rule;   /* the rule that matched, or NULL */
    char *event;               /* "jump", "accept", "return", "continue", "end of chain" ... */
} NwfTraceStep;

typedef struct {
    const char *name;          /* "ethernet", "ipv4", "ipv6" */
    gboolean evaluated;        /* FALSE: no chain of this layer sees the frame */
    char *summary;             /* how the verdict came about, one line */
    NwfTraceVerdict verdict;
    const NwfRuleInst *decider; /* the deciding rule, NULL at a chain end */
    GPtrArray *steps;          /* NwfTraceStep* */
} NwfTraceLayerResult;

typedef struct {
    NwfTraceVerdict verdict;
    /* the layers in the order the kernel runs them for this direction */
    NwfTraceLayerResult *first;
    NwfTraceLayerResult *second;
    /* Assumptions the evaluator had to make (ipset membership ...). */
    GPtrArray *notes;          /* char* */
} NwfTraceResult;

NwfTraceResult *nwf_trace_run(const NwfRuleProgram *program, const NwfTracePacket *packet,
                              const NwfTraceOptions *options);
void nwf_trace_result_free(NwfTraceResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfTraceResult, nwf_trace_result_free)

const char *nwf_trace_verdict_name(NwfTraceVerdict verdict);   /* "accept" ... */
gboolean nwf_trace_ct_state_parse(const char *text, NwfTraceCtState *out);
/* "nft"/"nftables" or "ebiptables"/"iptables", as nwfilter apply names them. */
gboolean nwf_trace_backend_parse(const char *text, NwfTraceBackend *out);
const char *nwf_trace_ct_state_name(NwfTraceCtState state);

/* The result as text for people: packet, layers, chains, deciding rules
 * (filter, priority, XML line, matched attributes, variable values). */
char *nwf_trace_result_format(const NwfTraceResult *result, const NwfTracePacket *packet,
                              const NwfTraceOptions *options);
