/* The learning engine: one LearnPort per port being learned, all under one
 * learner lock. Sources (socket watch, timer) hold a reference on their
 * port and check its 'stopped' flag, so a port stopped from another thread
 * while one of its callbacks waits for the lock is never touched after
 * free. Every change to a port's addresses goes through port_changed(),
 * which persists the lease file, narrows or widens the BPF program and
 * re-arms the timer before the change callback runs (unlocked). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include <glib-unix.h>

#include "nwfilter/learn.h"
#include "nwfilter/learn_bpf.h"
#include "nwfilter/learn_frame.h"
#include "nwfilter/learn_lease.h"
#include "nwfilter/learn_lease_file.h"
#include "nwfilter/learn_ratelimit.h"
#include "nwfilter/learn_socket.h"
#include "util/nwf_error.h"

#define LEARN_DEFAULT_RATE 100
#define LEARN_DEFAULT_BURST 200
#define LEARN_DEFAULT_DAD_MS 1000
/* Frames one port may handle per main-loop wake-up, so that ports take
 * turns even when one of them always has something queued. */
#define LEARN_BATCH 32
#define LEARN_WARN_INTERVAL_US (10 * G_USEC_PER_SEC)
/* Wall-clock expiries are re-checked at least this often, in case the
 * clock is set while a timer runs. */
#define LEARN_MAX_SLEEP_MS (60 * 1000)

typedef struct {
    struct in6_addr target;
    gint64 deadline_us;         /* monotonic */
} DadProbe;

typedef struct {
    gint ref;
    NwfLearner *learner;
    gboolean stopped;
    char *portdev;
    char *capdev;               /* the device the socket is bound to */
    gboolean on_linkdev;
    char *key;                  /* <owner-uuid>-<mac>: the lease table */
    char *signature;            /* the request, to recognise a repeat */
    guint8 mac[6];
    NwfIpLearning mode;
    gboolean ipv4, ipv6;
    GArray *servers4;           /* struct in_addr; empty: any server */
    GArray *servers6;           /* struct in6_addr */
    int fd;
    int ifindex;
    GSource *watch;
    GSource *timer;
    NwfLearnBpfSpec bpf;        /* what the socket's filter passes now */
    NwfRateLimit limit;
    guint64 decoded;
    guint64 dropped_warned;
    gint64 last_warn_us;
    GArray *dad;                /* DadProbe */
    /* A lease was renewed: the file and timer need updating although the
     * address set (and so the rules) did not change. */
    gboolean dirty;
    /* The VM's last DHCPREQUEST, which a NAK refers to by xid. */
    gboolean have_request;
    guint32 request_xid;
    struct in_addr requested;
} LearnPort;

struct _NwfLearner {
    GMutex lock;
    char *lease_file;
    GMainContext *context;
    NwfLearnChangedFunc changed;
    gpointer changed_data;
    guint rate, burst, dad_ms;
    GHashTable *ports;          /* portdev -> LearnPort* */
    GHashTable *leases;         /* key -> NwfLeaseTable* */
};

static LearnPort *
port_ref(LearnPort *port)
{
    g_atomic_int_inc(&port->ref);
    return port;
}

static void
port_unref(gpointer data)
{
    LearnPort *port = data;

    if (!g_atomic_int_dec_and_test(&port->ref))
        return;
    g_free(port->portdev);
    g_free(port->capdev);
    g_free(port->key);
    g_free(port->signature);
    g_array_unref(port->servers4);
    g_array_unref(port->servers6);
    g_array_unref(port->dad);
    g_free(port);
}

static gint64
now_seconds(void)
{
    return g_get_real_time() / G_USEC_PER_SEC;
}

static NwfLeaseTable *
port_table(LearnPort *port)
{
    GHashTable *leases = port->learner->leases;
    NwfLeaseTable *table = g_hash_table_lookup(leases, port->key);

    if (!table) {
        table = nwf_lease_table_new();
        g_hash_table_insert(leases, g_strdup(port->key), table);
    }
    return table;
}

/* ---- persistence, filter, timer: what follows every change ---- */

