/* The chain walk of a trace: which chains a frame visits, in which order,
 * and where it stops (semantics in trace.h). */
#include "config.h"

#include <string.h>

#include "nwfilter/trace.h"
#include "nwfilter/trace_match.h"

static void
step_free(gpointer data)
{
    NwfTraceStep *step = data;

    g_free(step->chain);
    g_free(step->event);
    g_free(step);
}

static void
layer_free(NwfTraceLayerResult *layer)
{
    if (!layer)
        return;
    g_ptr_array_unref(layer->steps);
    g_free(layer->summary);
    g_free(layer);
}

void
nwf_trace_result_free(NwfTraceResult *result)
{
    if (!result)
        return;
    layer_free(result->first);
    layer_free(result->second);
    g_ptr_array_unref(result->notes);
    g_free(result);
}

static NwfTraceLayerResult *
layer_new(const char *name)
{
    NwfTraceLayerResult *layer = g_new0(NwfTraceLayerResult, 1);

    layer->name = name;
    layer->steps = g_ptr_array_new_with_free_func(step_free);
    layer->verdict = NWF_TRACE_ACCEPT;
    return layer;
}

static void
add_step(NwfTraceLayerResult *layer, guint depth, const char *chain, const NwfRuleInst *rule,
         const char *event)
{
    NwfTraceStep *step = g_new0(NwfTraceStep, 1);

    step->depth = depth;
    step->chain = g_strdup(chain);
    step->rule = rule;
    step->event = g_strdup(event);
    g_ptr_array_add(layer->steps, step);
}

static void
decide(NwfTraceLayerResult *layer, NwfTraceVerdict verdict, const NwfRuleInst *rule,
       char *summary)
{
    layer->verdict = verdict;
    layer->decider = rule;
    layer->summary = summary;
}

const char *
nwf_trace_verdict_name(NwfTraceVerdict verdict)
{
    static const char *const names[] = { "accept", "drop", "reject" };

    return names[verdict];
}

static const char *const ct_state_names[] = {
    "new", "established", "related", "invalid", "untracked",
};

