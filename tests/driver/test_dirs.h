/* Scratch directories for the driver tests. */
#pragma once

/* Remove PATH and everything below it (no symlink following needed: the
 * tests only create plain files and directories). */
void test_dirs_remove_tree(const char *path);
