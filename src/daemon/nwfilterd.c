/* nwfilterd: serves libvirt's nwfilter API on virtnwfilterd's sockets.
 * Foreground until SIGTERM/SIGINT (rules stay in the kernel), SIGHUP
 * re-applies every binding. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include <glib-unix.h>

#include "daemon/firewalld_watch.h"
#include "daemon/nwfilterd_config.h"
#include "daemon/nwfilterd_dispatch.h"
#include "daemon/nwfilterd_log.h"
#include "daemon/nwfilterd_systemd.h"
#include "nwfilter/backend.h"
#ifdef NWF_HAVE_NFT_BACKEND
#include "nwfilter/backend_nft.h"
#endif
#include "nwfilter/driver.h"
#include "rpc/rpc_server.h"
#include "util/nwf_error.h"
#include "util/nwf_i18n.h"

#define SOCKET_RW "virtnwfilterd-sock"
#define SOCKET_RO "virtnwfilterd-sock-ro"
#define PID_FILE "nwfilterd.pid"
/* Descriptors kept for the driver, backends and logs. */
#define FD_RESERVE 128

typedef struct {
    char *socket_dir;
    char *config_dir;
    char *state_dir;
    char *backend;
    char *config_file;
    gboolean verbose;
    gboolean version;
} Options;

static gboolean
parse_options(int *argc, char ***argv, Options *opts, GError **error)
{
    GOptionEntry entries[] = {
        { "socket-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->socket_dir,
          N_("Directory of the sockets (default /run/libvirt)"), N_("DIR") },
        { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->config_dir,
          N_("Filter definitions (default /etc/libvirt/nwfilter)"), N_("DIR") },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts->state_dir,
          N_("Binding state (default /run/libvirt/nwfilter-binding)"), N_("DIR") },
        { "backend", 0, 0, G_OPTION_ARG_STRING, &opts->backend,
          N_("Firewall backend: nftables or ebiptables"), N_("NAME") },
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &opts->config_file,
          N_("Configuration file (default /etc/libvirt/nwfilterd.conf)"), N_("FILE") },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opts->verbose, N_("Log debug messages"), NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &opts->version, N_("Print the version"), NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(N_("- libvirt-compatible nwfilter daemon"));

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    return g_option_context_parse(ctx, argc, argv, error);
}

static void
options_clear(Options *opts)
{
    g_free(opts->socket_dir);
    g_free(opts->config_dir);
    g_free(opts->state_dir);
    g_free(opts->backend);
    g_free(opts->config_file);
}

static void
replace(char **field, char *value)
{
    if (!value)
        return;
    g_free(*field);
    *field = g_strdup(value);
}

/* One daemon per socket directory: a second one would steal the sockets
 * and fight over the same firewall state. The lock lives as long as FD. */
static int
pid_file_lock(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, PID_FILE, NULL);
    g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot open '%s': %s"), path,
                      g_strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char other[32] = "";
        ssize_t n = read(fd, other, sizeof(other) - 1);

        other[MAX(n, 0)] = '\0';
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR,
                      _("another nwfilterd (pid %s) serves '%s'"), g_strstrip(other), dir);
        close(fd);
        return -1;
    }
    if (ftruncate(fd, 0) < 0 || write(fd, pid, strlen(pid)) < 0)
        g_warning("cannot write '%s': %s", path, g_strerror(errno));
    return fd;
}

/* Every client costs a descriptor: take all the process may have, and keep
 * the client limit below it so the listener never runs dry of descriptors
 * (a full table would leave new clients waiting in the backlog). */
static guint
client_limit(guint wanted)
{
    struct rlimit rl;
    guint room;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return wanted;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit all = { rl.rlim_max, rl.rlim_max };

        if (setrlimit(RLIMIT_NOFILE, &all) == 0)
            rl = all;
    }
    room = rl.rlim_cur > FD_RESERVE + 1 ? MIN(rl.rlim_cur - FD_RESERVE, G_MAXUINT) : 1;
    if (wanted == 0 || wanted > room) {
        g_info("serving at most %u clients (descriptor limit %lu)", room,
               (unsigned long)rl.rlim_cur);
        return room;
    }
    return wanted;
}

