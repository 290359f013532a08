#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_def.h"
#include "nwfilter/driver_schema.h"
#include "nwfilter_cmds.h"
#include "util/nwf_error.h"

static const char *
schema_dir(void)
{
    const char *env = g_getenv("NWF_SCHEMA_DIR");

    if (env && *env)
        return env;
    if (g_file_test(NWF_SOURCE_SCHEMA_DIR, G_FILE_TEST_IS_DIR))
        return NWF_SOURCE_SCHEMA_DIR;
    return NWF_SCHEMA_DIR;
}

/* RelaxNG check of the document against our schema (libvirt's message,
 * without the trailing newline of libxml2's last line). */
static gboolean
validate_schema(const char *data, gboolean binding, GError **error)
{
    g_autofree char *path = g_build_filename(schema_dir(), binding ? "nwfilterbinding.rng"
                                                                   : "nwfilter.rng", NULL);

    if (nwf_driver_schema_validate_file(path, data, error))
        return TRUE;
    if (error && *error)
        g_strchomp((*error)->message);
    return FALSE;
}

static gboolean
validate_one(const char *data, gsize len, gboolean binding, gboolean schema, GError **error)
{
    if (binding) {
        g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_string(data, (gssize)len, error);
        if (!def)
            return FALSE;
    } else {
        g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(data, (gssize)len, error);
        if (!def)
            return FALSE;
    }
    return !schema || validate_schema(data, binding, error);
}

/* Exit 0 when every FILE is valid; otherwise print libvirt's message for
 * each invalid one and exit 1. */
int
nwf_cmd_validate(int argc, char **argv)
{
    gboolean verbose = FALSE;
    gboolean schema = FALSE;
    gboolean binding = FALSE;
    int n_files = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            verbose = TRUE;
        } else if (strcmp(argv[i], "--schema") == 0) {
            schema = TRUE;
        } else if (strcmp(argv[i], "--binding") == 0) {
            binding = TRUE;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: nwfilter validate [--verbose] [--schema] [--binding] FILE...\n"
                   "Check filter (or binding) XML as libvirt's define does ('-' reads\n"
                   "standard input). --schema also checks against the RelaxNG schema,\n"
                   "--verbose prints libvirt's error code and domain.\n");
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, _("error: unknown option '%s'\n"), argv[i]);
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *data = NULL;
        gsize len = 0;

        if (argv[i][0] == '-' && argv[i][1] != '\0')
            continue;
        n_files++;
        data = nwf_tool_read_input(argv[i], &len);
        if (!data) {
            rc = 2;
            continue;
        }
        if (validate_one(data, len, binding, schema, &error)) {
            if (verbose)
                printf("%s: valid\n", argv[i]);
            continue;
        }
        if (rc == 0)
            rc = 1;
        if (verbose) {
            NwfErrorCode code = nwf_error_code(error);
            fprintf(stderr, _("%s: error: %s (code %d, domain %d)\n"), argv[i], error->message,
                    (int)code, (int)nwf_error_domain_of(error));
        } else {
            fprintf(stderr, _("error: %s\n"), error->message);
        }
    }
    if (n_files == 0) {
        fprintf(stderr, _("Usage: nwfilter validate [--verbose] [--schema] [--binding] FILE...\n"));
        return 2;
    }
    return rc;
}
