/* learn_socket: the packet socket one port is snooped through. */
#pragma once

#include <glib.h>

/* A non-blocking AF_PACKET socket on IFNAME that sees frames in both
 * directions, with the BPF program PROG (struct sock_filter) attached
 * before it is bound, so no unfiltered frame is ever queued. Returns the
 * fd, or -1 with NWF_ERR_SYSTEM_ERROR. *IFINDEX gets the device index. */
int nwf_learn_socket_open(const char *ifname, GArray *prog, int *ifindex, GError **error);

/* Replace the BPF program of FD. */
gboolean nwf_learn_socket_set_filter(int fd, GArray *prog, GError **error);