static void
learner_save(NwfLearner *learner)
{
    g_autoptr(GError) error = NULL;
    GHashTableIter iter;
    NwfLeaseTable *table;

    if (!learner->lease_file)
        return;
    g_hash_table_iter_init(&iter, learner->leases);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&table)) {
        nwf_lease_table_expire(table, now_seconds());
        if (nwf_lease_table_count(table, 0) == 0)
            g_hash_table_iter_remove(&iter);
    }
    /* The rules are already right in memory; a failed save only costs the
     * addresses after a daemon restart, so it is reported, not fatal. */
    if (!nwf_lease_file_save(learner->lease_file, learner->leases, &error))
        g_warning("cannot save learned IP addresses: %s", error->message);
}

static NwfLearnBpfSpec
port_bpf_spec(LearnPort *port)
{
    NwfLearnBpfSpec spec = { .on_linkdev = port->on_linkdev };

    memcpy(spec.mac, port->mac, 6);
    spec.ipv4_any = port->ipv4 && port->mode == NWF_IP_LEARNING_ANY &&
                    nwf_lease_table_count(port_table(port), AF_INET) == 0;
    spec.ipv4_dhcp = port->ipv4 && port->mode == NWF_IP_LEARNING_DHCP;
    spec.ipv6 = port->ipv6;
    return spec;
}

static void
port_update_filter(LearnPort *port)
{
    NwfLearnBpfSpec spec = port_bpf_spec(port);
    g_autoptr(GArray) prog = NULL;
    g_autoptr(GError) error = NULL;

    if (port->fd < 0 || memcmp(&spec, &port->bpf, sizeof(spec)) == 0)
        return;
    prog = nwf_learn_bpf_build(&spec);
    if (nwf_learn_socket_set_filter(port->fd, prog, &error))
        port->bpf = spec;
    else
        g_warning("port '%s': %s", port->portdev, error->message);
}

static gboolean port_timer_fired(gpointer data);

static void
port_arm_timer(LearnPort *port)
{
    gint64 next_lease = nwf_lease_table_next_expiry(port_table(port));
    gint64 wait_ms = LEARN_MAX_SLEEP_MS;
    gboolean needed = FALSE;

    if (port->timer) {
        g_source_destroy(port->timer);
        g_clear_pointer(&port->timer, g_source_unref);
    }
    if (next_lease != NWF_LEASE_NEVER) {
        wait_ms = MIN(wait_ms, MAX(0, next_lease - now_seconds()) * 1000);
        needed = TRUE;
    }
    for (guint i = 0; i < port->dad->len; i++) {
        gint64 left = g_array_index(port->dad, DadProbe, i).deadline_us - g_get_monotonic_time();

        wait_ms = MIN(wait_ms, MAX(0, (left + 999) / 1000));
        needed = TRUE;
    }
    if (!needed)
        return;
    port->timer = g_timeout_source_new((guint)wait_ms);
    g_source_set_callback(port->timer, port_timer_fired, port_ref(port), port_unref);
    g_source_attach(port->timer, port->learner->context);
}

/* After the addresses of PORT changed (lock held). */
static void
port_changed(LearnPort *port)
{
    port->dirty = FALSE;
    learner_save(port->learner);
    port_update_filter(port);
    port_arm_timer(port);
}

/* Call the change callback for PORTDEV (no lock held). */
static void
learner_notify(NwfLearner *learner, const char *portdev)
{
    if (learner->changed)
        learner->changed(portdev, learner->changed_data);
}

/* ---- what frames teach ---- */

/* 0.0.0.0 and 224.0.0.0/3 (multicast, class E, broadcast) are never a
 * VM's own address. */
static gboolean
ipv4_learnable(struct in_addr addr)
{
    guint32 host = ntohl(addr.s_addr);

    return host != 0 && (host >> 29) != 7;
}

static gboolean
ipv6_learnable(const struct in6_addr *addr)
{
    return !IN6_IS_ADDR_UNSPECIFIED(addr) && !IN6_IS_ADDR_LOOPBACK(addr) &&
           !IN6_IS_ADDR_MULTICAST(addr) && !IN6_IS_ADDR_V4MAPPED(addr);
}

