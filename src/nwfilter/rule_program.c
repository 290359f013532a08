/* Construction and destruction of rule programs; no semantics live here. */
#include "config.h"

#include <string.h>

#include "nwfilter/rule_program.h"

NwfRuleInst *
nwf_rule_inst_new(NwfProtocol protocol, NwfAction action)
{
    NwfRuleInst *rule = g_new0(NwfRuleInst, 1);

    rule->protocol = protocol;
    rule->action = action;
    rule->origin.filter = g_strdup("");
    rule->origin.chain = g_strdup("root");
    rule->origin.vars = g_strdup("");
    return rule;
}

const NwfValue nwf_value_unset;

NwfRuleInst *
nwf_rule_inst_copy(const NwfRuleInst *rule)
{
    NwfRuleInst *copy = g_new0(NwfRuleInst, 1);
    guint n = (guint)__builtin_popcountll(rule->field_set);

    *copy = *rule;
    copy->values = n ? g_new0(NwfValue, n) : NULL;
    for (guint i = 0; i < n; i++)
        nwf_value_copy(&copy->values[i], &rule->values[i]);
    copy->origin.filter = g_strdup(rule->origin.filter);
    copy->origin.chain = g_strdup(rule->origin.chain);
    copy->origin.vars = g_strdup(rule->origin.vars);
    return copy;
}

NwfValue *
nwf_rule_field_put(NwfRuleInst *rule, NwfField field)
{
    guint64 bit = G_GUINT64_CONSTANT(1) << field;
    guint at = (guint)__builtin_popcountll(rule->field_set & (bit - 1));
    guint n = (guint)__builtin_popcountll(rule->field_set);

    g_return_val_if_fail((guint)field < NWF_FIELD_LAST, NULL);
    if (rule->field_set & bit)
        return &rule->values[at];
    rule->values = g_renew(NwfValue, rule->values, n + 1);
    memmove(&rule->values[at + 1], &rule->values[at], (n - at) * sizeof(NwfValue));
    memset(&rule->values[at], 0, sizeof(NwfValue));
    rule->field_set |= bit;
    return &rule->values[at];
}

void
nwf_rule_field_drop(NwfRuleInst *rule, NwfField field)
{
    guint64 bit = G_GUINT64_CONSTANT(1) << field;
    guint at = (guint)__builtin_popcountll(rule->field_set & (bit - 1));
    guint n = (guint)__builtin_popcountll(rule->field_set);

    if ((guint)field >= NWF_FIELD_LAST || !(rule->field_set & bit))
        return;
    nwf_value_clear(&rule->values[at]);
    memmove(&rule->values[at], &rule->values[at + 1], (n - at - 1) * sizeof(NwfValue));
    rule->field_set &= ~bit;
    if (rule->field_set == 0)
        g_clear_pointer(&rule->values, g_free);
}

void
nwf_rule_inst_free(NwfRuleInst *rule)
{
    guint n;

    if (!rule)
        return;
    n = (guint)__builtin_popcountll(rule->field_set);
    for (guint i = 0; i < n; i++)
        nwf_value_clear(&rule->values[i]);
    g_free(rule->values);
    g_free(rule->origin.filter);
    g_free(rule->origin.chain);
    g_free(rule->origin.vars);
    g_free(rule);
}

static void
eth_entry_free(gpointer data)
{
    NwfEthEntry *entry = data;

    nwf_rule_inst_free(entry->rule);
    g_free(entry);
}

static void
eth_subchain_free(gpointer data)
{
    NwfEthSubChain *sub = data;

    g_free(sub->suffix);
    g_ptr_array_unref(sub->rules);
    g_free(sub);
}

NwfRuleProgram *
nwf_rule_program_new(const char *ifname)
{
    NwfRuleProgram *program = g_new0(NwfRuleProgram, 1);

    program->ifname = g_strdup(ifname);
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        program->eth[d].entries = g_ptr_array_new_with_free_func(eth_entry_free);
        program->eth[d].subchains = g_ptr_array_new_with_free_func(eth_subchain_free);
    }
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++)
            program->ip[v].chains[c] =
                g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rule_inst_free);
    }
    program->filters = g_ptr_array_new_with_free_func(g_free);
    return program;
}

