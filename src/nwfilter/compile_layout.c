/* Chain layout: which chains each rule combination lands in, mirrored or
 * literal, with which conntrack match (spec §6.2 and §6.3). */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/compile_private.h"
#include "util/nwf_error.h"

/* NwfRuleInst.var_fields has a bit per field */
G_STATIC_ASSERT(NWF_FIELD_LAST <= 64);

typedef struct {
    NwfField a, b;
} FieldPair;

/* src/dst pairs exchanged in a mirrored copy */
static const FieldPair swap_pairs[] = {
    { NWF_FIELD_SRCMACADDR, NWF_FIELD_DSTMACADDR },
    { NWF_FIELD_SRCMACMASK, NWF_FIELD_DSTMACMASK },
    { NWF_FIELD_SRCIPADDR, NWF_FIELD_DSTIPADDR },
    { NWF_FIELD_SRCIPMASK, NWF_FIELD_DSTIPMASK },
    { NWF_FIELD_SRCIPFROM, NWF_FIELD_DSTIPFROM },
    { NWF_FIELD_SRCIPTO, NWF_FIELD_DSTIPTO },
    { NWF_FIELD_SRCPORTSTART, NWF_FIELD_DSTPORTSTART },
    { NWF_FIELD_SRCPORTEND, NWF_FIELD_DSTPORTEND },
    { NWF_FIELD_ARPSRCMACADDR, NWF_FIELD_ARPDSTMACADDR },
    { NWF_FIELD_ARPSRCIPADDR, NWF_FIELD_ARPDSTIPADDR },
    { NWF_FIELD_ARPSRCIPMASK, NWF_FIELD_ARPDSTIPMASK },
};

/* Fields that make an iptables rule match something beyond its protocol
 * (what libvirt looks at before deciding a mirrored copy that lost its
 * srcmacaddr would match everything). */
static const NwfField narrowing_fields[] = {
    NWF_FIELD_SRCIPADDR, NWF_FIELD_DSTIPADDR, NWF_FIELD_SRCIPFROM,
    NWF_FIELD_DSTIPFROM, NWF_FIELD_DSCP, NWF_FIELD_SRCPORTSTART,
    NWF_FIELD_DSTPORTSTART, NWF_FIELD_TCP_FLAGS, NWF_FIELD_TCP_OPTION,
    NWF_FIELD_ICMP_TYPE, NWF_FIELD_ICMP_CODE,
};

static NwfField
partner_field(NwfField field)
{
    for (guint i = 0; i < G_N_ELEMENTS(swap_pairs); i++) {
        if (swap_pairs[i].a == field)
            return swap_pairs[i].b;
        if (swap_pairs[i].b == field)
            return swap_pairs[i].a;
    }
    return field;
}

/* The rule a combination makes; MIRRORED: with source and destination
 * exchanged (and the ipset directions flipped). The rule's fields are
 * allocated once, in their final places. */
static NwfRuleInst *
rule_from_combo(const NwfCompileInst *inst, const NwfCompileCombo *combo, gboolean mirrored)
{
    NwfRuleInst *rule = g_new0(NwfRuleInst, 1);
    NwfField target[NWF_FIELD_LAST];
    guint n = 0, i = 0;

    rule->protocol = inst->rule->protocol;
    rule->action = inst->rule->action;
    /* the combo's fields in order: values[i] is the i-th set bit's */
    for (guint64 rest = combo->field_set; rest; rest &= rest - 1, i++) {
        NwfField f = (NwfField)__builtin_ctzll(rest);
        target[i] = NWF_FIELD_LAST;
        if (f == NWF_FIELD_STATE || !combo->values[i].present)
            continue;
        target[i] = mirrored ? partner_field(f) : f;
        rule->field_set |= G_GUINT64_CONSTANT(1) << target[i];
        if ((combo->var_fields >> f) & 1)
            rule->var_fields |= G_GUINT64_CONSTANT(1) << target[i];
        n++;
    }
    rule->values = n ? g_new0(NwfValue, n) : NULL;
    for (guint j = 0; j < i; j++) {
        if (target[j] != NWF_FIELD_LAST)
            nwf_value_copy((NwfValue *)nwf_rule_field(rule, target[j]), &combo->values[j]);
    }
    if (mirrored && nwf_rule_field(rule, NWF_FIELD_IPSETFLAGS)->present) {
        NwfValue *flags = nwf_rule_field_put(rule, NWF_FIELD_IPSETFLAGS);
        flags->u.ipset_flags.bits ^= (guint8)((1u << flags->u.ipset_flags.count) - 1);
    }
    rule->swapped = mirrored;
    rule->origin.filter = g_strdup(inst->filter->name);
    rule->origin.chain = g_strdup(inst->filter->chain);
    rule->origin.priority = inst->rule->priority;
    rule->origin.line = inst->rule->line;
    rule->origin.vars = g_strdup(combo->vars);
    return rule;
}

