/* RNG validation for the VALIDATE flag of define and binding create
 * (virsh --validate), and for `nwfilter validate --schema`. The schemas are
 * libvirt's file names (nwfilter.rng, nwfilterbinding.rng), looked up in the
 * installed schema dir, then in the source tree so tests run uninstalled. */
#pragma once

#include <glib.h>

/* Check XML against SCHEMA ("nwfilter.rng"). A document that is not even
 * well-formed passes: the parser that runs next reports it properly.
 * Failure: NWF_ERR_XML_INVALID_SCHEMA, "Unable to validate doc against
 * <path>\n<libxml2 messages>". */
gboolean nwf_driver_schema_validate(const char *schema, const char *xml, GError **error);

/* The same against the schema file at PATH, for callers that find their
 * schemas elsewhere (the nwfilter tool's NWF_SCHEMA_DIR). A schema that
 * cannot be loaded: NWF_ERR_INTERNAL_ERROR, "Unable to load schema <path>:
 * <libxml2 messages>". */
gboolean nwf_driver_schema_validate_file(const char *path, const char *xml, GError **error);
