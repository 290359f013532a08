/* Canonical text of a binding's filter tree, and its SHA-256. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/fingerprint.h"
#include "util/nwf_error.h"

void
nwf_fingerprint_free(NwfFingerprint *fp)
{
    if (!fp)
        return;
    g_free(fp->sha256);
    g_free(fp->canonical);
    if (fp->filters)
        g_ptr_array_unref(fp->filters);
    g_free(fp);
}

/* Names sorted, each with its values in the given (meaningful) order. */
static void
append_params(GString *out, const char *prefix, const NwfParams *params)
{
    g_autoptr(GPtrArray) names = nwf_params_sorted_names(params);

    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        const GPtrArray *values = nwf_params_get(params, name);
        for (guint v = 0; values && v < values->len; v++)
            g_string_append_printf(out, "%s%s=%s\n", prefix, name,
                                   (const char *)g_ptr_array_index(values, v));
    }
}

static void
append_value(GString *out, const NwfValue *value, NwfField field)
{
    gboolean number = value->type == NWF_TYPE_UINT8 || value->type == NWF_TYPE_UINT16 ||
                      value->type == NWF_TYPE_UINT32;

    /* hex or a protocol name written instead of a number enforces the same */
    if (number && !value->var) {
        g_string_append_printf(out, "%u", value->u.num);
    } else {
        g_autofree char *text = nwf_value_format(value, field);
        g_string_append(out, text);
    }
}

static void
append_rule(GString *out, const NwfRuleDef *rule)
{
    g_string_append_printf(out, "  rule action=%s direction=%s priority=%d statematch=%d "
                           "protocol=%s\n", nwf_action_name(rule->action),
                           nwf_direction_name(rule->direction), rule->priority,
                           rule->statematch ? 1 : 0, nwf_protocol_name(rule->protocol));
    for (guint f = 0; f < NWF_FIELD_LAST; f++) {
        const NwfValue *value = &rule->fields[f];
        if (!value->present || f == NWF_FIELD_COMMENT)
            continue;
        g_string_append_printf(out, "    %s%s=", value->negated ? "!" : "",
                               nwf_field_name((NwfField)f));
        append_value(out, value, (NwfField)f);
        g_string_append_c(out, '\n');
    }
}

typedef struct {
    NwfFilterLookupFunc lookup;
    gpointer lookup_data;
    GString *out;
    GPtrArray *filters;          /* char*, reached */
    GPtrArray *stack;            /* const char*, being walked */
} Walk;

static gboolean
name_in(GPtrArray *names, const char *name)
{
    return g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL);
}

static gboolean
walk_filter(Walk *w, const char *name, GError **error)
{
    const NwfFilterDef *def;

    if (name_in(w->stack, name)) {
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED,
                      _("filter would introduce a loop: '%s' references itself"), name);
        return FALSE;
    }
    if (name_in(w->filters, name))
        return TRUE;
    def = w->lookup(name, w->lookup_data);
    if (!def) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("referenced filter '%s' is missing"), name);
        return FALSE;
    }
    g_ptr_array_add(w->filters, g_strdup(name));
    g_string_append_printf(w->out, "filter %s chain=%s chain-priority=%d\n", def->name,
                           def->chain, def->chain_priority);
    for (guint i = 0; i < def->entries->len; i++) {
        const NwfEntry *entry = g_ptr_array_index(def->entries, i);
        if (entry->kind == NWF_ENTRY_RULE) {
            append_rule(w->out, entry->rule);
        } else {
            g_string_append_printf(w->out, "  filterref %s\n", entry->ref->filter);
            append_params(w->out, "    ", entry->ref->params);
        }
    }
    g_ptr_array_add(w->stack, (gpointer)name);
    for (guint i = 0; i < def->entries->len; i++) {
        const NwfEntry *entry = g_ptr_array_index(def->entries, i);
        if (entry->kind == NWF_ENTRY_FILTERREF && !walk_filter(w, entry->ref->filter, error))
            return FALSE;
    }
    g_ptr_array_set_size(w->stack, w->stack->len - 1);
    return TRUE;
}

NwfFingerprint *
nwf_fingerprint_binding(const NwfBindingDef *binding, NwfFilterLookupFunc lookup,
                        gpointer lookup_data, GError **error)
{
    g_autoptr(NwfFingerprint) fp = g_new0(NwfFingerprint, 1);
    g_autoptr(GString) out = g_string_new("nwfilter-fingerprint 1\n");
    g_autoptr(GPtrArray) stack = g_ptr_array_new();
    g_autofree char *mac = nwf_mac_format(binding->mac);
    Walk walk = { lookup, lookup_data, out, NULL, stack };

    fp->filters = g_ptr_array_new_with_free_func(g_free);
    walk.filters = fp->filters;
    g_string_append_printf(out, "binding mac=%s filter=%s\n", mac, binding->filterref.filter);
    append_params(out, "  ", binding->filterref.params);
    if (!walk_filter(&walk, binding->filterref.filter, error))
        return NULL;
    fp->sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256, out->str, (gssize)out->len);
    fp->canonical = g_string_free(g_steal_pointer(&out), FALSE);
    return g_steal_pointer(&fp);
}