/* --- ethernet layer ---------------------------------------------------- */

static NwfEthSubChain *
eth_target(NwfRuleProgram *program, NwfEthDir dir, const NwfCompileInst *inst)
{
    NwfEthSubChain *sub;

    if (inst->in_root)
        return NULL;
    sub = nwf_rule_program_eth_find_subchain(program, dir, inst->filter->chain);
    if (!sub) {
        /* filters sharing a chain name with different chain priorities can
         * order a rule before its chain; create it just in time */
        sub = nwf_rule_program_eth_add_subchain(program, dir, inst->filter->chain,
                                                inst->filter->chain_kind,
                                                inst->filter->chain_priority);
    }
    return sub;
}

static void
place_ethernet(NwfRuleProgram *program, const NwfCompileInst *inst,
               const NwfCompileCombo *combo)
{
    NwfDirection dir = inst->rule->direction;

    if (dir & NWF_DIR_OUT) {
        /* inout is written from the VM-in point of view */
        NwfRuleInst *rule = rule_from_combo(inst, combo, dir == NWF_DIR_INOUT);
        nwf_rule_program_eth_add_rule(program, NWF_ETH_VM_OUT,
                                      eth_target(program, NWF_ETH_VM_OUT, inst), rule);
    }
    if (dir & NWF_DIR_IN) {
        nwf_rule_program_eth_add_rule(program, NWF_ETH_VM_IN,
                                      eth_target(program, NWF_ETH_VM_IN, inst),
                                      rule_from_combo(inst, combo, FALSE));
    }
}

/* --- IP layers --------------------------------------------------------- */

static gboolean
has_field(const NwfCompileCombo *combo, NwfField field)
{
    return nwf_combo_field(combo, field)->present;
}

/* One copy of a rule for one of FI/FO/HI. In DEFAULT_MODE, STATE is a
 * boolean (add libvirt's implied conntrack match); otherwise it is the
 * rule's own NWF_STATE_* bits. */
static void
place_ip_copy(NwfRuleProgram *program, NwfIpFamily family, NwfIpChain chain,
              const NwfCompileInst *inst, const NwfCompileCombo *combo,
              gboolean mirrored, gboolean default_mode, guint state)
{
    g_autoptr(NwfRuleInst) rule = NULL;
    gboolean connlimit = has_field(combo, NWF_FIELD_CONNLIMIT_ABOVE);
    gboolean icmp_type = has_field(combo, NWF_FIELD_ICMP_TYPE) &&
        (inst->rule->protocol == NWF_PROTO_ICMP || inst->rule->protocol == NWF_PROTO_ICMPV6);
    gboolean accept = inst->rule->action == NWF_ACTION_ACCEPT;

    /* connection limits only make sense where the connection starts */
    if (connlimit && mirrored)
        return;

    rule = rule_from_combo(inst, combo, mirrored);
    if (has_field(combo, NWF_FIELD_IPSET) && !has_field(combo, NWF_FIELD_IPSETFLAGS)) {
        /* a set without flags matches on the source address (the
         * destination in a mirrored copy) */
        NwfValue *flags = nwf_rule_field_put(rule, NWF_FIELD_IPSETFLAGS);
        flags->present = TRUE;
        flags->type = NWF_TYPE_IPSET_FLAGS;
        flags->u.ipset_flags.bits = mirrored ? 0 : 1;
        flags->u.ipset_flags.count = 1;
    }
    /* srcmacaddr, in the dstmac slot of a mirrored copy that IP rules lack:
     * the mirrored packet carries the bridge's MAC, not the VM's */
    if (mirrored && nwf_rule_field(rule, NWF_FIELD_DSTMACADDR)->present) {
        gboolean narrowed = FALSE;
        nwf_rule_field_drop(rule, NWF_FIELD_DSTMACADDR);
        for (guint i = 0; i < G_N_ELEMENTS(narrowing_fields); i++)
            narrowed |= nwf_rule_field(rule, narrowing_fields[i])->present;
        if (!narrowed)
            return;
    }

    if (default_mode) {
        if (state && accept && !connlimit) {
            rule->ct_state = mirrored ? NWF_STATE_ESTABLISHED
                                      : NWF_STATE_NEW | NWF_STATE_ESTABLISHED;
            if (!icmp_type)
                rule->ct_dir = mirrored ? NWF_CT_DIR_REPLY : NWF_CT_DIR_ORIGINAL;
        }
    } else if (!(connlimit && accept)) {
        rule->ct_state = state & ~(guint)NWF_STATE_NONE;
    }
    nwf_rule_program_ip_add_rule(program, family, chain, g_steal_pointer(&rule));
}

