#include "config.h"

#include <glib/gi18n.h>

#include "conf/nwfilter_filterref.h"
#include "conf/xml_safe.h"
#include "util/nwf_error.h"

gboolean
nwf_filterref_parse(xmlNode *node, NwfFilterRefDef *ref, GError **error)
{
    ref->filter = nwf_xml_prop(node, "filter");
    ref->params = nwf_params_new();
    if (!ref->filter) {
        /* libvirt reports "rule node requires action attribute" here */
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, "%s",
                      _("filterref node requires filter attribute"));
        return FALSE;
    }
    for (xmlNode *cur = node->children; cur; cur = cur->next) {
        g_autofree char *name = NULL;
        g_autofree char *value = NULL;

        if (!nwf_xml_is_element(cur, "parameter"))
            continue;
        name = nwf_xml_prop(cur, "name");
        value = nwf_xml_prop(cur, "value");
        nwf_params_add(ref->params, name, value);
    }
    return TRUE;
}

void
nwf_xml_escape_append(GString *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '&': g_string_append(out, "&amp;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        default:
            if ((guchar)*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
                g_string_append_c(out, *p);
        }
    }
}

void
nwf_filterref_format(GString *out, const NwfFilterRefDef *ref, int indent)
{
    g_autoptr(GPtrArray) names = nwf_params_sorted_names(ref->params);

    g_string_append_printf(out, "%*s<filterref filter='", indent, "");
    nwf_xml_escape_append(out, ref->filter);
    if (names->len == 0) {
        g_string_append(out, "'/>\n");
        return;
    }
    g_string_append(out, "'>\n");
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        const GPtrArray *values = nwf_params_get(ref->params, name);

        for (guint j = 0; j < values->len; j++) {
            g_string_append_printf(out, "%*s<parameter name='%s' value='%s'/>\n",
                                   indent + 2, "", name,
                                   (const char *)g_ptr_array_index(values, j));
        }
    }
    g_string_append_printf(out, "%*s</filterref>\n", indent, "");
}

void
nwf_filterref_clear(NwfFilterRefDef *ref)
{
    g_clear_pointer(&ref->filter, g_free);
    g_clear_pointer(&ref->params, nwf_params_free);
}
