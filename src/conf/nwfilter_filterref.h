/* <filterref filter='...'> with <parameter> children, shared by filters and
 * bindings (private to src/conf). */
#pragma once

#include <libxml/tree.h>

#include "conf/nwfilter_def.h"

/* Fill REF from NODE. Parameters with a bad or missing name or value are
 * dropped silently, as libvirt does. Fails only when 'filter' is absent. */
gboolean nwf_filterref_parse(xmlNode *node, NwfFilterRefDef *ref, GError **error);

/* Append REF at INDENT spaces, parameters sorted by name. */
void nwf_filterref_format(GString *out, const NwfFilterRefDef *ref, int indent);

void nwf_filterref_clear(NwfFilterRefDef *ref);

/* Append TEXT with XML's five special characters escaped; other control
 * characters than tab, newline and carriage return are left out. */
void nwf_xml_escape_append(GString *out, const char *text);