static gboolean
server_allowed(GArray *servers, gconstpointer addr, gsize size)
{
    if (servers->len == 0)
        return TRUE;
    for (guint i = 0; i < servers->len; i++) {
        if (memcmp(servers->data + i * size, addr, size) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Learn ADDR (renewing it when known). SERVER may be NULL. TRUE when the
 * address is new. */
static gboolean
port_add(LearnPort *port, int family, gconstpointer addr, gconstpointer server, gint64 expiry)
{
    NwfLease lease = { .family = family, .expiry = expiry };
    gsize size = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
    g_autofree char *text = nwf_lease_addr_format(family, addr);
    gboolean added;

    memcpy(&lease.addr, addr, size);
    if (server) {
        lease.has_server = TRUE;
        memcpy(&lease.server, server, size);
    }
    added = nwf_lease_table_add(port_table(port), &lease);
    if (added)
        g_message("port '%s' learned %s address %s", port->portdev,
                  family == AF_INET ? "IPv4" : "IPv6", text);
    port->dirty = TRUE;
    return added;
}

static gboolean
port_remove(LearnPort *port, int family, gconstpointer addr, const char *why)
{
    g_autofree char *text = nwf_lease_addr_format(family, addr);

    if (!nwf_lease_table_remove(port_table(port), family, addr))
        return FALSE;
    g_message("port '%s' no longer has address %s (%s)", port->portdev, text, why);
    return TRUE;
}

static gint64
lease_expiry(guint32 secs)
{
    return secs == NWF_LEASE_INFINITE ? NWF_LEASE_NEVER : now_seconds() + secs;
}

/* IPv4 in 'any' mode: the first usable address wins. */
static gboolean
port_learn_any4(LearnPort *port, const NwfLearnFrame *f, gboolean from_vm)
{
    const NwfDhcpMsg *m = &f->dhcp_msg;

    if (nwf_lease_table_count(port_table(port), AF_INET) > 0)
        return FALSE;
    if (from_vm && f->ipv4 && ipv4_learnable(f->ip4_src))
        return port_add(port, AF_INET, &f->ip4_src, NULL, NWF_LEASE_NEVER);
    if (!from_vm && f->dhcp && m->op == 2 && memcmp(m->chaddr, port->mac, 6) == 0 &&
        (m->type == NWF_DHCP_OFFER || m->type == NWF_DHCP_ACK) && ipv4_learnable(m->yiaddr))
        return port_add(port, AF_INET, &m->yiaddr, NULL, NWF_LEASE_NEVER);
    return FALSE;
}

/* IPv4 in 'dhcp' mode: the lease set follows the DHCP exchange. */
static gboolean
port_learn_dhcp4(LearnPort *port, const NwfLearnFrame *f, gboolean from_vm)
{
    const NwfDhcpMsg *m = &f->dhcp_msg;

    if (!f->dhcp)
        return FALSE;
    if (from_vm && m->op == 1) {
        switch (m->type) {
        case NWF_DHCP_REQUEST:
            port->have_request = TRUE;
            port->request_xid = m->xid;
            port->requested = m->has_requested ? m->requested : m->ciaddr;
            return FALSE;
        case NWF_DHCP_RELEASE:
            /* Clients put the released address in ciaddr; yiaddr is the
             * fallback libvirt used alone. */
            return port_remove(port, AF_INET, m->ciaddr.s_addr ? &m->ciaddr : &m->yiaddr,
                               "released");
        case NWF_DHCP_DECLINE:
            return port_remove(port, AF_INET, m->has_requested ? &m->requested : &m->ciaddr,
                               "declined");
        default:
            return FALSE;
        }
    }
    if (from_vm || m->op != 2 || memcmp(m->chaddr, port->mac, 6) != 0 ||
        !server_allowed(port->servers4, &f->ip4_src, sizeof(struct in_addr)))
        return FALSE;
    if (m->type == NWF_DHCP_ACK && m->has_lease && ipv4_learnable(m->yiaddr)) {
        const struct in_addr *server = m->has_server_id ? &m->server_id : &f->ip4_src;

        return port_add(port, AF_INET, &m->yiaddr, server, lease_expiry(m->lease_secs));
    }
    if (m->type == NWF_DHCP_NAK && port->have_request && m->xid == port->request_xid) {
        port->have_request = FALSE;
        return port_remove(port, AF_INET, &port->requested, "refused by the server");
    }
    return FALSE;
}

static gboolean
port_learn_dhcp6(LearnPort *port, const NwfLearnFrame *f, gboolean from_vm)
{
    const NwfDhcp6Msg *m = &f->dhcp6_msg;
    gboolean changed = FALSE;

    if (!f->dhcp6)
        return FALSE;
    if (from_vm && (m->type == NWF_DHCP6_RELEASE || m->type == NWF_DHCP6_DECLINE)) {
        for (guint i = 0; i < m->n_addrs; i++)
            changed |= port_remove(port, AF_INET6, &m->addrs[i].addr,
                                   m->type == NWF_DHCP6_RELEASE ? "released" : "declined");
        return changed;
    }
    if (from_vm || m->type != NWF_DHCP6_REPLY || memcmp(f->dst_mac, port->mac, 6) != 0 ||
        !server_allowed(port->servers6, &f->ip6_src, sizeof(struct in6_addr)))
        return FALSE;
    for (guint i = 0; i < m->n_addrs; i++) {
        const NwfDhcp6Addr *a = &m->addrs[i];

        if (a->valid_secs == 0)
            changed |= port_remove(port, AF_INET6, &a->addr, "lifetime withdrawn");
        else if (ipv6_learnable(&a->addr))
            changed |= port_add(port, AF_INET6, &a->addr, &f->ip6_src,
                                lease_expiry(a->valid_secs));
    }
    return changed;
}

static gint
dad_find(LearnPort *port, const struct in6_addr *target)
{
    for (guint i = 0; i < port->dad->len; i++) {
        if (memcmp(&g_array_index(port->dad, DadProbe, i).target, target, 16) == 0)
            return (gint)i;
    }
    return -1;
}

/* SLAAC: a DAD probe from the VM opens a window; an answer from elsewhere
 * (NA, or a competing probe) within it means someone else has the address.
 * Returns TRUE when the timer must be re-armed. */
static gboolean
port_watch_dad(LearnPort *port, const NwfLearnFrame *f, gboolean from_vm)
{
    const struct in6_addr *target = &f->nd_msg.target;
    gboolean from_unspecified = IN6_IS_ADDR_UNSPECIFIED(&f->ip6_src);
    gint i;

    if (!f->nd || !f->ipv6)
        return FALSE;
    i = dad_find(port, target);
    if (from_vm) {
        DadProbe probe = { *target, g_get_monotonic_time() + port->learner->dad_ms * 1000 };

        if (f->nd_msg.type != NWF_ND_SOLICIT || !from_unspecified || i >= 0 ||
            !ipv6_learnable(target) ||
            nwf_lease_table_find(port_table(port), AF_INET6, target))
            return FALSE;
        g_array_append_val(port->dad, probe);
        return TRUE;
    }
    if (i >= 0 && (f->nd_msg.type == NWF_ND_ADVERT || from_unspecified)) {
        g_autofree char *text = nwf_lease_addr_format(AF_INET6, target);

        g_message("port '%s': address %s is in use elsewhere (duplicate address detection); "
                  "not learned", port->portdev, text);
        g_array_remove_index(port->dad, (guint)i);
        return TRUE;
    }
    return FALSE;
}

/* What one frame teaches PORT. *REARM: the DAD set changed. */
static gboolean
port_handle_frame(LearnPort *port, const guint8 *buf, gsize len, guint8 pkttype,
                  gboolean *rearm)
{
    NwfLearnFrame f;
    gboolean outgoing = pkttype == PACKET_OUTGOING;
    gboolean to_vm = port->on_linkdev ? !outgoing : outgoing;
    gboolean from_vm;
    gboolean changed = FALSE;

    if (!nwf_learn_frame_decode(buf, len, &f))
        return FALSE;
    from_vm = !to_vm && memcmp(f.src_mac, port->mac, 6) == 0;
    if (!to_vm && !from_vm)
        return FALSE;
    if (port->ipv4 && port->mode == NWF_IP_LEARNING_ANY)
        changed |= port_learn_any4(port, &f, from_vm);
    else if (port->ipv4)
        changed |= port_learn_dhcp4(port, &f, from_vm);
    if (port->ipv6) {
        changed |= port_learn_dhcp6(port, &f, from_vm);
        if (port->mode == NWF_IP_LEARNING_ANY)
            *rearm |= port_watch_dad(port, &f, from_vm);
    }
    return changed;
}

static void
port_warn_drops(LearnPort *port, gint64 now)
{
    if (port->limit.dropped == port->dropped_warned ||
        (port->last_warn_us && now - port->last_warn_us < LEARN_WARN_INTERVAL_US))
        return;
    g_warning("too many packets on port '%s' while learning its IP address: %" G_GUINT64_FORMAT
              " dropped without decoding (limit %u/s)",
              port->portdev, port->limit.dropped - port->dropped_warned, port->limit.rate);
    port->dropped_warned = port->limit.dropped;
    port->last_warn_us = now;
}

/* The socket failed: keep going unless the device has gone or changed. */
static gboolean
port_check_device(LearnPort *port)
{
    int err = 0;
    socklen_t len = sizeof(err);

    getsockopt(port->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if ((int)if_nametoindex(port->capdev) == port->ifindex)
        return TRUE;
    g_warning("stopped learning IP addresses on port '%s': device '%s' has gone",
              port->portdev, port->capdev);
    return FALSE;
}

static gboolean
port_readable(int fd, GIOCondition cond, gpointer data)
{
    LearnPort *port = data;
    NwfLearner *learner = port->learner;
    g_autofree char *notify = NULL;
    gboolean changed = FALSE, rearm = FALSE;

    {
        g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);
        gint64 now = g_get_monotonic_time();

        if (port->stopped)
            return G_SOURCE_REMOVE;
        if ((cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) && !port_check_device(port)) {
            g_clear_pointer(&port->watch, g_source_unref);
            return G_SOURCE_REMOVE;
        }
        for (guint i = 0; i < LEARN_BATCH; i++) {
            guint8 buf[NWF_LEARN_SNAPLEN];
            struct sockaddr_ll sll;
            socklen_t slen = sizeof(sll);
            ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sll, &slen);

            if (n < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            /* Over the limit: read (to free the queue) but never decoded. */
            if (!nwf_rate_limit_take(&port->limit, now))
                continue;
            port->decoded++;
            changed |= port_handle_frame(port, buf, (gsize)n, sll.sll_pkttype, &rearm);
        }
        port_warn_drops(port, now);
        if (changed || port->dirty)
            port_changed(port);
        else if (rearm)
            port_arm_timer(port);
        if (changed)
            notify = g_strdup(port->portdev);
    }
    if (notify)
        learner_notify(learner, notify);
    return G_SOURCE_CONTINUE;
}

static gboolean
port_timer_fired(gpointer data)
{
    LearnPort *port = data;
    NwfLearner *learner = port->learner;
    g_autofree char *notify = NULL;

    {
        g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);
        gint64 mono = g_get_monotonic_time();
        gboolean changed;

        if (port->stopped || port->timer != g_main_current_source())
            return G_SOURCE_REMOVE;
        changed = nwf_lease_table_expire(port_table(port), now_seconds());
        if (changed)
            g_message("port '%s': a learned address expired", port->portdev);
        for (guint i = port->dad->len; i-- > 0;) {
            DadProbe probe = g_array_index(port->dad, DadProbe, i);

            if (probe.deadline_us > mono)
                continue;
            g_array_remove_index(port->dad, i);
            changed |= port_add(port, AF_INET6, &probe.target, NULL, NWF_LEASE_NEVER);
        }
        g_clear_pointer(&port->timer, g_source_unref);
        if (changed || port->dirty)
            port_changed(port);
        else
            port_arm_timer(port);
        if (changed)
            notify = g_strdup(port->portdev);
    }
    if (notify)
        learner_notify(learner, notify);
    return G_SOURCE_REMOVE;
}

/* ---- life cycle ---- */

NwfLearner *
nwf_learner_new(const NwfLearnerConfig *config, GError **error)
{
    g_autoptr(NwfLearner) learner = g_new0(NwfLearner, 1);

    g_mutex_init(&learner->lock);
    learner->lease_file = g_strdup(config->lease_file);
    learner->context = g_main_context_ref(config->context ? config->context
                                                          : g_main_context_default());
    learner->changed = config->changed;
    learner->changed_data = config->changed_data;
    learner->rate = config->rate ? config->rate : LEARN_DEFAULT_RATE;
    learner->burst = config->burst ? config->burst : LEARN_DEFAULT_BURST;
    learner->dad_ms = config->dad_ms ? config->dad_ms : LEARN_DEFAULT_DAD_MS;
    learner->ports = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, port_unref);
    if (learner->lease_file)
        learner->leases = nwf_lease_file_load(learner->lease_file, now_seconds(), error);
    else
        learner->leases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify)nwf_lease_table_free);
    if (!learner->leases)
        return NULL;
    return g_steal_pointer(&learner);
}