static gboolean
listen_all(NwfRpcServer *server, const NwfDaemonConfig *config, GArray *inherited,
           GError **error)
{
    g_autofree char *rw = NULL;
    g_autofree char *ro = NULL;

    if (inherited->len) {
        for (guint i = 0; i < inherited->len; i++) {
            NwfDaemonListenFd *lf = &g_array_index(inherited, NwfDaemonListenFd, i);

            if (!nwf_rpc_server_listen_fd(server, lf->fd, lf->readonly, error))
                return FALSE;
            g_info("serving inherited socket fd %d%s", lf->fd, lf->readonly ? " (read-only)" : "");
        }
        return TRUE;
    }
    rw = g_build_filename(config->socket_dir, SOCKET_RW, NULL);
    ro = g_build_filename(config->socket_dir, SOCKET_RO, NULL);
    if (!nwf_rpc_server_listen_path(server, rw, 0600, FALSE, error) ||
        !nwf_rpc_server_listen_path(server, ro, 0666, TRUE, error))
        return FALSE;
    g_info("listening on %s and %s", rw, ro);
    return TRUE;
}

static void
reapply_all(gpointer data, gpointer unused)
{
    g_autoptr(GError) error = NULL;

    if (nwf_driver_reapply_all(data, &error))
        g_info("SIGHUP: every binding re-applied");
    else
        g_warning("SIGHUP: re-applying bindings failed: %s", error->message);
}

typedef struct {
    GMainLoop *loop;
    NwfRpcServer *server;
    NwfDriver *driver;
} Daemon;

