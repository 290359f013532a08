/* compile: walk the filter tree from the top-level filterref (spec §4, §5),
 * check that every variable resolves, expand, order and lay out. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/compile.h"
#include "nwfilter/compile_private.h"
#include "util/nwf_error.h"

/* Bounds against trees that reference filters many times over (a DAG of
 * depth n with two edges per level reaches 2^n rules). */
#define MAX_RULE_INSTANCES 100000
#define MAX_COMBOS_PER_RULE 65536

typedef struct {
    const NwfCompileInput *input;
    NwfRuleProgram *program;
    GPtrArray *insts;            /* NwfCompileInst* */
    GPtrArray *envs;             /* NwfParams*, owned */
    GPtrArray *stack;            /* char*, filter names being expanded */
} CompileCtx;

static void
inst_free(gpointer data)
{
    NwfCompileInst *inst = data;

    if (inst->combos)
        g_ptr_array_unref(inst->combos);
    g_free(inst);
}

gboolean
nwf_ip_learning_parse(const char *text, NwfIpLearning *out)
{
    static const char *const names[] = { "any", "dhcp", "none" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(text, names[i]) == 0) {
            *out = (NwfIpLearning)i;
            return TRUE;
        }
    }
    return FALSE;
}

static char *
loop_text(GPtrArray *stack, const char *again)
{
    g_autoptr(GString) text = g_string_new(NULL);
    guint start = 0;

    for (guint i = 0; i < stack->len; i++) {
        if (strcmp(g_ptr_array_index(stack, i), again) == 0)
            start = i;
    }
    for (guint i = start; i < stack->len; i++)
        g_string_append_printf(text, "'%s' -> ", (const char *)g_ptr_array_index(stack, i));
    g_string_append_printf(text, "'%s'", again);
    return g_string_free(g_steal_pointer(&text), FALSE);
}

static gboolean
stack_has(GPtrArray *stack, const char *name)
{
    for (guint i = 0; i < stack->len; i++) {
        if (strcmp(g_ptr_array_index(stack, i), name) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Depth first, document order; a filterref's own parameters are defaults
 * that the caller's environment overrides. */
static gboolean
walk_filter(CompileCtx *ctx, const char *name, const NwfParams *env, GError **error)
{
    const NwfFilterDef *def;

    if (stack_has(ctx->stack, name)) {
        g_autofree char *cycle = loop_text(ctx->stack, name);
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED,
                      _("filter would introduce a loop: %s"), cycle);
        return FALSE;
    }
    def = ctx->input->lookup(name, ctx->input->lookup_data);
    if (!def) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("referenced filter '%s' is missing"), name);
        return FALSE;
    }
    nwf_rule_program_note_filter(ctx->program, def->name);
    g_ptr_array_add(ctx->stack, (gpointer)name);

    for (guint i = 0; i < def->entries->len; i++) {
        const NwfEntry *entry = g_ptr_array_index(def->entries, i);

        if (entry->kind == NWF_ENTRY_RULE) {
            NwfCompileInst *inst;
            if (ctx->insts->len >= MAX_RULE_INSTANCES) {
                nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                              _("filter tree of '%s' reaches more than %d rules"),
                              ctx->input->filter, MAX_RULE_INSTANCES);
                return FALSE;
            }
            inst = g_new0(NwfCompileInst, 1);
            inst->filter = def;
            inst->rule = entry->rule;
            inst->env = env;
            inst->in_root = def->chain_kind == NWF_CHAIN_ROOT;
            g_ptr_array_add(ctx->insts, inst);
        } else {
            NwfParams *child = nwf_params_overlay(entry->ref->params, env);
            g_ptr_array_add(ctx->envs, child);
            if (!walk_filter(ctx, entry->ref->filter, child, error))
                return FALSE;
        }
    }
    g_ptr_array_set_size(ctx->stack, ctx->stack->len - 1);
    return TRUE;
}

