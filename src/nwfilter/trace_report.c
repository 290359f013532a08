/* A trace result as text for people. */
#include "config.h"

#include "nwfilter/trace.h"

static const char *
ct_dir_name(NwfCtDir dir)
{
    return dir == NWF_CT_DIR_REPLY ? "reply" : "original";
}

/* The rule's own matches as attributes, e.g. "arp arpsrcipaddr='10.0.0.9'". */
static void
append_rule_match(GString *out, const NwfRuleInst *rule)
{
    const char *proto = nwf_protocol_name(rule->protocol);

    g_string_append(out, *proto ? proto : "(any frame)");
    for (guint f = 0; f < NWF_FIELD_LAST; f++) {
        const NwfValue *v = nwf_rule_field(rule, f);
        g_autofree char *text = NULL;
        if (!v->present || f == NWF_FIELD_COMMENT)
            continue;
        text = nwf_value_format(v, (NwfField)f);
        g_string_append_printf(out, " %s%s='%s'", v->negated ? "!" : "",
                               nwf_field_name((NwfField)f), text);
    }
    if (rule->ct_state) {
        static const char *const names[] = { "NEW", "ESTABLISHED", "RELATED", "INVALID" };
        gboolean first = TRUE;
        g_string_append(out, " ctstate=");
        for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
            if (rule->ct_state & (1u << i)) {
                g_string_append_printf(out, "%s%s", first ? "" : ",", names[i]);
                first = FALSE;
            }
        }
    }
    if (rule->ct_dir != NWF_CT_DIR_NONE)
        g_string_append_printf(out, " ctdir=%s", ct_dir_name(rule->ct_dir));
    if (rule->swapped)
        g_string_append(out, " (mirrored copy)");
}

static void
append_origin(GString *out, const NwfRuleInst *rule, const char *indent)
{
    const NwfRuleOrigin *o = &rule->origin;

    g_string_append_printf(out, "%s  rule: filter '%s' (chain %s), priority %d",
                           indent, o->filter, o->chain, o->priority);
    if (o->line > 0)
        g_string_append_printf(out, ", line %d", o->line);
    g_string_append_printf(out, ", action %s\n", nwf_action_name(rule->action));
    g_string_append_printf(out, "%s  match: ", indent);
    append_rule_match(out, rule);
    g_string_append_c(out, '\n');
    if (o->vars && *o->vars)
        g_string_append_printf(out, "%s  variables: %s\n", indent, o->vars);
}

static void
append_layer(GString *out, const NwfTraceLayerResult *layer, gboolean reached)
{
    g_string_append_printf(out, "%s layer: %s%s\n", layer->name,
                           nwf_trace_verdict_name(layer->verdict),
                           reached ? "" : " (not reached in the kernel: the frame was "
                                          "already refused)");
    for (guint i = 0; i < layer->steps->len; i++) {
        const NwfTraceStep *step = g_ptr_array_index(layer->steps, i);
        const char *indent = step->depth ? "      " : "    ";
        g_string_append_printf(out, "%s[%s] %s\n", indent, step->chain, step->event);
        if (step->rule)
            append_origin(out, step->rule, indent);
    }
    g_string_append_printf(out, "  => %s\n", layer->summary);
}

char *
nwf_trace_result_format(const NwfTraceResult *result, const NwfTracePacket *packet,
                        const NwfTraceOptions *options)
{
    GString *out = g_string_new(NULL);
    g_autofree char *desc = nwf_trace_packet_describe(packet);

    g_string_append_printf(out, "packet: %s\n", desc);
    g_string_append_printf(out, "direction: %s, conntrack: %s (%s direction)\n",
                           options->vm_out ? (options->to_host ? "out (sent by the VM to the host)"
                                                               : "out (sent by the VM, bridged)")
                                           : "in (sent to the VM)",
                           nwf_trace_ct_state_name(options->ct_state),
                           ct_dir_name(options->ct_dir));
    append_layer(out, result->first, TRUE);
    append_layer(out, result->second, result->first->verdict == NWF_TRACE_ACCEPT);
    for (guint i = 0; i < result->notes->len; i++)
        g_string_append_printf(out, "note: %s\n", (const char *)g_ptr_array_index(result->notes, i));
    g_string_append_printf(out, "verdict: %s\n", nwf_trace_verdict_name(result->verdict));
    return g_string_free(out, FALSE);
}
