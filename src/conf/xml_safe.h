/* libxml2 parsing for untrusted documents (private to src/conf). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* Largest document accepted, and largest attribute value or text node. */
#define NWF_XML_MAX_DOCUMENT (1024 * 1024)
#define NWF_XML_MAX_VALUE (64 * 1024)

/* Parse XML (LEN bytes, or NUL-terminated when LEN < 0) as UTF-8, with no
 * network, no DTD, no entity declarations and bounded size and depth.
 * DOC_NAME names the document in libxml2 error messages, as libvirt does
 * ("(nwfilter_definition)"). Errors: XML_DETAIL for libxml2's own
 * complaints, XML_ERROR for our limits. */
xmlDoc *nwf_xml_safe_parse(const char *xml, gssize len, const char *doc_name, GError **error);

/* An attribute's value (NULL when absent), as a GLib string. */
char *nwf_xml_prop(xmlNode *node, const char *name);

/* TRUE when NODE is an element named NAME. */
gboolean nwf_xml_is_element(const xmlNode *node, const char *name);

/* Read FILE fully and parse it with nwf_xml_safe_parse. */
xmlDoc *nwf_xml_safe_parse_file(const char *path, const char *doc_name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
