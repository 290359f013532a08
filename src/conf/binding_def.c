#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_filterref.h"
#include "conf/nwfilter_value.h"
#include "conf/xml_safe.h"
#include "util/nwf_error.h"

#define NWF_BINDING_DOC_NAME "(nwfilterbinding_definition)"
#define NWF_BINDING_STATUS_DOC_NAME "(nwfilterbinding_status)"

void
nwf_binding_def_free(NwfBindingDef *def)
{
    if (!def)
        return;
    g_free(def->owner_name);
    g_free(def->portdev);
    g_free(def->linkdev);
    nwf_filterref_clear(&def->filterref);
    g_free(def);
}

static xmlNode *
child_element(xmlNode *node, const char *name)
{
    for (xmlNode *cur = node ? node->children : NULL; cur; cur = cur->next) {
        if (nwf_xml_is_element(cur, name))
            return cur;
    }
    return NULL;
}

/* Like an XPath string(): the first matching node's text, NULL when it is
 * missing or empty. */
static char *
child_text(xmlNode *node, const char *name)
{
    xmlNode *child = child_element(node, name);
    xmlChar *raw;
    char *text = NULL;

    if (!child)
        return NULL;
    raw = xmlNodeGetContent(child);
    if (raw && *raw)
        text = g_strdup((const char *)raw);
    xmlFree(raw);
    return text;
}

static char *
child_prop(xmlNode *node, const char *name, const char *attr)
{
    xmlNode *child = child_element(node, name);
    char *value = child ? nwf_xml_prop(child, attr) : NULL;

    if (value && !*value)
        g_clear_pointer(&value, g_free);
    return value;
}

static gboolean
missing(GError **error, const char *what)
{
    nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("filter binding has no %s"), _(what));
    return FALSE;
}

/* Checks in libvirt's order: portdev, linkdev, owner, mac, filterref. */
static gboolean
parse_binding(xmlNode *root, NwfBindingDef *def, GError **error)
{
    xmlNode *owner = child_element(root, "owner");
    g_autofree char *filter = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *mac = NULL;

    def->portdev = child_prop(root, "portdev", "name");
    if (!def->portdev)
        return missing(error, N_("port dev name"));
    if (child_element(root, "linkdev")) {
        def->linkdev = child_prop(root, "linkdev", "name");
        if (!def->linkdev)
            return missing(error, N_("link dev name"));
    }
    def->owner_name = child_text(owner, "name");
    if (!def->owner_name)
        return missing(error, N_("owner name"));
    uuid = child_text(owner, "uuid");
    if (!uuid)
        return missing(error, N_("owner UUID"));
    if (!nwf_uuid_parse(uuid, def->owner_uuid)) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("Unable to parse UUID '%s'"), uuid);
        return FALSE;
    }
    mac = child_prop(root, "mac", "address");
    if (!mac)
        return missing(error, N_("MAC address"));
    if (!nwf_mac_parse(mac, def->mac)) {
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("Unable to parse MAC '%s'"), mac);
        return FALSE;
    }
    filter = child_prop(root, "filterref", "filter");
    if (!filter)
        return missing(error, N_("filter reference"));
    return nwf_filterref_parse(child_element(root, "filterref"), &def->filterref, error);
}

static NwfBindingDef *
parse_binding_root(xmlNode *root, GError **error)
{
    g_autoptr(NwfBindingDef) def = g_new0(NwfBindingDef, 1);

    if (strcmp((const char *)root->name, "filterbinding") != 0) {
        nwf_error_set(error, NWF_ERR_XML_ERROR,
                      _("expecting root element of 'filterbinding', not '%s'"),
                      (const char *)root->name);
        return NULL;
    }
    if (!parse_binding(root, def, error))
        return NULL;
    return g_steal_pointer(&def);
}

NwfBindingDef *
nwf_binding_def_parse_string(const char *xml, gssize len, GError **error)
{
    g_autoptr(xmlDoc) doc = nwf_xml_safe_parse(xml, len, NWF_BINDING_DOC_NAME, error);

    return doc ? parse_binding_root(xmlDocGetRootElement(doc), error) : NULL;
}