static gboolean
on_quit(gpointer data)
{
    Daemon *d = data;

    g_info("signal received, exiting (firewall rules stay in place)");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_hangup(gpointer data)
{
    Daemon *d = data;

    /* Before the server exists, start-up applies everything anyway. */
    if (d->server)
        nwf_rpc_server_run_exclusive(d->server, reapply_all, d->driver);
    return G_SOURCE_CONTINUE;
}

/* nft_counters = 1: every rule gets a counter, read with `nwfilter stats`.
 * Set before the driver starts, so the rules applied at start count too. */
static void
enable_counters(NwfBackend *backend)
{
#ifdef NWF_HAVE_NFT_BACKEND
    if (strcmp(backend->ops->name, "nftables") == 0) {
        nwf_backend_nft_set_counters(backend, TRUE);
        g_info("per-rule counters on");
        return;
    }
#endif
    g_warning("nft_counters is ignored: the %s backend keeps no per-rule counters",
              backend->ops->name);
}

static int
run(NwfDaemonConfig *config, GError **error)
{
    g_autoptr(NwfDriver) driver = NULL;
    g_autoptr(NwfRpcServer) server = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    NwfRpcServerConfig server_config;
    NwfDriverConfig driver_config = { 0 };
    g_autofree char *state_parent = g_path_get_dirname(config->state_dir);
    g_autofree char *lease_dir = NULL;
    NwfBackend *backend;
    NwfFirewalldWatch *firewalld;
    Daemon d = { 0 };
    int lock_fd;
    /* Read (and unset) the systemd variables before any thread exists. */
    g_autoptr(GArray) inherited = nwf_daemon_listen_fds(error);
    g_autoptr(GSource) sigterm = g_unix_signal_source_new(SIGTERM);
    g_autoptr(GSource) sigint = g_unix_signal_source_new(SIGINT);
    g_autoptr(GSource) sighup = g_unix_signal_source_new(SIGHUP);

    /* Signals are caught from the start: a SIGTERM that arrives while the
     * driver loads or just after the socket appears still ends the daemon
     * cleanly once the loop runs. */
    loop = g_main_loop_new(NULL, FALSE);
    d.loop = loop;
    g_source_set_callback(sigterm, on_quit, &d, NULL);
    g_source_set_callback(sigint, on_quit, &d, NULL);
    g_source_set_callback(sighup, on_hangup, &d, NULL);
    g_source_attach(sigterm, NULL);
    g_source_attach(sigint, NULL);
    g_source_attach(sighup, NULL);
    if (!inherited)
        return 1;
    if (g_mkdir_with_parents(config->socket_dir, 0755) < 0 ||
        g_mkdir_with_parents(config->config_dir, 0755) < 0 ||
        g_mkdir_with_parents(config->state_dir, 0700) < 0) {
        nwf_error_set(error, NWF_ERR_SYSTEM_ERROR, _("cannot create directories: %s"),
                      g_strerror(errno));
        return 1;
    }
    lock_fd = pid_file_lock(config->socket_dir, error);
    if (lock_fd < 0)
        return 1;
    backend = nwf_backend_new_by_name(config->backend, error);
    if (!backend)
        return 1;
    g_info("firewall backend: %s", backend->ops->name);
    if (config->nft_counters)
        enable_counters(backend);
    driver_config.config_dir = config->config_dir;
    driver_config.state_dir = config->state_dir;
    /* IP address learning keeps nwfilter.leases beside the state dir, where
     * libvirt keeps it (/run/libvirt/network with the default state dir). */
    lease_dir = g_build_filename(state_parent, "network", NULL);
    driver_config.lease_dir = lease_dir;
    driver_config.backend = backend;
    driver = nwf_driver_new(&driver_config, error);
    if (!driver)
        return 1;

    nwf_rpc_server_config_init(&server_config);
    server_config.keepalive_interval = config->keepalive_interval;
    server_config.keepalive_count = config->keepalive_count;
    server_config.max_clients = client_limit(config->max_clients);
    server_config.max_client_requests = config->max_client_requests;
    server = nwf_rpc_server_new(&server_config, &nwf_daemon_driver_ops, driver, error);
    if (!server || !listen_all(server, config, inherited, error))
        return 1;

    d.server = server;
    d.driver = driver;
    firewalld = nwf_firewalld_watch_new(server, driver);
    nwf_daemon_notify_ready();
    g_info("nwfilterd %s ready: %u filters", PACKAGE_VERSION, nwf_driver_filter_count(driver));
    g_main_loop_run(loop);
    g_source_destroy(sigterm);
    g_source_destroy(sigint);
    g_source_destroy(sighup);
    nwf_firewalld_watch_free(firewalld);
    /* Stop serving before the driver goes: the worker may hold a call. */
    g_clear_pointer(&server, nwf_rpc_server_free);
    g_clear_pointer(&driver, nwf_driver_free);
    close(lock_fd);
    return 0;
}

int
main(int argc, char **argv)
{
    Options opts = { 0 };
    NwfDaemonConfig config;
    g_autoptr(GError) error = NULL;
    int status = 1;

    nwf_i18n_init();
    signal(SIGPIPE, SIG_IGN);
    nwf_daemon_config_init(&config);
    if (!parse_options(&argc, &argv, &opts, &error)) {
        fprintf(stderr, _("nwfilterd: %s\n"), error->message);
        goto out;
    }
    if (opts.version) {
        printf("nwfilterd %s\n", PACKAGE_VERSION);
        status = 0;
        goto out;
    }
    if (argc > 1) {
        fprintf(stderr, _("nwfilterd: unexpected argument '%s'\n"), argv[1]);
        goto out;
    }
    nwf_daemon_log_init(opts.verbose ? 1 : config.log_level);
    if (!nwf_daemon_config_load_file(&config,
                                     opts.config_file ? opts.config_file
                                                      : NWF_DAEMON_DEFAULT_CONFIG_FILE,
                                     opts.config_file != NULL, &error)) {
        fprintf(stderr, _("nwfilterd: %s\n"), error->message);
        goto out;
    }
    replace(&config.socket_dir, opts.socket_dir);
    replace(&config.config_dir, opts.config_dir);
    replace(&config.state_dir, opts.state_dir);
    replace(&config.backend, opts.backend);
    nwf_daemon_log_init(opts.verbose ? 1 : config.log_level);
    status = run(&config, &error);
    if (status != 0)
        fprintf(stderr, _("nwfilterd: %s\n"), error ? error->message : _("failed to start"));
out:
    options_clear(&opts);
    nwf_daemon_config_clear(&config);
    return status;
}