/* Stop PORT's sources and socket (lock held). */
static void
port_stop(LearnPort *port)
{
    port->stopped = TRUE;
    if (port->watch) {
        g_source_destroy(port->watch);
        g_clear_pointer(&port->watch, g_source_unref);
    }
    if (port->timer) {
        g_source_destroy(port->timer);
        g_clear_pointer(&port->timer, g_source_unref);
    }
    if (port->fd >= 0)
        close(port->fd);
    port->fd = -1;
}

void
nwf_learner_free(NwfLearner *learner)
{
    GHashTableIter iter;
    LearnPort *port;

    if (!learner)
        return;
    if (learner->ports) {
        g_hash_table_iter_init(&iter, learner->ports);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&port))
            port_stop(port);
        g_hash_table_unref(learner->ports);
    }
    if (learner->leases)
        g_hash_table_unref(learner->leases);
    g_main_context_unref(learner->context);
    g_free(learner->lease_file);
    g_mutex_clear(&learner->lock);
    g_free(learner);
}

static gboolean
parse_servers(const GPtrArray *texts, int family, GArray *out, const char *what, GError **error)
{
    for (guint i = 0; texts && i < texts->len; i++) {
        const char *text = g_ptr_array_index(texts, i);
        struct in6_addr addr;

        if (inet_pton(family, text, &addr) != 1) {
            nwf_error_set(error, NWF_ERR_INVALID_ARG,
                          _("%s value '%s' is not an %s address"), what, text,
                          family == AF_INET ? "IPv4" : "IPv6");
            return FALSE;
        }
        g_array_append_vals(out, &addr, 1);
    }
    return TRUE;
}

