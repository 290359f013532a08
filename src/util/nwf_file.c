#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include <glib/gstdio.h>

#include "nwf_error.h"
#include "nwf_file.h"

/* Temp files are hidden and carry a fixed marker so that directory scans
 * for "*.xml" never pick them up and stale ones can be recognised. */
#define NWF_FILE_TEMP_MARK ".nwf-tmp-"

static gboolean
nwf_file_fail(GError **error, const char *what, const char *path, int err)
{
    nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, "%s '%s': %s", what, path,
                  g_strerror(err));
    return FALSE;
}

static gboolean
nwf_file_sync_dir(const char *dir, GError **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err;

    if (fd < 0)
        return nwf_file_fail(error, "cannot open directory", dir, errno);
    if (fsync(fd) < 0) {
        err = errno;
        close(fd);
        return nwf_file_fail(error, "cannot sync directory", dir, err);
    }
    close(fd);
    return TRUE;
}

gboolean
nwf_file_ensure_dir(const char *dir, mode_t mode, GError **error)
{
    g_autofree char *parent = NULL;

    if (g_file_test(dir, G_FILE_TEST_IS_DIR))
        return TRUE;
    if (g_mkdir_with_parents(dir, mode) < 0)
        return nwf_file_fail(error, "cannot create directory", dir, errno);
    /* A new directory's own entry must be durable too, or a crash could
     * take it with every file written into it. */
    parent = g_path_get_dirname(dir);
    return nwf_file_sync_dir(parent, error);
}

static gboolean
nwf_file_write_all(int fd, const char *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

gboolean
nwf_file_write_atomic(const char *path, const char *contents, gsize len,
                      mode_t mode, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmp = g_strdup_printf("%s/.%s" NWF_FILE_TEMP_MARK "XXXXXX", dir, base);
    g_autoptr(GError) cause = NULL;
    int fd;
    int err;

    fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, (int)mode);
    if (fd < 0)
        return nwf_file_fail(error, "Failed to create file", tmp, errno);
    /* mkstemp's mode is filtered by the umask; the mode is part of the
     * contract (0600 for filters and bindings), so set it explicitly. */
    if (fchmod(fd, mode) < 0 || !nwf_file_write_all(fd, contents, len) || fsync(fd) < 0) {
        err = errno;
        close(fd);
        g_unlink(tmp);
        return nwf_file_fail(error, "cannot write file", tmp, err);
    }
    if (close(fd) < 0) {
        err = errno;
        g_unlink(tmp);
        return nwf_file_fail(error, "cannot write file", tmp, err);
    }
    if (rename(tmp, path) < 0) {
        err = errno;
        g_unlink(tmp);
        return nwf_file_fail(error, "cannot rename file to", path, err);
    }
    /* The new content is in place now: failing here would leave callers
     * believing the old one still is. The rename is only less durable. */
    if (!nwf_file_sync_dir(dir, &cause))
        g_warning("%s", cause->message);
    return TRUE;
}

gboolean
nwf_file_remove_durable(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);

    g_autoptr(GError) cause = NULL;

    if (g_unlink(path) < 0) {
        if (errno == ENOENT)
            return TRUE;
        return nwf_file_fail(error, "cannot remove file", path, errno);
    }
    /* As after a rename: the file is gone, only less durably. */
    if (!nwf_file_sync_dir(dir, &cause))
        g_warning("%s", cause->message);
    return TRUE;
}

gboolean
nwf_file_is_temp_name(const char *name)
{
    return name[0] == '.' && strstr(name, NWF_FILE_TEMP_MARK) != NULL;
}

static gint
nwf_file_compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
nwf_file_scan_store_dir(const char *dir, mode_t mode, const char *suffix, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) cause = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;

    if (!nwf_file_ensure_dir(dir, mode, error))
        return NULL;
    d = g_dir_open(dir, 0, &cause);
    if (!d) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot read directory: %s"), cause->message);
        return NULL;
    }
    while ((name = g_dir_read_name(d))) {
        if (nwf_file_is_temp_name(name)) {
            g_autofree char *path = g_build_filename(dir, name, NULL);

            g_unlink(path);
        } else if (name[0] != '.' && g_str_has_suffix(name, suffix)) {
            g_ptr_array_add(names, g_strndup(name, strlen(name) - strlen(suffix)));
        }
    }
    g_ptr_array_sort(names, nwf_file_compare_names);
    return g_steal_pointer(&names);
}
