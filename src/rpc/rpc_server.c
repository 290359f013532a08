#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include <glib-unix.h>

#include "rpc/rpc_client.h"
#include "util/nwf_error.h"

/* Connections taken per wakeup of a listener, and the pause after the
 * process ran out of descriptors (the backlog keeps the rest waiting). */
#define ACCEPTS_PER_WAKEUP 256
#define ACCEPT_PAUSE_MS 200
/* Ready connections handled per main loop wakeup. */
#define EVENTS_PER_WAKEUP 256

typedef struct {
    NwfRpcServer *server;
    int fd;
    gboolean readonly;
    char *path;                 /* unlinked on free; NULL when inherited */
    GSource *watch;
    GSource *pause;
} Listener;

typedef struct {
    GFunc func;
    gpointer data;
} Task;

/* The worker queue holds either a call or a task. */
typedef struct {
    NwfRpcCall *call;
    Task task;
} Work;

struct _NwfRpcServer {
    NwfRpcServerConfig config;
    const NwfRpcDriverOps *ops;
    gpointer driver;
    GMainContext *context;
    GPtrArray *listeners;
    GHashTable *clients;        /* NwfRpcClient* set, one reference each */
    GThreadPool *worker;
    GMutex done_lock;
    GQueue done;                /* calls back from the worker */
    GSource *done_source;
    GSource *keepalive_source;
    /* All connections share one epoll set, so a wakeup costs what is
     * ready, not what is connected (thousands of idle clients). */
    int epfd;
    GSource *epoll_source;
};

void
nwf_rpc_server_config_init(NwfRpcServerConfig *config)
{
    config->keepalive_interval = 5;
    config->keepalive_count = 5;
    config->max_client_requests = 5;
    config->max_client_output = 4 * 1024 * 1024;
    config->max_clients = 0;
}

const NwfRpcServerConfig *
nwf_rpc_server_get_config(NwfRpcServer *server)
{
    return &server->config;
}

static void
source_drop(GSource **source)
{
    if (!*source)
        return;
    g_source_destroy(*source);
    g_source_unref(*source);
    *source = NULL;
}

static gboolean
server_done_dispatch(gpointer data)
{
    NwfRpcServer *server = data;
    GQueue done = G_QUEUE_INIT;
    NwfRpcCall *call;

    g_mutex_lock(&server->done_lock);
    done = server->done;
    g_queue_init(&server->done);
    g_source_unref(server->done_source);
    server->done_source = NULL;
    g_mutex_unlock(&server->done_lock);
    while ((call = g_queue_pop_head(&done)))
        nwf_rpc_client_call_done(call);
    return G_SOURCE_REMOVE;
}

static void
server_worker_run(gpointer item, gpointer data)
{
    NwfRpcServer *server = data;
    Work *work = item;
    NwfRpcCall *call = work->call;

    if (!call) {
        work->task.func(work->task.data, NULL);
        g_free(work);
        return;
    }
    g_free(work);
    /* A caller that hung up gets no answer; skip work nobody waits for. */
    if (!nwf_rpc_client_is_closed(call->client))
        call->ok = call->proc->driver(server->ops, server->driver, call->args, call->ret,
                                      &call->err);
    g_mutex_lock(&server->done_lock);
    g_queue_push_tail(&server->done, call);
    if (!server->done_source) {
        server->done_source = g_idle_source_new();
        g_source_set_callback(server->done_source, server_done_dispatch, server, NULL);
        g_source_attach(server->done_source, server->context);
    }
    g_mutex_unlock(&server->done_lock);
}

void
nwf_rpc_server_submit(NwfRpcServer *server, NwfRpcCall *call)
{
    Work *work = g_new0(Work, 1);

    work->call = call;
    g_thread_pool_push(server->worker, work, NULL);
}

void
nwf_rpc_server_run_exclusive(NwfRpcServer *server, GFunc func, gpointer data)
{
    Work *work = g_new0(Work, 1);

    work->task.func = func;
    work->task.data = data;
    g_thread_pool_push(server->worker, work, NULL);
}

void
nwf_rpc_server_client_gone(NwfRpcServer *server, NwfRpcClient *client)
{
    if (g_hash_table_steal(server->clients, client))
        nwf_rpc_client_unref(client);
}