static char *
request_signature(const NwfLearnRequest *req)
{
    GString *sig = g_string_new(NULL);
    g_autofree char *uuid = nwf_uuid_format(req->owner_uuid);
    g_autofree char *mac = nwf_mac_format(req->mac);

    g_string_append_printf(sig, "%s|%s|%s|%s|%d|%d|%d|", req->portdev,
                           req->linkdev ? req->linkdev : "", uuid, mac, req->mode,
                           req->ipv4, req->ipv6);
    for (guint i = 0; req->dhcp_servers && i < req->dhcp_servers->len; i++)
        g_string_append_printf(sig, "%s,", (const char *)g_ptr_array_index(req->dhcp_servers, i));
    g_string_append_c(sig, '|');
    for (guint i = 0; req->dhcp_servers_v6 && i < req->dhcp_servers_v6->len; i++)
        g_string_append_printf(sig, "%s,",
                               (const char *)g_ptr_array_index(req->dhcp_servers_v6, i));
    return g_string_free(sig, FALSE);
}

/* The lease table key of a VM's NIC: <owner-uuid>-<mac>. */
static char *
lease_key(const guint8 owner_uuid[16], const guint8 mac[6])
{
    g_autofree char *uuid = nwf_uuid_format(owner_uuid);
    g_autofree char *mac_text = nwf_mac_format(mac);

    return g_strdup_printf("%s-%s", uuid, mac_text);
}