NwfBindingDef *
nwf_binding_def_parse_file(const char *path, GError **error)
{
    g_autoptr(xmlDoc) doc = nwf_xml_safe_parse_file(path, NWF_BINDING_DOC_NAME, error);

    return doc ? parse_binding_root(xmlDocGetRootElement(doc), error) : NULL;
}

NwfBindingDef *
nwf_binding_def_parse_status_file(const char *path, GError **error)
{
    g_autoptr(xmlDoc) doc = nwf_xml_safe_parse_file(path, NWF_BINDING_STATUS_DOC_NAME, error);
    xmlNode *root;
    xmlNode *binding;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (strcmp((const char *)root->name, "filterbindingstatus") != 0) {
        nwf_error_set(error, NWF_ERR_XML_ERROR,
                      _("expecting root element of 'filterbindingstatus', not '%s'"),
                      (const char *)root->name);
        return NULL;
    }
    binding = child_element(root, "filterbinding");
    if (!binding) {
        nwf_error_set(error, NWF_ERR_XML_ERROR, "%s",
                      _("binding status file has no filterbinding element"));
        return NULL;
    }
    return parse_binding_root(binding, error);
}

static void
format_binding(GString *out, const NwfBindingDef *def, int indent)
{
    g_autofree char *uuid = nwf_uuid_format(def->owner_uuid);
    g_autofree char *mac = nwf_mac_format(def->mac);
    int in = indent;

    g_string_append_printf(out, "%*s<filterbinding>\n%*s<owner>\n%*s<name>",
                           in, "", in + 2, "", in + 4, "");
    nwf_xml_escape_append(out, def->owner_name);
    g_string_append_printf(out, "</name>\n%*s<uuid>%s</uuid>\n%*s</owner>\n",
                           in + 4, "", uuid, in + 2, "");
    g_string_append_printf(out, "%*s<portdev name='", in + 2, "");
    nwf_xml_escape_append(out, def->portdev);
    g_string_append(out, "'/>\n");
    if (def->linkdev) {
        g_string_append_printf(out, "%*s<linkdev name='", in + 2, "");
        nwf_xml_escape_append(out, def->linkdev);
        g_string_append(out, "'/>\n");
    }
    g_string_append_printf(out, "%*s<mac address='%s'/>\n", in + 2, "", mac);
    nwf_filterref_format(out, &def->filterref, in + 2);
    g_string_append_printf(out, "%*s</filterbinding>\n", in, "");
}

char *
nwf_binding_def_format(const NwfBindingDef *def)
{
    GString *out = g_string_new(NULL);

    format_binding(out, def, 0);
    return g_string_free(out, FALSE);
}

char *
nwf_binding_def_format_status(const NwfBindingDef *def)
{
    GString *out = g_string_new(NULL);

    g_string_append_printf(out,
                           "<!--\n"
                           "WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
                           "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n"
                           "  virsh nwfilter-binding-create %s\n"
                           "or other application using the libvirt API.\n"
                           "-->\n\n", def->portdev);
    g_string_append(out, "<filterbindingstatus>\n");
    format_binding(out, def, 2);
    g_string_append(out, "</filterbindingstatus>\n");
    return g_string_free(out, FALSE);
}

NwfBindingDef *
nwf_binding_def_copy(const NwfBindingDef *def)
{
    NwfBindingDef *copy = g_new0(NwfBindingDef, 1);

    copy->owner_name = g_strdup(def->owner_name);
    memcpy(copy->owner_uuid, def->owner_uuid, sizeof(copy->owner_uuid));
    copy->portdev = g_strdup(def->portdev);
    copy->linkdev = g_strdup(def->linkdev);
    memcpy(copy->mac, def->mac, sizeof(copy->mac));
    copy->filterref.filter = g_strdup(def->filterref.filter);
    copy->filterref.params = def->filterref.params ? nwf_params_copy(def->filterref.params)
                                                   : nwf_params_new();
    return copy;
}
