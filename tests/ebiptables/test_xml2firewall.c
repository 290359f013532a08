/* libvirt's xml2firewall vectors: every filter of the README's test list,
 * compiled for port vnet0 with the harness variables and rendered by the
 * ebiptables backend, must give the expected *.args file once the
 * harness's setup/teardown blocks are stripped (README section 3). */
#include "config.h"

#include <string.h>

#include "nwfilter/backend.h"
#include "nwfilter/compile.h"
#include "vector_harness.h"

static char *vector_dir;
static GPtrArray *harness_blocks;   /* char*, in search order */

/* Remove each block's first complete occurrence, searching from where the
 * previous block was found. */
static char *
strip_harness(const char *text)
{
    GString *out = g_string_new(text);
    gsize from = 0;

    for (guint i = 0; i < harness_blocks->len; i++) {
        const char *block = g_ptr_array_index(harness_blocks, i);
        const char *at = strstr(out->str + from, block);
        if (!at)
            continue;
        from = at - out->str;
        g_string_erase(out, (gssize)from, (gssize)strlen(block));
    }
    return g_string_free(out, FALSE);
}

static void
test_vector(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml = g_strdup_printf("%s/%s.xml", vector_dir, name);
    g_autofree char *args = g_strdup_printf("%s/%s-linux.args", vector_dir, name);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) top = nwf_filter_def_parse_file(xml, &error);
    g_autoptr(GHashTable) defs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify)nwf_filter_def_free);
    g_autoptr(NwfParams) params = nwf_test_vector_params();
    g_autoptr(NwfRuleProgram) program = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *rendered = NULL;
    g_autofree char *stripped = NULL;
    NwfTestDirLookup lookup = { vector_dir, defs };
    NwfBackend *backend = nwf_backend_ebiptables_new();
    NwfCompileInput input = {
        .ifname = "vnet0",
        .params = params,
        .lookup = nwf_test_dir_lookup,
        .lookup_data = &lookup,
    };

    g_assert_no_error(error);
    /* the vector file is the top-level filter, whatever its name */
    g_hash_table_insert(defs, g_strdup_printf("%s/%s.xml", vector_dir, top->name),
                        nwf_filter_def_copy(top));
    input.filter = top->name;
    program = nwf_compile(&input, NULL, &error);
    g_assert_no_error(error);
    rendered = backend->ops->render(backend, program, &error);
    backend->ops->free(backend);
    g_assert_no_error(error);
    stripped = strip_harness(rendered);
    g_assert_true(g_file_get_contents(args, &expected, NULL, NULL));
    g_assert_cmpstr(stripped, ==, expected);
}

/* The README's list: "Test list (39 names, ...): a, b, c." */
static GPtrArray *
readme_test_list(const char *readme)
{
    g_autofree char *text = NULL;
    const char *start, *colon, *end;
    g_autofree char *list = NULL;
    g_auto(GStrv) names = NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    g_assert_true(g_file_get_contents(readme, &text, NULL, NULL));
    start = strstr(text, "Test list (");
    g_assert_nonnull(start);
    colon = strstr(start, "): ");
    end = strstr(colon, ".\n");
    list = g_strndup(colon + 3, end - colon - 3);
    names = g_strsplit_set(list, ",\n", -1);
    for (guint i = 0; names[i]; i++) {
        g_strstrip(names[i]);
        if (*names[i])
            g_ptr_array_add(out, g_strdup(names[i]));
    }
    return out;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    const char *shared = g_getenv("NWF_SHARED");
    g_autofree char *harness_dir = NULL;
    g_autofree char *readme = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    const char *entry;
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_nonnull(shared);
    vector_dir = g_build_filename(shared, "vectors", "libvirt", "xml2firewall", NULL);
    harness_dir = g_build_filename(shared, "vectors", "libvirt", "xml2firewall-harness", NULL);
    readme = g_build_filename(shared, "vectors", "libvirt", "README.md", NULL);

    /* blocks are searched in file-name order (1-... to 7-...) */
    dir = g_dir_open(harness_dir, 0, NULL);
    g_assert_nonnull(dir);
    while ((entry = g_dir_read_name(dir)))
        g_ptr_array_add(files, g_strdup(entry));
    g_ptr_array_sort(files, compare_names);
    harness_blocks = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *path = g_build_filename(harness_dir, (char *)g_ptr_array_index(files, i), NULL);
        char *block = NULL;
        g_assert_true(g_file_get_contents(path, &block, NULL, NULL));
        g_ptr_array_add(harness_blocks, block);
    }
    g_assert_cmpuint(harness_blocks->len, ==, 7);

    names = readme_test_list(readme);
    g_assert_cmpuint(names->len, ==, 39);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/ebiptables/xml2firewall/%s",
                                                (char *)g_ptr_array_index(names, i));
        g_test_add_data_func(path, g_ptr_array_index(names, i), test_vector);
    }
    rc = g_test_run();
    g_ptr_array_unref(harness_blocks);
    g_free(vector_dir);
    return rc;
}
