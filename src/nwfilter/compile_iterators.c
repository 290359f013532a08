/* Variable expansion of one rule instance (spec §4.5): references sharing
 * an iterator id step in parallel, different ids form a cartesian product
 * with the first-seen group varying fastest, $X[n] is a constant, and a step
 * whose value tuple repeats an earlier step of its group is skipped. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/compile_private.h"
#include "util/nwf_error.h"

/* Ethernet-layer protocols list their attributes in enum order; the
 * iptables-layer ones put dscp, connlimit, state and ipset before the ports
 * (libvirt's IPC group comes first in their tables). */
static const NwfField l34_order[] = {
    NWF_FIELD_SRCMACADDR, NWF_FIELD_SRCIPADDR, NWF_FIELD_SRCIPMASK,
    NWF_FIELD_DSTIPADDR, NWF_FIELD_DSTIPMASK, NWF_FIELD_SRCIPFROM,
    NWF_FIELD_SRCIPTO, NWF_FIELD_DSTIPFROM, NWF_FIELD_DSTIPTO,
    NWF_FIELD_DSCP, NWF_FIELD_CONNLIMIT_ABOVE, NWF_FIELD_STATE,
    NWF_FIELD_IPSET, NWF_FIELD_IPSETFLAGS, NWF_FIELD_SRCPORTSTART,
    NWF_FIELD_SRCPORTEND, NWF_FIELD_DSTPORTSTART, NWF_FIELD_DSTPORTEND,
    NWF_FIELD_TCP_OPTION, NWF_FIELD_TCP_FLAGS, NWF_FIELD_ICMP_TYPE,
    NWF_FIELD_ICMP_CODE, NWF_FIELD_COMMENT,
};

guint
nwf_compile_field_order(NwfProtocol protocol, const NwfField **order)
{
    if (nwf_protocol_layer(protocol) != NWF_LAYER_ETHERNET) {
        *order = l34_order;
        return G_N_ELEMENTS(l34_order);
    }
    *order = NULL;
    return NWF_FIELD_LAST;
}

void
nwf_compile_combo_free(NwfCompileCombo *combo)
{
    guint n;

    if (!combo)
        return;
    n = (guint)__builtin_popcountll(combo->field_set);
    for (guint i = 0; i < n; i++)
        nwf_value_clear(&combo->values[i]);
    g_free(combo->values);
    g_free(combo->vars);
    g_free(combo);
}

/* Reference text without the '$', as libvirt lists unresolved variables. */
static char *
ref_text(const NwfVarRef *ref)
{
    g_autofree char *text = nwf_var_ref_format(ref);

    return g_strdup(text[0] == '$' ? text + 1 : text);
}

static gboolean
ref_resolvable(const NwfVarRef *ref, const NwfParams *env)
{
    const GPtrArray *values = nwf_params_get(env, ref->name);

    if (!values || values->len == 0)
        return FALSE;
    return ref->kind == NWF_VARREF_ITERATOR || ref->index < values->len;
}

static gboolean
text_listed(GPtrArray *list, const char *text)
{
    for (guint i = 0; i < list->len; i++) {
        if (strcmp(g_ptr_array_index(list, i), text) == 0)
            return TRUE;
    }
    return FALSE;
}

void
nwf_compile_collect_missing(const NwfCompileInst *inst, GPtrArray *missing)
{
    for (guint f = 0; f < NWF_FIELD_LAST; f++) {
        const NwfValue *value = &inst->rule->fields[f];
        g_autofree char *text = NULL;

        if (!value->present || !value->var || ref_resolvable(value->var, inst->env))
            continue;
        text = ref_text(value->var);
        if (!text_listed(missing, text))
            g_ptr_array_add(missing, g_steal_pointer(&text));
    }
}

/* A group of references stepping together. */
typedef struct {
    gboolean constant;           /* a $X[n] element access */
    guint iterator;              /* iterator id (when not constant) */
    GPtrArray *names;            /* char* (borrowed), distinct, first-seen order */
    GArray *steps;               /* guint: list positions kept after dedup */
    guint pos;                   /* current index into steps */
} IterGroup;

static void
iter_group_free(gpointer data)
{
    IterGroup *group = data;

    g_ptr_array_unref(group->names);
    g_array_unref(group->steps);
    g_free(group);
}

static IterGroup *
find_group(GPtrArray *groups, const NwfVarRef *ref)
{
    for (guint i = 0; i < groups->len; i++) {
        IterGroup *group = g_ptr_array_index(groups, i);
        if (ref->kind == NWF_VARREF_ITERATOR && !group->constant &&
            group->iterator == ref->index)
            return group;
        if (ref->kind == NWF_VARREF_INDEX && group->constant &&
            strcmp(g_ptr_array_index(group->names, 0), ref->name) == 0 &&
            group->iterator == ref->index)
            return group;
    }
    return NULL;
}

