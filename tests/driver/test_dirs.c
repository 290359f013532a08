#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>

#include "test_dirs.h"

void
test_dirs_remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            test_dirs_remove_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}