static NwfParams *
top_env(const NwfCompileInput *input)
{
    g_autoptr(NwfParams) env = input->params ? nwf_params_copy(input->params) : nwf_params_new();

    /* $MAC comes from the port unless the binding names one itself */
    if (input->mac && !nwf_params_has(env, "MAC")) {
        g_autofree char *mac = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x",
                                               input->mac[0], input->mac[1], input->mac[2],
                                               input->mac[3], input->mac[4], input->mac[5]);
        nwf_params_add(env, "MAC", mac);
    }
    if (input->extra)
        return nwf_params_overlay(env, input->extra);
    return g_steal_pointer(&env);
}

static gboolean
check_learning(const NwfCompileInput *input, const NwfParams *env, NwfCompileInfo *info,
               GError **error)
{
    const GPtrArray *values = nwf_params_get(env, "CTRL_IP_LEARNING");

    info->learning = NWF_IP_LEARNING_ANY;
    if (!values || values->len == 0)
        return TRUE;
    if (!nwf_ip_learning_parse(g_ptr_array_index(values, 0), &info->learning)) {
        g_autofree char *msg = g_strdup_printf(
            "failed to parse configuration file filter '%s' learning value '%s' invalid.",
            input->filter, (const char *)g_ptr_array_index(values, 0));
        nwf_error_set_literal(error, NWF_ERR_INTERNAL_ERROR, msg);
        return FALSE;
    }
    return TRUE;
}

/* libvirt leaves IP and MAC out of the list; IP alone means "learn it". */
static gboolean
check_resolved(CompileCtx *ctx, NwfCompileInfo *info, GError **error)
{
    g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) listed = g_ptr_array_new();
    gboolean ip_missing = FALSE, mac_missing = FALSE, ipv6_missing = FALSE;
    gboolean other_missing = FALSE;
    g_autofree char *joined = NULL;

    for (guint i = 0; i < ctx->insts->len; i++)
        nwf_compile_collect_missing(g_ptr_array_index(ctx->insts, i), missing);
    if (missing->len == 0)
        return TRUE;

    for (guint i = 0; i < missing->len; i++) {
        const char *text = g_ptr_array_index(missing, i);
        gsize len = strcspn(text, "[");
        if (len == 2 && strncmp(text, "IP", 2) == 0)
            ip_missing = TRUE;
        else if (len == 3 && strncmp(text, "MAC", 3) == 0)
            mac_missing = TRUE;
        else {
            if (len == 4 && strncmp(text, "IPV6", 4) == 0)
                ipv6_missing = TRUE;
            else
                other_missing = TRUE;
            g_ptr_array_add(listed, (gpointer)text);
        }
    }
    /* Beyond libvirt, IPV6 is learned too (learn.h) when nothing but IP and
     * IPV6 is missing. */
    if (ipv6_missing && !other_missing && !mac_missing &&
        info->learning != NWF_IP_LEARNING_NONE) {
        info->needs_ipv6 = TRUE;
        info->needs_ip = ip_missing;
    }
    if (listed->len == 0) {
        if (ip_missing) {
            g_ptr_array_add(listed, (gpointer)"IP");
            info->needs_ip = !mac_missing && info->learning != NWF_IP_LEARNING_NONE;
        }
        if (mac_missing)
            g_ptr_array_add(listed, (gpointer)"MAC");
    }
    g_ptr_array_add(listed, NULL);
    joined = g_strjoinv(", ", (char **)listed->pdata);
    nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                  _("Cannot instantiate filter due to unresolvable variables or unavailable list elements: %s"),
                  joined);
    return FALSE;
}

/* A comment is copied into rule text; a line break or other control
 * character could end the rule there, so refuse it outright. */
static gboolean
check_comments(const NwfCompileInst *inst, GError **error)
{
    for (guint c = 0; c < inst->combos->len; c++) {
        const NwfCompileCombo *combo = g_ptr_array_index(inst->combos, c);
        const NwfValue *comment = nwf_combo_field(combo, NWF_FIELD_COMMENT);

        if (!comment->present || !comment->u.str)
            continue;
        for (const char *p = comment->u.str; *p; p++) {
            if ((guchar)*p < 0x20 || *p == 0x7f) {
                nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                              _("comment of the rule at line %d of filter '%s' contains a "
                                "line break or control character (0x%02x); firewall rule "
                                "comments must be a single line of printable text"),
                              inst->rule->line, inst->filter->name, (guchar)*p);
                return FALSE;
            }
        }
    }
    return TRUE;
}