static void
place_ip(NwfRuleProgram *program, NwfIpFamily family, const NwfCompileInst *inst,
         const NwfCompileCombo *combo)
{
    NwfDirection dir = inst->rule->direction;
    gboolean icmp_type = has_field(combo, NWF_FIELD_ICMP_TYPE) &&
        (inst->rule->protocol == NWF_PROTO_ICMP || inst->rule->protocol == NWF_PROTO_ICMPV6);
    gboolean explicit_state = inst->rule->statematch && has_field(combo, NWF_FIELD_STATE);

    if (explicit_state) {
        guint state = nwf_combo_field(combo, NWF_FIELD_STATE)->u.state;
        if (state & NWF_STATE_NONE)
            state = 0;
        if (dir != NWF_DIR_IN)
            place_ip_copy(program, family, NWF_IP_FROM_VM, inst, combo,
                          dir == NWF_DIR_INOUT, FALSE, state);
        if (dir != NWF_DIR_OUT)
            place_ip_copy(program, family, NWF_IP_TO_VM, inst, combo, FALSE, FALSE, state);
        if (dir != NWF_DIR_IN)
            place_ip_copy(program, family, NWF_IP_TO_HOST, inst, combo,
                          dir == NWF_DIR_INOUT, FALSE, state);
        return;
    }

    /* default mode: every rule also lets its mirror image through; ICMP
     * rules with a type are one-way (reply types differ), so their mirrored
     * copies are left out */
    {
        gboolean with_state = inst->rule->statematch && dir != NWF_DIR_INOUT;
        gboolean from_vm_mirrored = dir != NWF_DIR_OUT;

        if (!(icmp_type && from_vm_mirrored))
            place_ip_copy(program, family, NWF_IP_FROM_VM, inst, combo,
                          from_vm_mirrored, TRUE, with_state);
        if (!(icmp_type && dir != NWF_DIR_IN))
            place_ip_copy(program, family, NWF_IP_TO_VM, inst, combo,
                          dir == NWF_DIR_OUT, TRUE, with_state);
        if (!(icmp_type && from_vm_mirrored))
            place_ip_copy(program, family, NWF_IP_TO_HOST, inst, combo,
                          from_vm_mirrored, TRUE, with_state);
    }
}

gboolean
nwf_compile_layout(NwfRuleProgram *program, GPtrArray *insts, GError **error)
{
    g_autoptr(GArray) plans = nwf_compile_plan_subchains(insts);
    guint next_plan = 0;
    static const struct {
        NwfLayer layer;
        NwfIpFamily family;
    } ip_layers[] = {
        { NWF_LAYER_IPV4, NWF_IP_V4 },
        { NWF_LAYER_IPV6, NWF_IP_V6 },
    };

    for (guint i = 0; i < insts->len; i++) {
        const NwfCompileInst *inst = g_ptr_array_index(insts, i);

        if (nwf_protocol_layer(inst->rule->protocol) != NWF_LAYER_ETHERNET)
            continue;
        if (inst->rule->protocol == NWF_PROTO_STP && inst->rule->direction == NWF_DIR_INOUT &&
            inst->rule->fields[NWF_FIELD_SRCMACADDR].present) {
            nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "%s",
                          _("STP filtering in inout direction with source MAC address set is not supported"));
            return FALSE;
        }
        while (next_plan < plans->len &&
               nwf_compile_subchain_priority(plans, next_plan) <= inst->sort_priority)
            nwf_compile_create_subchain(program, plans, next_plan++);
        for (guint c = 0; c < inst->combos->len; c++)
            place_ethernet(program, inst, g_ptr_array_index(inst->combos, c));
    }
    while (next_plan < plans->len)
        nwf_compile_create_subchain(program, plans, next_plan++);

    for (guint l = 0; l < G_N_ELEMENTS(ip_layers); l++) {
        for (guint i = 0; i < insts->len; i++) {
            const NwfCompileInst *inst = g_ptr_array_index(insts, i);

            if (nwf_protocol_layer(inst->rule->protocol) != ip_layers[l].layer)
                continue;
            nwf_rule_program_ip_enable(program, ip_layers[l].family);
            for (guint c = 0; c < inst->combos->len; c++)
                place_ip(program, ip_layers[l].family, inst,
                         g_ptr_array_index(inst->combos, c));
        }
    }
    return TRUE;
}
