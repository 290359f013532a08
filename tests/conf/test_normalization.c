/* One test case per row of data/normalization.tsv: parse the row's filter,
 * format it, and compare with the expected text or error message. */
#include "config.h"

#include <string.h>

#include "conf/nwfilter_def.h"

#define FIXED_UUID "01a992d2-f8c8-7c27-f69b-ab0a9d377379"

typedef struct {
    char *kind;
    char *input;
    char *expected;
} NormCase;

static char *
build_document(const NormCase *c)
{
    if (strcmp(c->kind, "R") == 0)
        return g_strdup_printf("<filter name='a'><uuid>%s</uuid>%s</filter>", FIXED_UUID, c->input);
    return g_strdup(c->input);
}

/* The output without its <uuid> line, lines joined by a literal "\n". */
static char *
strip_uuid(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GString *out = g_string_new(NULL);

    for (guint i = 0; lines[i] && *lines[i]; i++) {
        if (strstr(lines[i], "<uuid>"))
            continue;
        if (out->len)
            g_string_append(out, "\\n");
        g_string_append(out, lines[i]);
    }
    return g_string_free(out, FALSE);
}

static void
test_row(gconstpointer data)
{
    const NormCase *c = data;
    g_autofree char *doc = build_document(c);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(doc, -1, &error);

    if (g_str_has_prefix(c->expected, "ERR ")) {
        g_assert_null(def);
        g_assert_nonnull(error);
        g_assert_cmpstr(error->message, ==, c->expected + 4);
    } else {
        g_autofree char *text = NULL;
        g_autofree char *stripped = NULL;

        g_assert_no_error(error);
        text = nwf_filter_def_format(def);
        stripped = strip_uuid(text);
        g_assert_cmpstr(stripped, ==, c->expected);
    }
}

static void
norm_case_free(gpointer data)
{
    NormCase *c = data;

    g_free(c->kind);
    g_free(c->input);
    g_free(c->expected);
    g_free(c);
}

int
main(int argc, char **argv)
{
    g_autofree char *path = NULL;
    g_autofree char *table = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(norm_case_free);
    g_auto(GStrv) lines = NULL;

    g_test_init(&argc, &argv, NULL);
    path = g_build_filename(g_getenv("NWF_SOURCE_ROOT"), "tests", "conf", "data",
                            "normalization.tsv", NULL);
    if (!g_file_get_contents(path, &table, NULL, &error))
        g_error("%s", error->message);
    lines = g_strsplit(table, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) cols = NULL;
        g_autofree char *name = NULL;
        NormCase *c;

        if (lines[i][0] == '#' || lines[i][0] == '\0')
            continue;
        cols = g_strsplit(lines[i], "\t", -1);
        g_assert_cmpuint(g_strv_length(cols), ==, 4);
        c = g_new0(NormCase, 1);
        c->kind = g_strdup(cols[0]);
        c->input = g_strdup(cols[1]);
        c->expected = g_strdup(cols[2]);
        g_ptr_array_add(cases, c);
        name = g_strdup_printf("/conf/normalization/%03u", cases->len);
        g_test_add_data_func(name, c, test_row);
    }
    g_assert_cmpuint(cases->len, >, 100);
    return g_test_run();
}