void
nwf_rule_program_free(NwfRuleProgram *program)
{
    if (!program)
        return;
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        /* entries first: jump entries point into subchains */
        g_ptr_array_unref(program->eth[d].entries);
        g_ptr_array_unref(program->eth[d].subchains);
    }
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++)
            g_ptr_array_unref(program->ip[v].chains[c]);
    }
    g_ptr_array_unref(program->filters);
    g_free(program->ifname);
    g_free(program);
}

NwfEthSubChain *
nwf_rule_program_eth_find_subchain(NwfRuleProgram *program, NwfEthDir dir, const char *suffix)
{
    GPtrArray *subs = program->eth[dir].subchains;

    for (guint i = 0; i < subs->len; i++) {
        NwfEthSubChain *sub = g_ptr_array_index(subs, i);
        if (strcmp(sub->suffix, suffix) == 0)
            return sub;
    }
    return NULL;
}

NwfEthSubChain *
nwf_rule_program_eth_add_subchain(NwfRuleProgram *program, NwfEthDir dir,
                                  const char *suffix, NwfChainKind kind, int priority)
{
    NwfEthSubChain *sub = g_new0(NwfEthSubChain, 1);
    NwfEthEntry *jump = g_new0(NwfEthEntry, 1);

    sub->suffix = g_strdup(suffix);
    sub->kind = kind;
    sub->priority = priority;
    sub->seq = program->next_seq++;
    sub->rules = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rule_inst_free);
    g_ptr_array_add(program->eth[dir].subchains, sub);

    jump->kind = NWF_ETH_ENTRY_JUMP;
    jump->subchain = sub;
    g_ptr_array_add(program->eth[dir].entries, jump);
    program->eth[dir].present = TRUE;
    return sub;
}

void
nwf_rule_program_eth_add_rule(NwfRuleProgram *program, NwfEthDir dir,
                              NwfEthSubChain *subchain, NwfRuleInst *rule)
{
    rule->seq = program->next_seq++;
    program->eth[dir].present = TRUE;
    if (subchain) {
        g_ptr_array_add(subchain->rules, rule);
    } else {
        NwfEthEntry *entry = g_new0(NwfEthEntry, 1);
        entry->kind = NWF_ETH_ENTRY_RULE;
        entry->rule = rule;
        g_ptr_array_add(program->eth[dir].entries, entry);
    }
}

void
nwf_rule_program_ip_enable(NwfRuleProgram *program, NwfIpFamily family)
{
    program->ip[family].present = TRUE;
}

void
nwf_rule_program_ip_add_rule(NwfRuleProgram *program, NwfIpFamily family,
                             NwfIpChain chain, NwfRuleInst *rule)
{
    rule->seq = program->next_seq++;
    program->ip[family].present = TRUE;
    g_ptr_array_add(program->ip[family].chains[chain], rule);
}

void
nwf_rule_program_note_filter(NwfRuleProgram *program, const char *filter)
{
    for (guint i = 0; i < program->filters->len; i++) {
        if (strcmp(g_ptr_array_index(program->filters, i), filter) == 0)
            return;
    }
    g_ptr_array_add(program->filters, g_strdup(filter));
}

guint
nwf_rule_program_count_rules(const NwfRuleProgram *program)
{
    guint n = 0;

    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        const NwfEthChains *eth = &program->eth[d];
        for (guint i = 0; i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
            if (entry->kind == NWF_ETH_ENTRY_RULE)
                n++;
        }
        for (guint i = 0; i < eth->subchains->len; i++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, i);
            n += sub->rules->len;
        }
    }
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++)
            n += program->ip[v].chains[c]->len;
    }
    return n;
}
