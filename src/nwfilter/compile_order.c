/* Rule ordering and ethernet sub-chain interleaving (spec §5.3). */
#include "config.h"

#include <string.h>

#include "nwfilter/compile_private.h"

static gint
inst_compare(gconstpointer a, gconstpointer b)
{
    const NwfCompileInst *x = *(NwfCompileInst *const *)a;
    const NwfCompileInst *y = *(NwfCompileInst *const *)b;

    /* root-chain rules first: their jumps must exist before sub-chain rules */
    if (x->in_root != y->in_root)
        return x->in_root ? -1 : 1;
    if (x->sort_priority != y->sort_priority)
        return x->sort_priority < y->sort_priority ? -1 : 1;
    return x->tree_index < y->tree_index ? -1 : (x->tree_index > y->tree_index);
}

void
nwf_compile_sort(GPtrArray *insts)
{
    for (guint i = 0; i < insts->len; i++) {
        NwfCompileInst *inst = g_ptr_array_index(insts, i);
        inst->tree_index = i;
        inst->sort_priority = inst->rule->priority;
        /* a low rule priority is raised to its chain's, so the chain is
         * created (by priority) before any of its rules */
        if (!inst->in_root && inst->filter->chain_priority > inst->sort_priority)
            inst->sort_priority = inst->filter->chain_priority;
    }
    g_ptr_array_sort(insts, inst_compare);
}

/* A sub-chain to create: which direction, which chain, at what priority. */
typedef struct {
    NwfEthDir dir;
    const char *suffix;
    NwfChainKind kind;
    int priority;
    guint index;                 /* planning order, for a stable sort */
} SubChainPlan;

static gint
plan_compare(gconstpointer a, gconstpointer b)
{
    const SubChainPlan *x = a;
    const SubChainPlan *y = b;

    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static void
plan_note(GArray *plans, NwfEthDir dir, const NwfCompileInst *inst)
{
    SubChainPlan plan = {
        .dir = dir,
        .suffix = inst->filter->chain,
        .kind = inst->filter->chain_kind,
        .priority = inst->filter->chain_priority,
    };

    for (guint i = 0; i < plans->len; i++) {
        SubChainPlan *known = &g_array_index(plans, SubChainPlan, i);
        if (known->dir == dir && strcmp(known->suffix, plan.suffix) == 0) {
            /* libvirt keeps the chain priority of the last rule seen */
            known->priority = plan.priority;
            return;
        }
    }
    g_array_append_val(plans, plan);
}

/* Sub-chains of both directions, VM-out first (libvirt creates the I side
 * first), then ordered by priority. */
GArray *
nwf_compile_plan_subchains(GPtrArray *insts)
{
    GArray *plans = g_array_new(FALSE, FALSE, sizeof(SubChainPlan));
    g_autoptr(GArray) in_plans = g_array_new(FALSE, FALSE, sizeof(SubChainPlan));

    for (guint i = 0; i < insts->len; i++) {
        const NwfCompileInst *inst = g_ptr_array_index(insts, i);
        if (inst->in_root || nwf_protocol_layer(inst->rule->protocol) != NWF_LAYER_ETHERNET)
            continue;
        if (inst->rule->direction & NWF_DIR_OUT)
            plan_note(plans, NWF_ETH_VM_OUT, inst);
        if (inst->rule->direction & NWF_DIR_IN)
            plan_note(in_plans, NWF_ETH_VM_IN, inst);
    }
    g_array_append_vals(plans, in_plans->data, in_plans->len);
    for (guint i = 0; i < plans->len; i++)
        g_array_index(plans, SubChainPlan, i).index = i;
    g_array_sort(plans, plan_compare);
    return plans;
}

void
nwf_compile_create_subchain(NwfRuleProgram *program, GArray *plans, guint index)
{
    const SubChainPlan *plan = &g_array_index(plans, SubChainPlan, index);

    nwf_rule_program_eth_add_subchain(program, plan->dir, plan->suffix, plan->kind,
                                      plan->priority);
}

int
nwf_compile_subchain_priority(GArray *plans, guint index)
{
    return g_array_index(plans, SubChainPlan, index).priority;
}