guint
nwf_rpc_server_client_count(NwfRpcServer *server)
{
    return g_hash_table_size(server->clients);
}

void
nwf_rpc_server_add_client(NwfRpcServer *server, int fd, gboolean readonly)
{
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    g_hash_table_add(server->clients, nwf_rpc_client_new(server, fd, readonly));
}

static gboolean
server_keepalive_tick(gpointer data)
{
    NwfRpcServer *server = data;
    g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rpc_client_unref);
    GHashTableIter it;
    gpointer key;
    gint64 now = g_get_monotonic_time();

    g_hash_table_iter_init(&it, server->clients);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(clients, nwf_rpc_client_ref(key));
    for (guint i = 0; i < clients->len; i++)
        nwf_rpc_client_keepalive(clients->pdata[i], now, server->config.keepalive_interval,
                                 server->config.keepalive_count);
    return G_SOURCE_CONTINUE;
}

static guint32
events_to_epoll(GIOCondition events)
{
    return (events & G_IO_IN ? EPOLLIN : 0) | (events & G_IO_OUT ? EPOLLOUT : 0);
}

void
nwf_rpc_server_watch(NwfRpcServer *server, int fd, NwfRpcClient *client,
                     GIOCondition events, gboolean add)
{
    struct epoll_event ev = { .events = events_to_epoll(events), .data.ptr = client };

    if (epoll_ctl(server->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0)
        g_warning("cannot watch client fd %d: %s", fd, g_strerror(errno));
}

void
nwf_rpc_server_unwatch(NwfRpcServer *server, int fd)
{
    epoll_ctl(server->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static gboolean
server_epoll_ready(int epfd, GIOCondition cond, gpointer data)
{
    struct epoll_event evs[EVENTS_PER_WAKEUP];
    int n = epoll_wait(epfd, evs, G_N_ELEMENTS(evs), 0);

    /* Hold every reported client first: handling one may close another's
     * connection (never free it while its event is pending here). */
    for (int i = 0; i < n; i++)
        nwf_rpc_client_ref(evs[i].data.ptr);
    for (int i = 0; i < n; i++) {
        GIOCondition ready = (evs[i].events & EPOLLIN ? G_IO_IN : 0) |
                             (evs[i].events & EPOLLOUT ? G_IO_OUT : 0) |
                             (evs[i].events & EPOLLHUP ? G_IO_HUP : 0) |
                             (evs[i].events & EPOLLERR ? G_IO_ERR : 0);

        nwf_rpc_client_io(evs[i].data.ptr, ready);
        nwf_rpc_client_unref(evs[i].data.ptr);
    }
    return G_SOURCE_CONTINUE;
}

NwfRpcServer *
nwf_rpc_server_new(const NwfRpcServerConfig *config, const NwfRpcDriverOps *ops,
                   gpointer driver, GError **error)
{
    NwfRpcServer *server;
    int epfd = epoll_create1(EPOLL_CLOEXEC);

    if (epfd < 0) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot create an epoll set: %s"),
                      g_strerror(errno));
        return NULL;
    }
    server = g_new0(NwfRpcServer, 1);
    server->epfd = epfd;
    server->config = *config;
    server->ops = ops;
    server->driver = driver;
    server->context = g_main_context_ref_thread_default();
    server->listeners = g_ptr_array_new();
    server->clients = g_hash_table_new(NULL, NULL);
    g_mutex_init(&server->done_lock);
    g_queue_init(&server->done);
    /* One exclusive thread: the driver sees one call at a time, in order. */
    server->worker = g_thread_pool_new(server_worker_run, server, 1, TRUE, NULL);
    server->epoll_source = g_unix_fd_source_new(server->epfd, G_IO_IN);
    g_source_set_callback(server->epoll_source, (GSourceFunc)(void (*)(void))server_epoll_ready,
                          server, NULL);
    g_source_attach(server->epoll_source, server->context);
    if (config->keepalive_interval) {
        /* Tick at the interval's resolution; a client is probed once it
         * has been silent for a whole interval. */
        server->keepalive_source = g_timeout_source_new_seconds(1);
        g_source_set_callback(server->keepalive_source, server_keepalive_tick, server, NULL);
        g_source_attach(server->keepalive_source, server->context);
    }
    return server;
}

static gboolean listener_ready(int fd, GIOCondition cond, gpointer data);

static void
listener_watch(Listener *l)
{
    GSource *source = g_unix_fd_source_new(l->fd, G_IO_IN);

    g_source_set_callback(source, (GSourceFunc)(void (*)(void))listener_ready, l, NULL);
    g_source_attach(source, l->server->context);
    l->watch = source;
}


static gboolean
listener_resume(gpointer data)
{
    Listener *l = data;

    source_drop(&l->pause);
    listener_watch(l);
    return G_SOURCE_REMOVE;
}

static gboolean
listener_ready(int fd, GIOCondition cond, gpointer data)
{
    Listener *l = data;
    NwfRpcServer *server = l->server;

    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                g_warning("cannot accept connections: %s; pausing for %d ms",
                          g_strerror(errno), ACCEPT_PAUSE_MS);
                source_drop(&l->watch);
                l->pause = g_timeout_source_new(ACCEPT_PAUSE_MS);
                g_source_set_callback(l->pause, listener_resume, l, NULL);
                g_source_attach(l->pause, server->context);
                return G_SOURCE_REMOVE;
            }
            break;
        }
        if (server->config.max_clients &&
            g_hash_table_size(server->clients) >= server->config.max_clients) {
            g_warning("refusing connection: %u clients already connected",
                      server->config.max_clients);
            close(cfd);
            continue;
        }
        g_hash_table_add(server->clients, nwf_rpc_client_new(server, cfd, l->readonly));
    }
    return G_SOURCE_CONTINUE;
}

