/* Internals shared by the compile*.c files. */
#pragma once

#include <glib.h>

#include "conf/nwfilter_def.h"
#include "conf/nwfilter_params.h"
#include "nwfilter/rule_program.h"

/* One <rule> reached in the tree, with the environment it was reached in. */
typedef struct {
    const NwfFilterDef *filter;
    const NwfRuleDef *rule;
    const NwfParams *env;        /* owned by the compile context */
    gboolean in_root;            /* the filter's chain is 'root' */
    int sort_priority;           /* rule priority, raised to the chain's */
    guint tree_index;            /* depth-first position, for stable sorting */
    GPtrArray *combos;           /* NwfCompileCombo*, filled by expansion */
} NwfCompileInst;

/* One value combination of a rule instance: every field resolved, kept
 * sparse like NwfRuleInst's (read with nwf_combo_field()). */
typedef struct {
    guint64 field_set;           /* bit F: values holds field F */
    NwfValue *values;            /* in field order */
    guint64 var_fields;          /* bit F: field F came from a variable */
    char *vars;                  /* "A=1.1.1.1 B=80", "" without variables */
} NwfCompileCombo;

static inline const NwfValue *
nwf_combo_field(const NwfCompileCombo *combo, NwfField field)
{
    return nwf_fields_get(combo->field_set, combo->values, field);
}

void nwf_compile_combo_free(NwfCompileCombo *combo);

/* Field order in which a protocol's attributes are scanned for variables
 * (libvirt's attribute-table order). Returns the number of fields; *ORDER
 * is NULL when the order is the NwfField enum order. */
guint nwf_compile_field_order(NwfProtocol protocol, const NwfField **order);

/* Append to MISSING (char*, owned) the text of every reference of INST that
 * ENV cannot satisfy ("FOO", "A[5]", "X[@1]"), each once. */
void nwf_compile_collect_missing(const NwfCompileInst *inst, GPtrArray *missing);

/* Expand INST's variables into INST->combos (libvirt's iterator semantics,
 * duplicates suppressed), validating every value against its field. */
gboolean nwf_compile_expand(NwfCompileInst *inst, guint max_combos, GError **error);

/* Sort instances: root-chain rules first, then by sort_priority, stable. */
void nwf_compile_sort(GPtrArray *insts);

/* Lay out every sorted instance into PROGRAM (sub-chains, directions,
 * mirrored copies, state matching), in libvirt's emission order. */
gboolean nwf_compile_layout(NwfRuleProgram *program, GPtrArray *insts, GError **error);

/* The ethernet sub-chains INSTS need (both directions), in creation order:
 * VM-out before VM-in, then by chain priority, stable. Opaque elements. */
GArray *nwf_compile_plan_subchains(GPtrArray *insts);
/* Create planned sub-chain INDEX (and its jump) in PROGRAM. */
void nwf_compile_create_subchain(NwfRuleProgram *program, GArray *plans, guint index);
int nwf_compile_subchain_priority(GArray *plans, guint index);
