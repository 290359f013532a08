#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "daemon/nwfilterd_systemd.h"
#include "util/nwf_error.h"

/* First inherited descriptor (SD_LISTEN_FDS_START). */
#define LISTEN_FDS_START 3

GArray *
nwf_daemon_listen_fds(GError **error)
{
    GArray *fds = g_array_new(FALSE, FALSE, sizeof(NwfDaemonListenFd));
    const char *pid = g_getenv("LISTEN_PID");
    const char *count = g_getenv("LISTEN_FDS");
    g_auto(GStrv) names = NULL;
    guint64 n = 0;

    if (!pid || !count || g_ascii_strtoull(pid, NULL, 10) != (guint64)getpid())
        return fds;
    if (!g_ascii_string_to_unsigned(count, 10, 1, 64, &n, NULL)) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED, _("bad LISTEN_FDS value '%s'"), count);
        g_array_unref(fds);
        return NULL;
    }
    if (g_getenv("LISTEN_FDNAMES"))
        names = g_strsplit(g_getenv("LISTEN_FDNAMES"), ":", -1);
    for (guint i = 0; i < n; i++) {
        NwfDaemonListenFd lf = { LISTEN_FDS_START + (int)i, FALSE };
        const char *name = names && i < g_strv_length(names) ? names[i] : NULL;

        lf.readonly = name ? (g_str_has_suffix(name, "-ro.socket") || strcmp(name, "ro") == 0)
                           : i == 1;
        fcntl(lf.fd, F_SETFD, FD_CLOEXEC);
        g_array_append_val(fds, lf);
    }
    g_unsetenv("LISTEN_PID");
    g_unsetenv("LISTEN_FDS");
    g_unsetenv("LISTEN_FDNAMES");
    return fds;
}

void
nwf_daemon_notify_ready(void)
{
    const char *path = g_getenv("NOTIFY_SOCKET");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    static const char msg[] = "READY=1";
    socklen_t len;
    int fd;

    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(addr.sun_path))
        return;
    memcpy(addr.sun_path, path, strlen(path));
    /* '@' names an abstract socket: a leading NUL on the wire. */
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    len = G_STRUCT_OFFSET(struct sockaddr_un, sun_path) + strlen(path);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&addr, len) < 0)
        g_debug("cannot notify the service manager: %s", g_strerror(errno));
    close(fd);
}