gboolean
nwf_trace_ct_state_parse(const char *text, NwfTraceCtState *out)
{
    for (guint i = 0; i < G_N_ELEMENTS(ct_state_names); i++) {
        if (g_ascii_strcasecmp(text, ct_state_names[i]) == 0) {
            *out = (NwfTraceCtState)i;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
nwf_trace_backend_parse(const char *text, NwfTraceBackend *out)
{
    if (strcmp(text, "nft") == 0 || strcmp(text, "nftables") == 0) {
        *out = NWF_TRACE_BACKEND_NFT;
        return TRUE;
    }
    if (strcmp(text, "ebiptables") == 0 || strcmp(text, "iptables") == 0) {
        *out = NWF_TRACE_BACKEND_EBIPTABLES;
        return TRUE;
    }
    return FALSE;
}

const char *
nwf_trace_ct_state_name(NwfTraceCtState state)
{
    return ct_state_names[state];
}

/* --- ethernet layer ---------------------------------------------------- */

typedef enum {
    EBT_GO_ON,      /* continue in the calling chain */
    EBT_STOP,       /* a verdict was reached */
} EbtFlow;

/* One matched ethernet-layer rule in CHAIN; at DEPTH 0 (the root chain)
 * a return leaves ebtables, which accepts. */
static EbtFlow
ebt_apply(NwfTraceLayerResult *layer, const NwfRuleInst *rule, const char *chain, guint depth)
{
    switch (rule->action) {
    case NWF_ACTION_ACCEPT:
        add_step(layer, depth, chain, rule, "accept");
        decide(layer, NWF_TRACE_ACCEPT, rule, g_strdup_printf("accepted in chain %s", chain));
        return EBT_STOP;
    case NWF_ACTION_DROP:
    case NWF_ACTION_REJECT:
        /* a bridge cannot reject: ebtables drops */
        add_step(layer, depth, chain, rule,
                 rule->action == NWF_ACTION_REJECT ? "reject (a drop at this layer)" : "drop");
        decide(layer, NWF_TRACE_DROP, rule, g_strdup_printf("dropped in chain %s", chain));
        return EBT_STOP;
    case NWF_ACTION_RETURN:
        if (depth == 0) {
            add_step(layer, depth, chain, rule, "return (leaves the root chain: accepted)");
            decide(layer, NWF_TRACE_ACCEPT, rule,
                   g_strdup("returned from the root chain: accepted"));
            return EBT_STOP;
        }
        add_step(layer, depth, chain, rule, "return to the root chain");
        return EBT_GO_ON;
    case NWF_ACTION_CONTINUE:
    default:
        add_step(layer, depth, chain, rule, "continue");
        return EBT_GO_ON;
    }
}

static const char *
jump_match_text(NwfChainKind kind)
{
    switch (kind) {
    case NWF_CHAIN_STP: return "destination 01:80:c2:00:00:00";
    case NWF_CHAIN_VLAN: return "ethertype 0x8100";
    case NWF_CHAIN_ARP: return "ethertype 0x0806";
    case NWF_CHAIN_RARP: return "ethertype 0x8035";
    case NWF_CHAIN_IPV4: return "ethertype 0x0800";
    case NWF_CHAIN_IPV6: return "ethertype 0x86dd";
    default: return "every frame";
    }
}

/* Returns TRUE when a verdict was reached inside the sub-chain. */
static gboolean
ebt_walk_subchain(NwfTraceLayerResult *layer, const NwfEthSubChain *sub,
                  const NwfTracePacket *pkt, const NwfTraceOptions *opt)
{
    g_autofree char *jump = g_strdup_printf("jump to sub-chain %s (%s)", sub->suffix,
                                            jump_match_text(sub->kind));

    add_step(layer, 0, "root", NULL, jump);
    for (guint i = 0; i < sub->rules->len; i++) {
        const NwfRuleInst *rule = g_ptr_array_index(sub->rules, i);
        if (!nwf_trace_match_eth(rule, pkt, opt))
            continue;
        if (ebt_apply(layer, rule, sub->suffix, 1) == EBT_STOP)
            return TRUE;
        if (rule->action == NWF_ACTION_RETURN)
            return FALSE;
    }
    add_step(layer, 1, sub->suffix, NULL, "end of sub-chain: return to the root chain");
    return FALSE;
}

static NwfTraceLayerResult *
trace_ethernet(const NwfRuleProgram *program, const NwfTracePacket *pkt,
               const NwfTraceOptions *opt)
{
    NwfTraceLayerResult *layer = layer_new("ethernet");
    const NwfEthChains *chains = &program->eth[opt->vm_out ? NWF_ETH_VM_OUT : NWF_ETH_VM_IN];

    if (!chains->present) {
        decide(layer, NWF_TRACE_ACCEPT, NULL,
               g_strdup("no ethernet-layer rules for this direction: accepted"));
        return layer;
    }
    layer->evaluated = TRUE;
    for (guint i = 0; i < chains->entries->len; i++) {
        const NwfEthEntry *entry = g_ptr_array_index(chains->entries, i);

        if (entry->kind == NWF_ETH_ENTRY_JUMP) {
            if (nwf_trace_match_jump(entry->subchain->kind, pkt) &&
                ebt_walk_subchain(layer, entry->subchain, pkt, opt))
                return layer;
            continue;
        }
        if (nwf_trace_match_eth(entry->rule, pkt, opt) &&
            ebt_apply(layer, entry->rule, "root", 0) == EBT_STOP)
            return layer;
    }
    add_step(layer, 0, "root", NULL, "end of the root chain: accept");
    decide(layer, NWF_TRACE_ACCEPT, NULL, g_strdup("no rule decided: the root chain accepts"));
    return layer;
}

/* --- IP layer ---------------------------------------------------------- */

static NwfTraceLayerResult *
trace_ip(const NwfRuleProgram *program, const NwfTracePacket *pkt, const NwfTraceOptions *opt,
         GPtrArray *notes)
{
    static const char *const chain_names[] = {
        [NWF_IP_FROM_VM] = "FROM_VM", [NWF_IP_TO_VM] = "TO_VM", [NWF_IP_TO_HOST] = "TO_HOST",
    };
    gboolean v4 = pkt->l3 == NWF_TRACE_L3_IPV4;
    NwfTraceLayerResult *layer = layer_new(v4 ? "ipv4" : "ipv6");
    NwfIpChain which = !opt->vm_out ? NWF_IP_TO_VM : opt->to_host ? NWF_IP_TO_HOST
                                                                   : NWF_IP_FROM_VM;
    const char *chain = chain_names[which];
    const NwfIpChains *chains;

    if (pkt->l3 != NWF_TRACE_L3_IPV4 && pkt->l3 != NWF_TRACE_L3_IPV6) {
        layer->name = "ip";
        decide(layer, NWF_TRACE_ACCEPT, NULL,
               g_strdup(pkt->vlan ? "a VLAN-tagged frame: iptables does not see it"
                                  : "not an untagged IPv4/IPv6 packet: iptables does not see it"));
        return layer;
    }
    chains = &program->ip[v4 ? NWF_IP_V4 : NWF_IP_V6];
    if (!chains->present) {
        decide(layer, NWF_TRACE_ACCEPT, NULL,
               g_strdup_printf("no %s rules: accepted", v4 ? "IPv4" : "IPv6"));
        return layer;
    }
    layer->evaluated = TRUE;
    for (guint i = 0; i < chains->chains[which]->len; i++) {
        const NwfRuleInst *rule = g_ptr_array_index(chains->chains[which], i);

        if (!nwf_trace_match_ip(rule, pkt, opt, notes))
            continue;
        switch (rule->action) {
        case NWF_ACTION_CONTINUE:
            add_step(layer, 0, chain, rule, "continue");
            continue;
        case NWF_ACTION_DROP:
            add_step(layer, 0, chain, rule, "drop");
            decide(layer, NWF_TRACE_DROP, rule, g_strdup_printf("dropped in %s", chain));
            return layer;
        case NWF_ACTION_REJECT:
            add_step(layer, 0, chain, rule, "reject");
            decide(layer, NWF_TRACE_REJECT, rule, g_strdup_printf("rejected in %s", chain));
            return layer;
        case NWF_ACTION_ACCEPT:
            if (which != NWF_IP_TO_VM) {
                add_step(layer, 0, chain, rule,
                         "accept (RETURN: the host's other rules see it next)");
                decide(layer, NWF_TRACE_ACCEPT, rule,
                       g_strdup_printf("accepted in %s (handed on)", chain));
            } else {
                add_step(layer, 0, chain, rule, "accept");
                decide(layer, NWF_TRACE_ACCEPT, rule, g_strdup_printf("accepted in %s", chain));
            }
            return layer;
        case NWF_ACTION_RETURN:
        default:
            add_step(layer, 0, chain, rule, "return");
            decide(layer, NWF_TRACE_ACCEPT, rule,
                   g_strdup_printf("returned from %s: accepted", chain));
            return layer;
        }
    }
    add_step(layer, 0, chain, NULL, "end of chain: accept");
    decide(layer, NWF_TRACE_ACCEPT, NULL,
           g_strdup_printf("no rule decided: %s ends and the packet goes on", chain));
    return layer;
}

NwfTraceResult *
nwf_trace_run(const NwfRuleProgram *program, const NwfTracePacket *packet,
              const NwfTraceOptions *options)
{
    NwfTraceResult *result = g_new0(NwfTraceResult, 1);
    NwfTraceLayerResult *eth, *ip;

    result->notes = g_ptr_array_new_with_free_func(g_free);
    if (packet->ip_malformed)
        g_ptr_array_add(result->notes,
                        g_strdup_printf("malformed %s header: a host with bridge-nf-call-ip%stables=1 "
                                        "drops the frame before any filter",
                                        packet->inner_type == NWF_TRACE_ETHERTYPE_IPV6 ? "IPv6"
                                                                                        : "IPv4",
                                        packet->inner_type == NWF_TRACE_ETHERTYPE_IPV6 ? "6" : ""));
    eth = trace_ethernet(program, packet, options);
    ip = trace_ip(program, packet, options, result->notes);
    /* bridged frames to the VM cross iptables FORWARD before ebtables
     * POSTROUTING; frames from the VM meet ebtables PREROUTING first */
    result->first = options->vm_out ? eth : ip;
    result->second = options->vm_out ? ip : eth;
    if (result->first->verdict != NWF_TRACE_ACCEPT)
        result->verdict = result->first->verdict;
    else
        result->verdict = result->second->verdict;
    return result;
}