static LearnPort *
port_new(NwfLearner *learner, const NwfLearnRequest *req, char *signature)
{
    LearnPort *port = g_new0(LearnPort, 1);

    port->ref = 1;
    port->learner = learner;
    port->portdev = g_strdup(req->portdev);
    port->on_linkdev = req->linkdev && req->linkdev[0];
    port->capdev = g_strdup(port->on_linkdev ? req->linkdev : req->portdev);
    port->key = lease_key(req->owner_uuid, req->mac);
    port->signature = signature;
    memcpy(port->mac, req->mac, 6);
    port->mode = req->mode;
    port->ipv4 = req->ipv4;
    port->ipv6 = req->ipv6;
    port->servers4 = g_array_new(FALSE, TRUE, sizeof(struct in_addr));
    port->servers6 = g_array_new(FALSE, TRUE, sizeof(struct in6_addr));
    port->dad = g_array_new(FALSE, TRUE, sizeof(DadProbe));
    port->fd = -1;
    nwf_rate_limit_init(&port->limit, learner->rate, learner->burst, g_get_monotonic_time());
    return port;
}

gboolean
nwf_learner_start(NwfLearner *learner, const NwfLearnRequest *req, GError **error)
{
    g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);
    g_autofree char *signature = request_signature(req);
    LearnPort *old = g_hash_table_lookup(learner->ports, req->portdev);
    LearnPort *port;
    g_autoptr(GArray) prog = NULL;

    g_return_val_if_fail(req->mode != NWF_IP_LEARNING_NONE, FALSE);
    /* A port whose socket died with its device (a tap re-created under the
     * same name) is started afresh. */
    if (old && old->watch && strcmp(old->signature, signature) == 0)
        return TRUE;
    port = port_new(learner, req, g_steal_pointer(&signature));
    if (!parse_servers(req->dhcp_servers, AF_INET, port->servers4, "DHCPSERVER", error) ||
        !parse_servers(req->dhcp_servers_v6, AF_INET6, port->servers6, "DHCPSERVERV6", error)) {
        port_unref(port);
        return FALSE;
    }
    if (old) {
        port_stop(old);
        g_hash_table_remove(learner->ports, req->portdev);
    }
    if (nwf_lease_table_expire(port_table(port), now_seconds()))
        learner_save(learner);
    port->bpf = port_bpf_spec(port);
    prog = nwf_learn_bpf_build(&port->bpf);
    port->fd = nwf_learn_socket_open(port->capdev, prog, &port->ifindex, error);
    if (port->fd < 0) {
        port_unref(port);
        return FALSE;
    }
    port->watch = g_unix_fd_source_new(port->fd, G_IO_IN | G_IO_ERR | G_IO_HUP);
    g_source_set_callback(port->watch, G_SOURCE_FUNC(port_readable), port_ref(port), port_unref);
    g_source_attach(port->watch, learner->context);
    port_arm_timer(port);
    g_hash_table_insert(learner->ports, port->portdev, port);
    return TRUE;
}

