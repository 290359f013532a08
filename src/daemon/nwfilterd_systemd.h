/* The two pieces of the systemd protocol nwfilterd needs, without
 * libsystemd: inherited listening sockets and the readiness message. */
#pragma once

#include <glib.h>

typedef struct {
    int fd;
    gboolean readonly;
} NwfDaemonListenFd;

/* Sockets passed by systemd (LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES), as
 * NwfDaemonListenFd values; empty when not socket-activated. A name
 * ending in "-ro.socket" (or "ro") marks the read-only socket; without
 * names the second socket is the read-only one. The LISTEN_* variables
 * are removed so children do not inherit them. */
GArray *nwf_daemon_listen_fds(GError **error);

/* Tell the service manager we are ready (no-op without NOTIFY_SOCKET). */
void nwf_daemon_notify_ready(void);
