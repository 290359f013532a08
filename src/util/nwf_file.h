/* Durable file updates for the config and state dirs: a reader (or a daemon
 * restarted after a crash or power loss) sees either the old or the new
 * content of a file, never a mix, and a call that returned TRUE survives a
 * crash. Errors are NWF_ERR_SYSTEM_ERROR with the path and errno text. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Create DIR (and parents) with MODE when missing. */
gboolean nwf_file_ensure_dir(const char *dir, mode_t mode, GError **error);

/* Replace PATH by CONTENTS: write a temp file in the same directory, fsync
 * it, rename it over PATH, fsync the directory. On failure PATH is untouched
 * and no temp file is left behind. Once the rename is done the call
 * succeeds (a failing directory fsync is only logged). */
gboolean nwf_file_write_atomic(const char *path, const char *contents, gsize len,
                               mode_t mode, GError **error);

/* Unlink PATH and fsync its directory (a failing fsync is only logged). A
 * missing PATH is not an error. */
gboolean nwf_file_remove_durable(const char *path, GError **error);

/* Whether NAME (a directory entry) is a temp file left by an interrupted
 * nwf_file_write_atomic. */
gboolean nwf_file_is_temp_name(const char *name);

/* Open a store directory: create DIR with MODE when missing, remove the temp
 * files a crash left in it, and return the names (char*, sorted with
 * strcmp) of its visible entries ending in SUFFIX, SUFFIX cut off. */
GPtrArray *nwf_file_scan_store_dir(const char *dir, mode_t mode, const char *suffix,
                                   GError **error);