static Listener *
listener_add(NwfRpcServer *server, int fd, gboolean readonly, const char *path)
{
    Listener *l = g_new0(Listener, 1);

    l->server = server;
    l->fd = fd;
    l->readonly = readonly;
    l->path = g_strdup(path);
    g_ptr_array_add(server->listeners, l);
    listener_watch(l);
    return l;
}

gboolean
nwf_rpc_server_listen_fd(NwfRpcServer *server, int fd, gboolean readonly, GError **error)
{
    if (!g_unix_set_fd_nonblocking(fd, TRUE, error))
        return FALSE;
    listener_add(server, fd, readonly, NULL);
    return TRUE;
}

gboolean
nwf_rpc_server_listen_path(NwfRpcServer *server, const char *path, guint mode,
                           gboolean readonly, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR,
                      _("socket path '%s' is longer than %zu bytes"), path,
                      sizeof(addr.sun_path) - 1);
        return FALSE;
    }
    strcpy(addr.sun_path, path);
    /* Replace a socket left by an earlier run, never any other file. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            nwf_error_set(error, NWF_ERR_SYSTEM_ERROR,
                          _("'%s' exists and is not a socket"), path);
            return FALSE;
        }
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        chmod(path, mode) < 0 || listen(fd, SOMAXCONN) < 0) {
        int saved = errno;

        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot listen on '%s': %s"),
                      path, g_strerror(saved));
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    listener_add(server, fd, readonly, path);
    return TRUE;
}

static void
listener_free(Listener *l)
{
    source_drop(&l->watch);
    source_drop(&l->pause);
    close(l->fd);
    if (l->path)
        unlink(l->path);
    g_free(l->path);
    g_free(l);
}

void
nwf_rpc_server_free(NwfRpcServer *server)
{
    GHashTableIter it;
    gpointer key;
    NwfRpcCall *call;

    if (!server)
        return;
    g_ptr_array_foreach(server->listeners, (GFunc)(void (*)(void))listener_free, NULL);
    g_ptr_array_unref(server->listeners);
    while (g_hash_table_size(server->clients)) {
        g_hash_table_iter_init(&it, server->clients);
        g_hash_table_iter_next(&it, &key, NULL);
        nwf_rpc_client_close(key);
    }
    /* Let the worker finish what it holds, then drop its answers. */
    g_thread_pool_free(server->worker, FALSE, TRUE);
    source_drop(&server->done_source);
    while ((call = g_queue_pop_head(&server->done)))
        nwf_rpc_call_free(call);
    source_drop(&server->keepalive_source);
    source_drop(&server->epoll_source);
    close(server->epfd);
    g_hash_table_unref(server->clients);
    g_mutex_clear(&server->done_lock);
    g_main_context_unref(server->context);
    g_free(server);
}
