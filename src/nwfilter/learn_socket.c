#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "nwfilter/learn_socket.h"
#include "util/nwf_error.h"

/* Enough for a burst of DHCP frames; a flood overflows it and the kernel
 * drops the rest, which is what a rate limit wants. */
#define LEARN_RCVBUF (256 * 1024)

gboolean
nwf_learn_socket_set_filter(int fd, GArray *prog, GError **error)
{
    struct sock_fprog fprog = {
        .len = (unsigned short)prog->len,
        .filter = (struct sock_filter *)prog->data,
    };

    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR,
                      _("cannot attach the address learning packet filter: %s"),
                      g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

int
nwf_learn_socket_open(const char *ifname, GArray *prog, int *ifindex, GError **error)
{
    struct sockaddr_ll sll = { 0 };
    int rcvbuf = LEARN_RCVBUF;
    int fd, err;

    *ifindex = (int)if_nametoindex(ifname);
    if (*ifindex == 0) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR,
                      _("cannot learn IP addresses on '%s': no such network device"), ifname);
        return -1;
    }
    /* Protocol 0: the socket receives nothing until bind() names one. */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR,
                      _("cannot open a packet socket to learn IP addresses on '%s': %s "
                        "(this needs CAP_NET_RAW)"), ifname, g_strerror(errno));
        return -1;
    }
    if (!nwf_learn_socket_set_filter(fd, prog, error)) {
        close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = *ifindex;
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        err = errno;
        close(fd);
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR,
                      _("cannot bind the IP address learning socket to '%s': %s"),
                      ifname, g_strerror(err));
        return -1;
    }
    return fd;
}
