#include "config.h"

#include <string.h>

#include "conf/nwfilter_attrs.h"
#include "conf/nwfilter_filterref.h"

static void
format_attr_value(GString *out, const NwfValue *value, NwfField field)
{
    g_autofree char *text = nwf_value_format(value, field);

    nwf_xml_escape_append(out, text);
}

/* The protocol element(s) of a rule. Attributes come in table order; a
 * change of negation closes the element and opens a new one, so one rule
 * may print as several elements, each with its own match='no'. */
static void
format_protocol(GString *out, const NwfRuleDef *rule)
{
    const char *name = nwf_protocol_name(rule->protocol);
    const NwfAttrSpec *attrs;
    gboolean open = FALSE;
    gboolean open_negated = FALSE;
    gboolean any = FALSE;
    guint n = 0;

    attrs = nwf_protocol_attrs(rule->protocol, &n);
    for (guint i = 0; i < n; i++) {
        const NwfValue *value = &rule->fields[attrs[i].field];

        if (!value->present)
            continue;
        if (open && open_negated != value->negated) {
            g_string_append(out, "/>\n");
            open = FALSE;
        }
        if (!open) {
            g_string_append_printf(out, "    <%s", name);
            if (value->negated)
                g_string_append(out, " match='no'");
            open = TRUE;
            open_negated = value->negated;
            any = TRUE;
        }
        g_string_append_printf(out, " %s='", nwf_field_name(attrs[i].field));
        format_attr_value(out, value, attrs[i].field);
        g_string_append_c(out, '\'');
    }
    if (open)
        g_string_append(out, "/>\n");
    if (!any)
        g_string_append_printf(out, "    <%s/>\n", name);
}

static void
format_rule(GString *out, const NwfRuleDef *rule)
{
    g_string_append_printf(out, "  <rule action='%s' direction='%s' priority='%d'",
                           nwf_action_name(rule->action),
                           nwf_direction_name(rule->direction), rule->priority);
    if (!rule->statematch)
        g_string_append(out, " statematch='false'");
    if (rule->protocol == NWF_PROTO_NONE) {
        g_string_append(out, "/>\n");
        return;
    }
    g_string_append(out, ">\n");
    format_protocol(out, rule);
    g_string_append(out, "  </rule>\n");
}

char *
nwf_filter_def_format(const NwfFilterDef *def)
{
    g_autofree char *uuid = nwf_uuid_format(def->uuid);
    GString *out = g_string_new("<filter name='");

    /* libvirt prints the name and chain unescaped, which breaks the XML for
     * a name with a quote; we escape them. */
    nwf_xml_escape_append(out, def->name);
    g_string_append(out, "' chain='");
    nwf_xml_escape_append(out, def->chain);
    g_string_append_c(out, '\'');
    if (def->chain_priority != 0)
        g_string_append_printf(out, " priority='%d'", def->chain_priority);
    g_string_append_printf(out, ">\n  <uuid>%s</uuid>\n", uuid);
    for (guint i = 0; i < def->entries->len; i++) {
        const NwfEntry *entry = g_ptr_array_index(def->entries, i);

        if (entry->kind == NWF_ENTRY_RULE)
            format_rule(out, entry->rule);
        else
            nwf_filterref_format(out, entry->ref, 2);
    }
    g_string_append(out, "</filter>\n");
    return g_string_free(out, FALSE);
}

gboolean
nwf_filter_def_equal_ignoring_uuid(const NwfFilterDef *a, const NwfFilterDef *b)
{
    g_autoptr(NwfFilterDef) b_as_a = nwf_filter_def_copy(b);
    g_autofree char *text_a = NULL;
    g_autofree char *text_b = NULL;

    memcpy(b_as_a->uuid, a->uuid, sizeof(a->uuid));
    text_a = nwf_filter_def_format(a);
    text_b = nwf_filter_def_format(b_as_a);
    return strcmp(text_a, text_b) == 0;
}
