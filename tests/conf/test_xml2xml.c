/* One test case per xml2xml and binding row of the libvirt vector manifest:
 * parse the input, format it, compare with the expected file byte for byte;
 * inputs libvirt rejects must be rejected. */
#include "config.h"

#include <string.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_def.h"

typedef struct {
    char *kind;
    char *input;
    char *expected;
    gboolean expect_ok;
} VectorCase;

static const char *vectors_dir;
static const char *override_dir;

static char *
read_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *data = NULL;

    if (!g_file_get_contents(path, &data, NULL, &error))
        g_error("%s", error->message);
    return data;
}

static char *
expected_path(const VectorCase *c)
{
    g_autofree char *base = g_path_get_basename(c->expected);
    char *override = g_build_filename(override_dir, base, NULL);

    if (strcmp(c->kind, "xml2xml") == 0 && g_file_test(override, G_FILE_TEST_EXISTS))
        return override;
    g_free(override);
    return g_build_filename(vectors_dir, c->expected, NULL);
}

static void
test_vector(gconstpointer data)
{
    const VectorCase *c = data;
    g_autofree char *in_path = g_build_filename(vectors_dir, c->input, NULL);
    g_autofree char *input = read_file(in_path);
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;

    if (strcmp(c->kind, "binding") == 0) {
        g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_string(input, -1, &error);
        if (def)
            out = nwf_binding_def_format(def);
    } else {
        g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(input, -1, &error);
        if (def)
            out = nwf_filter_def_format(def);
    }

    if (!c->expect_ok) {
        g_assert_null(out);
        g_assert_nonnull(error);
        g_test_message("rejected: %s", error->message);
        return;
    }
    g_assert_no_error(error);
    {
        g_autofree char *exp_path = expected_path(c);
        g_autofree char *expected = read_file(exp_path);
        g_assert_cmpstr(out, ==, expected);
    }
}

/* The status-file form of a binding vector, as libvirt 9.0 writes it. */
static void
test_binding_status(gconstpointer data)
{
    const VectorCase *c = data;
    g_autofree char *in_path = g_build_filename(vectors_dir, c->input, NULL);
    g_autofree char *base = g_path_get_basename(c->input);
    g_autofree char *status_path = g_build_filename(override_dir, "..", "binding-status", base, NULL);
    g_autofree char *expected = read_file(status_path);
    g_autofree char *status = NULL;
    g_autofree char *again = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_file(in_path, &error);
    g_autoptr(NwfBindingDef) reread = NULL;

    g_assert_no_error(error);
    status = nwf_binding_def_format_status(def);
    g_assert_cmpstr(status, ==, expected);
    reread = nwf_binding_def_parse_status_file(status_path, &error);
    g_assert_no_error(error);
    again = nwf_binding_def_format_status(reread);
    g_assert_cmpstr(again, ==, expected);
}

static void
vector_case_free(gpointer data)
{
    VectorCase *c = data;

    g_free(c->kind);
    g_free(c->input);
    g_free(c->expected);
    g_free(c);
}

int
main(int argc, char **argv)
{
    g_autofree char *manifest_path = NULL;
    g_autofree char *manifest = NULL;
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(vector_case_free);
    g_auto(GStrv) lines = NULL;
    g_autofree char *vdir = NULL;
    g_autofree char *odir = NULL;

    g_test_init(&argc, &argv, NULL);
    vdir = g_build_filename(g_getenv("NWF_SHARED"), "vectors", "libvirt", NULL);
    odir = g_build_filename(g_getenv("NWF_SOURCE_ROOT"), "tests", "conf", "data",
                            "expected-override", NULL);
    vectors_dir = vdir;
    override_dir = odir;
    manifest_path = g_build_filename(vectors_dir, "manifest.tsv", NULL);
    manifest = read_file(manifest_path);
    lines = g_strsplit(manifest, "\n", -1);
    for (guint i = 1; lines[i]; i++) {
        g_auto(GStrv) cols = g_strsplit(lines[i], "\t", -1);
        g_autofree char *base = NULL;
        g_autofree char *name = NULL;
        VectorCase *c;

        if (g_strv_length(cols) < 4)
            continue;
        if (strcmp(cols[0], "xml2xml") != 0 && strcmp(cols[0], "binding") != 0)
            continue;
        c = g_new0(VectorCase, 1);
        c->kind = g_strdup(cols[0]);
        c->input = g_strdup(cols[1]);
        c->expected = g_strdup(cols[2]);
        c->expect_ok = strcmp(cols[3], "ok") == 0;
        g_ptr_array_add(cases, c);
        base = g_path_get_basename(c->input);
        name = g_strdup_printf("/conf/%s/%s", c->kind, base);
        g_test_add_data_func(name, c, test_vector);
        if (strcmp(c->kind, "binding") == 0) {
            g_autofree char *sname = g_strdup_printf("/conf/binding-status/%s", base);
            g_test_add_data_func(sname, c, test_binding_status);
        }
    }
    g_assert_cmpuint(cases->len, ==, 44);
    return g_test_run();
}
