/* Whether one rule matches one frame, per layer, with the semantics of the
 * kernel match that rule is installed as (ebt_*, xt_*). Private to trace. */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"
#include "nwfilter/trace.h"
#include "nwfilter/trace_packet.h"

/* An ethernet-layer rule (ebtables semantics, or the nft rules' where the
 * backends differ). */
gboolean nwf_trace_match_eth(const NwfRuleInst *rule, const NwfTracePacket *packet,
                             const NwfTraceOptions *options);

/* The root chain's jump into a sub-chain of KIND. */
gboolean nwf_trace_match_jump(NwfChainKind kind, const NwfTracePacket *packet);

/* An IP-layer rule (iptables/ip6tables semantics). Appends to NOTES (char*)
 * what had to be assumed. */
gboolean nwf_trace_match_ip(const NwfRuleInst *rule, const NwfTracePacket *packet,
                            const NwfTraceOptions *options, GPtrArray *notes);