static gboolean
group_has_name(const IterGroup *group, const char *name)
{
    for (guint i = 0; i < group->names->len; i++) {
        if (strcmp(g_ptr_array_index(group->names, i), name) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Fill GROUP->steps: every list position whose value tuple is new. */
static gboolean
group_plan_steps(IterGroup *group, const NwfParams *env, GError **error)
{
    guint card = 0;

    if (group->constant) {
        guint index = group->iterator;
        g_array_append_val(group->steps, index);
        return TRUE;
    }
    for (guint i = 0; i < group->names->len; i++) {
        const GPtrArray *values = nwf_params_get(env, g_ptr_array_index(group->names, i));
        if (i == 0) {
            card = values->len;
        } else if (values->len != card) {
            nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "%s",
                          _("Cardinality of list items must be the same for processing them in parallel"));
            return FALSE;
        }
    }
    for (guint step = 0; step < card; step++) {
        gboolean repeat = FALSE;
        for (guint prev = 0; prev < step && !repeat; prev++) {
            gboolean same = TRUE;
            for (guint i = 0; i < group->names->len && same; i++) {
                const GPtrArray *values = nwf_params_get(env, g_ptr_array_index(group->names, i));
                same = strcmp(g_ptr_array_index(values, step),
                              g_ptr_array_index(values, prev)) == 0;
            }
            repeat = same;
        }
        if (!repeat)
            g_array_append_val(group->steps, step);
    }
    return TRUE;
}

static const char *
group_value(const IterGroup *group, const NwfParams *env, const char *name)
{
    const GPtrArray *values = nwf_params_get(env, name);

    return g_ptr_array_index(values, g_array_index(group->steps, guint, group->pos));
}

/* Build one combination from the groups' current positions. */
static NwfCompileCombo *
combo_build(const NwfCompileInst *inst, GPtrArray *groups, const NwfField *order,
            guint norder, GError **error)
{
    g_autoptr(GString) vars = g_string_new(NULL);
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    NwfCompileCombo *combo = g_new0(NwfCompileCombo, 1);
    const NwfRuleDef *rule = inst->rule;

    /* every field the rule sets, literal or variable, gets its slot */
    for (guint f = 0; f < NWF_FIELD_LAST; f++) {
        if (rule->fields[f].present)
            combo->field_set |= G_GUINT64_CONSTANT(1) << f;
    }
    if (combo->field_set)
        combo->values = g_new0(NwfValue, __builtin_popcountll(combo->field_set));
    for (guint f = 0; f < NWF_FIELD_LAST; f++) {
        if (rule->fields[f].present && !rule->fields[f].var)
            nwf_value_copy((NwfValue *)nwf_combo_field(combo, f), &rule->fields[f]);
    }
    for (guint o = 0; o < norder; o++) {
        NwfField f = order ? order[o] : (NwfField)o;
        const NwfValue *src = &rule->fields[f];
        const IterGroup *group;
        const char *text;
        g_autofree char *rtext = NULL;
        NwfValue *slot;

        if (!src->present || !src->var)
            continue;
        group = find_group(groups, src->var);
        text = group_value(group, inst->env, src->var->name);
        slot = (NwfValue *)nwf_combo_field(combo, f);
        if (!nwf_value_parse(rule->protocol, f, text, slot, error)) {
            nwf_compile_combo_free(combo);
            return NULL;
        }
        slot->present = TRUE;
        slot->negated = src->negated;
        combo->var_fields |= G_GUINT64_CONSTANT(1) << f;
        rtext = ref_text(src->var);
        if (!text_listed(seen, rtext)) {
            g_string_append_printf(vars, "%s%s=%s", vars->len ? " " : "", rtext, text);
            g_ptr_array_add(seen, g_steal_pointer(&rtext));
        }
    }
    combo->vars = g_string_free(g_steal_pointer(&vars), FALSE);
    return combo;
}

gboolean
nwf_compile_expand(NwfCompileInst *inst, guint max_combos, GError **error)
{
    g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(iter_group_free);
    const NwfField *order;
    guint norder = nwf_compile_field_order(inst->rule->protocol, &order);
    guint64 total = 1;
    guint nvars = 0, nseen = 0;

    for (guint f = 0; f < NWF_FIELD_LAST; f++)
        nvars += inst->rule->fields[f].present && inst->rule->fields[f].var;
    for (guint o = 0; o < norder; o++) {
        const NwfValue *value = &inst->rule->fields[order ? order[o] : o];
        IterGroup *group;

        if (!value->present || !value->var)
            continue;
        nseen++;
        group = find_group(groups, value->var);
        if (!group) {
            group = g_new0(IterGroup, 1);
            group->constant = value->var->kind == NWF_VARREF_INDEX;
            group->iterator = value->var->index;
            group->names = g_ptr_array_new();
            group->steps = g_array_new(FALSE, FALSE, sizeof(guint));
            g_ptr_array_add(groups, group);
        }
        if (!group_has_name(group, value->var->name))
            g_ptr_array_add(group->names, value->var->name);
    }
    if (nseen != nvars) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                      _("a variable is used in an attribute that %s rules do not have"),
                      nwf_protocol_name(inst->rule->protocol));
        return FALSE;
    }
    for (guint i = 0; i < groups->len; i++) {
        IterGroup *group = g_ptr_array_index(groups, i);
        if (!group_plan_steps(group, inst->env, error))
            return FALSE;
        total *= group->steps->len;
        if (total > max_combos) {
            nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                          _("rule at line %d of filter '%s' expands to more than %u rules"),
                          inst->rule->line, inst->filter->name, max_combos);
            return FALSE;
        }
    }

    inst->combos = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_compile_combo_free);
    for (;;) {
        NwfCompileCombo *combo = combo_build(inst, groups, order, norder, error);
        guint g;

        if (!combo)
            return FALSE;
        g_ptr_array_add(inst->combos, combo);
        /* odometer: the first group turns fastest */
        for (g = 0; g < groups->len; g++) {
            IterGroup *group = g_ptr_array_index(groups, g);
            if (++group->pos < group->steps->len)
                break;
            group->pos = 0;
        }
        if (g == groups->len)
            break;
    }
    return TRUE;
}
