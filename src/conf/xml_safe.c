#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include <libxml/parser.h>

#include "conf/xml_safe.h"
#include "util/nwf_error.h"

/* Nesting that libxml2 itself allows without XML_PARSE_HUGE is 256; a
 * filter is 4 levels deep, so stop much earlier. */
#define NWF_XML_MAX_DEPTH 64

static gboolean
check_tree(xmlNode *node, int depth, GError **error)
{
    for (; node; node = node->next) {
        if (depth > NWF_XML_MAX_DEPTH) {
            nwf_error_set(error, NWF_ERR_XML_ERROR,
                          _("document nesting is deeper than %d levels"), NWF_XML_MAX_DEPTH);
            return FALSE;
        }
        if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE ||
            node->type == XML_COMMENT_NODE) {
            if (node->content && strlen((const char *)node->content) > NWF_XML_MAX_VALUE) {
                nwf_error_set(error, NWF_ERR_XML_ERROR,
                              _("text is longer than %d bytes"), NWF_XML_MAX_VALUE);
                return FALSE;
            }
        }
        if (node->type == XML_ENTITY_REF_NODE || node->type == XML_ENTITY_DECL ||
            node->type == XML_DTD_NODE) {
            nwf_error_set(error, NWF_ERR_XML_ERROR, "%s", _("entities are not allowed"));
            return FALSE;
        }
        if (node->type != XML_ELEMENT_NODE)
            continue;
        for (xmlAttr *attr = node->properties; attr; attr = attr->next) {
            g_autofree char *value = (char *)xmlNodeGetContent((xmlNode *)attr);
            if (value && strlen(value) > NWF_XML_MAX_VALUE) {
                nwf_error_set(error, NWF_ERR_XML_ERROR,
                              _("value of attribute '%s' is longer than %d bytes"),
                              (const char *)attr->name, NWF_XML_MAX_VALUE);
                return FALSE;
            }
        }
        if (!check_tree(node->children, depth + 1, error))
            return FALSE;
    }
    return TRUE;
}

static void
set_libxml_error(GError **error, xmlParserCtxt *ctxt, const char *doc_name)
{
    const xmlError *err = xmlCtxtGetLastError(ctxt);
    g_autofree char *msg = NULL;

    if (!err || !err->message) {
        nwf_error_set(error, NWF_ERR_XML_DETAIL, _("%s: failed to parse XML document"), doc_name);
        return;
    }
    msg = g_strchomp(g_strdup(err->message));
    nwf_error_set(error, NWF_ERR_XML_DETAIL, "%s:%d: %s", doc_name, err->line, msg);
}

static gsize libxml_ready;

xmlDoc *
nwf_xml_safe_parse(const char *xml, gssize len, const char *doc_name, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlParserCtxt *ctxt;
    gsize size;

    g_return_val_if_fail(xml != NULL, NULL);
    size = len < 0 ? strlen(xml) : (gsize)len;
    if (size > NWF_XML_MAX_DOCUMENT) {
        nwf_error_set(error, NWF_ERR_XML_ERROR, _("document is larger than %d bytes"),
                      NWF_XML_MAX_DOCUMENT);
        return NULL;
    }
    if (!g_utf8_validate(xml, (gssize)size, NULL)) {
        nwf_error_set(error, NWF_ERR_XML_ERROR, "%s",
                      _("document is not valid UTF-8 (or contains a NUL byte)"));
        return NULL;
    }
    /* A DTD is the only way to declare entities (billion laughs, XXE);
     * filter and binding documents never carry one. In UTF-8 a DOCTYPE
     * declaration is always spelled out literally. */
    if (g_strstr_len(xml, (gssize)size, "<!DOCTYPE") || g_strstr_len(xml, (gssize)size, "<!ENTITY")) {
        nwf_error_set(error, NWF_ERR_XML_ERROR, "%s",
                      _("DOCTYPE and entity declarations are not allowed"));
        return NULL;
    }

    /* libxml2 wants its global setup done once before threads use it */
    if (g_once_init_enter(&libxml_ready)) {
        xmlInitParser();
        g_once_init_leave(&libxml_ready, 1);
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        nwf_error_set(error, NWF_ERR_NO_MEMORY, "%s", "");
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)size, doc_name, "UTF-8",
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_NOCDATA);
    if (!doc || !ctxt->wellFormed) {
        set_libxml_error(error, ctxt, doc_name);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (!xmlDocGetRootElement(doc)) {
        nwf_error_set(error, NWF_ERR_XML_DETAIL, _("%s: missing root element"), doc_name);
        return NULL;
    }
    if (doc->intSubset || doc->extSubset ||
        !check_tree(xmlDocGetRootElement(doc), 1, error)) {
        if (error && !*error)
            nwf_error_set(error, NWF_ERR_XML_ERROR, "%s",
                          _("DOCTYPE and entity declarations are not allowed"));
        return NULL;
    }
    return g_steal_pointer(&doc);
}

xmlDoc *
nwf_xml_safe_parse_file(const char *path, const char *doc_name, GError **error)
{
    g_autoptr(GError) io_error = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &data, &len, &io_error)) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot read '%s': %s"), path,
                      io_error->message);
        return NULL;
    }
    return nwf_xml_safe_parse(data, (gssize)len, doc_name, error);
}

char *
nwf_xml_prop(xmlNode *node, const char *name)
{
    xmlChar *raw = xmlGetProp(node, (const xmlChar *)name);
    char *value;

    if (!raw)
        return NULL;
    value = g_strdup((const char *)raw);
    xmlFree(raw);
    return value;
}

gboolean
nwf_xml_is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}
