#include "config.h"

#include "vector_harness.h"

const NwfFilterDef *
nwf_test_dir_lookup(const char *name, gpointer data)
{
    NwfTestDirLookup *lookup = data;
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    g_autofree char *path = g_build_filename(lookup->dir, file, NULL);
    NwfFilterDef *def = g_hash_table_lookup(lookup->defs, path);

    if (!def && g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        def = nwf_filter_def_parse_file(path, NULL);
        if (def)
            g_hash_table_insert(lookup->defs, g_strdup(path), def);
    }
    return def;
}

NwfParams *
nwf_test_vector_params(void)
{
    static const char *const lists[][5] = {
        { "A", "1.1.1.1", "2.2.2.2", "3.3.3.3", "3.3.3.3" },
        { "B", "80", "90", "80", "80" },
        { "C", "1080", "1090", "1100", "1110" },
    };
    NwfParams *params = nwf_params_new();

    nwf_params_add(params, "IPSETNAME", "tck_test");
    for (guint i = 0; i < G_N_ELEMENTS(lists); i++) {
        for (guint j = 1; j < 5; j++)
            nwf_params_add(params, lists[i][0], lists[i][j]);
    }
    return params;
}