/* Drop what traffic taught the VM of KEY (addresses without a server);
 * DHCP leases stay for a VM that comes back (lock held). TRUE when some
 * address went. */
static gboolean
learner_forget_traffic(NwfLearner *learner, const char *key)
{
    NwfLeaseTable *table = g_hash_table_lookup(learner->leases, key);
    gboolean dropped = FALSE;

    for (guint i = table ? nwf_lease_table_count(table, 0) : 0; i-- > 0;) {
        NwfLease lease = *nwf_lease_table_get(table, i);

        if (!lease.has_server)
            dropped |= nwf_lease_table_remove(table, lease.family, &lease.addr);
    }
    return dropped;
}

/* Stop PORTDEV when it runs; FORGET: also what its traffic taught. TRUE
 * when some address went (lock held). */
static gboolean
learner_stop_port(NwfLearner *learner, const char *portdev, gboolean forget)
{
    LearnPort *port = g_hash_table_lookup(learner->ports, portdev);
    gboolean dropped;

    if (!port)
        return FALSE;
    port_stop(port);
    dropped = forget && learner_forget_traffic(learner, port->key);
    g_hash_table_remove(learner->ports, portdev);
    return dropped;
}

void
nwf_learner_stop(NwfLearner *learner, const char *portdev, gboolean forget)
{
    g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);

    if (learner_stop_port(learner, portdev, forget))
        learner_save(learner);
}

void
nwf_learner_forget(NwfLearner *learner, const char *portdev, const guint8 owner_uuid[16],
                   const guint8 mac[6])
{
    g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);
    g_autofree char *key = lease_key(owner_uuid, mac);
    gboolean dropped = learner_stop_port(learner, portdev, TRUE);

    /* The port may never have run since the daemon started (its device
     * was absent), yet the lease file still holds what it taught. */
    dropped |= learner_forget_traffic(learner, key);
    if (dropped)
        learner_save(learner);
}

gboolean
nwf_learner_is_running(NwfLearner *learner, const char *portdev)
{
    g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);

    return g_hash_table_contains(learner->ports, portdev);
}

gboolean
nwf_learner_get_addresses(NwfLearner *learner, const char *portdev, GPtrArray **ipv4,
                          GPtrArray **ipv6)
{
    g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);
    LearnPort *port = g_hash_table_lookup(learner->ports, portdev);

    if (!port) {
        *ipv4 = g_ptr_array_new_with_free_func(g_free);
        *ipv6 = g_ptr_array_new_with_free_func(g_free);
        return FALSE;
    }
    *ipv4 = nwf_lease_table_addresses(port_table(port), AF_INET);
    *ipv6 = nwf_lease_table_addresses(port_table(port), AF_INET6);
    return TRUE;
}

void
nwf_learner_get_counters(NwfLearner *learner, const char *portdev, guint64 *decoded,
                         guint64 *dropped)
{
    g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&learner->lock);
    LearnPort *port = g_hash_table_lookup(learner->ports, portdev);

    *decoded = port ? port->decoded : 0;
    *dropped = port ? port->limit.dropped : 0;
}