NwfRuleProgram *
nwf_compile(const NwfCompileInput *input, NwfCompileInfo *info, GError **error)
{
    NwfCompileInfo local_info;
    g_autoptr(NwfRuleProgram) program = nwf_rule_program_new(input->ifname);
    g_autoptr(GPtrArray) insts = g_ptr_array_new_with_free_func(inst_free);
    g_autoptr(GPtrArray) envs = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_params_free);
    g_autoptr(GPtrArray) stack = g_ptr_array_new();
    CompileCtx ctx = {
        .input = input, .program = program, .insts = insts, .envs = envs, .stack = stack,
    };
    NwfParams *env;

    if (!info)
        info = &local_info;
    memset(info, 0, sizeof(*info));

    if (input->mac) {
        program->have_mac = TRUE;
        memcpy(program->mac, input->mac, 6);
    }
    env = top_env(input);
    g_ptr_array_add(envs, env);
    if (!check_learning(input, env, info, error))
        return NULL;
    if (!walk_filter(&ctx, input->filter, env, error))
        return NULL;
    if (!check_resolved(&ctx, info, error))
        return NULL;

    for (guint i = 0; i < insts->len; i++) {
        NwfCompileInst *inst = g_ptr_array_index(insts, i);
        if (!nwf_compile_expand(inst, MAX_COMBOS_PER_RULE, error) ||
            !check_comments(inst, error))
            return NULL;
    }
    nwf_compile_sort(insts);
    if (!nwf_compile_layout(program, insts, error))
        return NULL;
    return g_steal_pointer(&program);
}

NwfRuleProgram *
nwf_compile_binding(const NwfBindingDef *binding, NwfFilterLookupFunc lookup,
                    gpointer lookup_data, const NwfParams *extra,
                    NwfCompileInfo *info, GError **error)
{
    NwfCompileInput input = {
        .ifname = binding->portdev,
        .mac = binding->mac,
        .filter = binding->filterref.filter,
        .params = binding->filterref.params,
        .extra = extra,
        .lookup = lookup,
        .lookup_data = lookup_data,
    };

    return nwf_compile(&input, info, error);
}

/* Fewer bindings than this per thread are not worth a thread. */
#define BINDINGS_PER_THREAD_MIN 32
#define COMPILE_THREADS_MAX 16

typedef struct {
    const NwfBindingDef *const *bindings;
    guint n;
    guint first;                 /* this share: first, first + stride, ... */
    guint stride;
    NwfFilterLookupFunc lookup;
    gpointer lookup_data;
    NwfRuleProgram **programs;
    NwfCompileInfo *infos;       /* may be NULL */
} CompileShare;

static gpointer
compile_share_run(gpointer data)
{
    const CompileShare *share = data;

    for (guint i = share->first; i < share->n; i += share->stride)
        share->programs[i] = nwf_compile_binding(share->bindings[i], share->lookup,
                                                 share->lookup_data, NULL,
                                                 share->infos ? &share->infos[i] : NULL, NULL);
    return NULL;
}

void
nwf_compile_bindings(const NwfBindingDef *const *bindings, guint n,
                     NwfFilterLookupFunc lookup, gpointer lookup_data, guint threads,
                     NwfRuleProgram **programs, NwfCompileInfo *infos)
{
    CompileShare shares[COMPILE_THREADS_MAX];
    GThread *workers[COMPILE_THREADS_MAX] = { NULL };
    guint count = MIN(MIN(threads, COMPILE_THREADS_MAX), n / BINDINGS_PER_THREAD_MIN);

    count = MAX(count, 1u);
    for (guint t = 0; t < count; t++) {
        shares[t] = (CompileShare){ bindings, n, t, count, lookup, lookup_data, programs,
                                    infos };
        /* the calling thread takes the first share itself */
        if (t > 0)
            workers[t] = g_thread_try_new("nwf-compile", compile_share_run, &shares[t], NULL);
    }
    compile_share_run(&shares[0]);
    for (guint t = 1; t < count; t++) {
        if (workers[t])
            g_thread_join(workers[t]);
        else
            compile_share_run(&shares[t]);    /* no thread: do it here */
    }
}
