#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "nwfilter/driver_schema.h"
#include "util/nwf_error.h"

static char *
nwf_driver_schema_path(const char *schema)
{
    g_autofree char *installed = g_build_filename(NWF_SCHEMA_DIR, schema, NULL);

    if (g_file_test(installed, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&installed);
    return g_build_filename(NWF_SOURCE_SCHEMA_DIR, schema, NULL);
}

static void
nwf_driver_schema_collect(void *data, xmlErrorPtr err)
{
    GString *messages = data;

    if (err && err->message)
        g_string_append(messages, err->message);
}

gboolean
nwf_driver_schema_validate(const char *schema, const char *xml, GError **error)
{
    g_autofree char *path = nwf_driver_schema_path(schema);

    return nwf_driver_schema_validate_file(path, xml, error);
}

gboolean
nwf_driver_schema_validate_file(const char *path, const char *xml, GError **error)
{
    g_autoptr(GString) messages = g_string_new(NULL);
    xmlRelaxNGParserCtxtPtr pctxt;
    xmlRelaxNGPtr rng;
    xmlRelaxNGValidCtxtPtr vctxt;
    xmlDocPtr doc;
    int rc;

    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return TRUE;

    pctxt = xmlRelaxNGNewParserCtxt(path);
    xmlRelaxNGSetParserStructuredErrors(pctxt, nwf_driver_schema_collect, messages);
    rng = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!rng) {
        xmlFreeDoc(doc);
        nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("Unable to load schema %s: %s"),
                      path, messages->str);
        return FALSE;
    }
    vctxt = xmlRelaxNGNewValidCtxt(rng);
    xmlRelaxNGSetValidStructuredErrors(vctxt, nwf_driver_schema_collect, messages);
    rc = xmlRelaxNGValidateDoc(vctxt, doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlRelaxNGFree(rng);
    xmlFreeDoc(doc);
    if (rc != 0) {
        nwf_error_set(error, NWF_ERR_XML_INVALID_SCHEMA, _("Unable to validate doc against %s\n%s"),
                      path, messages->str);
        return FALSE;
    }
    return TRUE;
}
