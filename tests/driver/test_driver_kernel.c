/* The driver with a real backend against a real kernel, in a private network
 * namespace this process enters with unshare(CLONE_NEWNET) (so nothing of the
 * host's firewall is touched, and the namespace goes with the process).
 * Needs root and the firewall tools: elsewhere the cases are skipped with
 * the reason, but under CI=true a missing capability is a failure. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "nwfilter/driver.h"
#include "test_dirs.h"
#include "util/nwf_error.h"

#define UUID_K "bbbbbbbb-0000-4000-8000-000000000001"

static char *setup_problem;

typedef struct {
    const char *backend;
    char *root;
    char *config_dir;
    char *state_dir;
    NwfDriver *driver;
} KFixture;

static char *
run(const char *const *argv, gboolean must_succeed)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;
    char *out = NULL;
    int status = 0;

    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                 &status, &error);
    g_assert_no_error(error);
    if (must_succeed && !g_spawn_check_wait_status(status, NULL))
        g_error("%s failed: %s", argv[0], err);
    return out;
}

static void
veth_add(const char *name)
{
    g_autofree char *peer = g_strconcat(name, "p", NULL);
    const char *add[] = { "ip", "link", "add", name, "type", "veth", "peer", "name", peer, NULL };
    const char *up[] = { "ip", "link", "set", name, "up", NULL };

    g_free(run(add, TRUE));
    g_free(run(up, TRUE));
}

static void
veth_del(const char *name)
{
    const char *del[] = { "ip", "link", "del", name, NULL };

    g_free(run(del, TRUE));
}

/* Everything the kernel holds for the firewall, as the tools print it. */
static char *
kernel_rules(const char *backend)
{
    if (strcmp(backend, "nftables") == 0) {
        const char *nft[] = { "nft", "list", "ruleset", NULL };

        return run(nft, TRUE);
    } else {
        const char *eb[] = { "ebtables-save", "-t", "nat", NULL };
        const char *ip4[] = { "iptables-save", "-t", "filter", NULL };
        g_autofree char *e = run(eb, TRUE);
        g_autofree char *i = run(ip4, TRUE);
        g_autoptr(GString) all = g_string_new(NULL);
        g_auto(GStrv) lines = NULL;

        /* Drop the timestamp and counter comments, which change by themselves. */
        lines = g_strsplit(e, "\n", -1);
        for (guint n = 0; lines[n]; n++)
            if (lines[n][0] != '#')
                g_string_append_printf(all, "%s\n", lines[n]);
        g_strfreev(lines);
        lines = g_strsplit(i, "\n", -1);
        for (guint n = 0; lines[n]; n++)
            if (lines[n][0] != '#')
                g_string_append_printf(all, "%s\n", lines[n]);
        return g_string_free(g_steal_pointer(&all), FALSE);
    }
}

/* The ruleset with object handles (nftables only; NULL otherwise). */
static char *
nft_handles(const char *backend)
{
    const char *nft[] = { "nft", "-a", "list", "ruleset", NULL };

    return strcmp(backend, "nftables") == 0 ? run(nft, TRUE) : NULL;
}

static void
kfixture_start(KFixture *k)
{
    g_autoptr(GError) error = NULL;
    NwfDriverConfig config = {
        .config_dir = k->config_dir,
        .state_dir = k->state_dir,
        .backend = nwf_backend_new_by_name(k->backend, &error),
    };

    g_assert_no_error(error);
    k->driver = nwf_driver_new(&config, &error);
    g_assert_no_error(error);
}

static void
kfixture_setup(KFixture *k, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    k->backend = data;
    if (setup_problem)
        return;
    k->root = g_dir_make_tmp("nwf-driver-kernel-XXXXXX", &error);
    g_assert_no_error(error);
    k->config_dir = g_build_filename(k->root, "nwfilter", NULL);
    k->state_dir = g_build_filename(k->root, "nwfilter-binding", NULL);
    kfixture_start(k);
}

static void
kfixture_teardown(KFixture *k, gconstpointer data)
{
    g_clear_pointer(&k->driver, nwf_driver_free);
    if (k->root)
        test_dirs_remove_tree(k->root);
    g_free(k->root);
    g_free(k->config_dir);
    g_free(k->state_dir);
}

static gboolean
kfixture_skip(void)
{
    if (!setup_problem)
        return FALSE;
    if (g_strcmp0(g_getenv("CI"), "true") == 0)
        g_error("cannot run kernel tests under CI: %s", setup_problem);
    g_test_skip(setup_problem);
    return TRUE;
}

static void
define_top(KFixture *k, const char *action)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = g_strdup_printf(
        "<filter name='k-top' chain='root'><uuid>" UUID_K "</uuid>"
        "<rule action='%s' direction='out' priority='500'><mac srcmacaddr='$MAC' match='no'/></rule>"
        "<rule action='drop' direction='out' priority='600'><ip srcipaddr='192.0.2.66'/></rule>"
        "<rule action='accept' direction='in' priority='700'><tcp dstportstart='22'/></rule>"
        "</filter>", action);
    NwfFilterInfo *info = nwf_driver_filter_define(k->driver, xml, FALSE, &error);

    g_assert_no_error(error);
    nwf_filter_info_free(info);
}

static void
bind_port(KFixture *k, const char *port)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = g_strdup_printf(
        "<filterbinding><owner><name>vm</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
        "</owner><portdev name='%s'/><mac address='52:54:00:12:34:56'/>"
        "<filterref filter='k-top'/></filterbinding>", port);
    g_autoptr(NwfBindingDef) def = nwf_driver_binding_create(k->driver, xml, FALSE, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(def->portdev, ==, port);
}

/* Create, keep across a driver restart (rules untouched while it is down),
 * redefine, delete. */
static void
test_kernel_lifecycle(KFixture *k, gconstpointer data)
{
    g_autofree char *empty = NULL, *bound = NULL, *after_free = NULL, *restarted = NULL;
    g_autofree char *redefined = NULL, *deleted = NULL, *handles = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start;

    if (kfixture_skip())
        return;
    veth_add("nwf-kd0");
    empty = kernel_rules(k->backend);
    g_assert_null(strstr(empty, "nwf-kd0"));

    define_top(k, "drop");
    start = g_get_monotonic_time();
    bind_port(k, "nwf-kd0");
    g_test_message("%s: binding create %.0f ms", k->backend,
                   (g_get_monotonic_time() - start) / 1000.0);
    bound = kernel_rules(k->backend);
    g_assert_nonnull(strstr(bound, "nwf-kd0"));
    g_assert_nonnull(strstr(bound, "52:54:00:12:34:56"));
    g_assert_nonnull(strstr(bound, "192.0.2.66"));

    /* The daemon stopping leaves the rules; starting again keeps them. */
    g_clear_pointer(&k->driver, nwf_driver_free);
    after_free = kernel_rules(k->backend);
    g_assert_cmpstr(after_free, ==, bound);
    handles = nft_handles(k->backend);
    kfixture_start(k);
    restarted = kernel_rules(k->backend);
    g_assert_cmpstr(restarted, ==, bound);
    if (handles) {
        /* A backend that can tell the rules are in place leaves them
         * alone: every object keeps its handle. */
        g_autofree char *handles_after = nft_handles(k->backend);

        g_assert_cmpstr(handles_after, ==, handles);
    }

    start = g_get_monotonic_time();
    define_top(k, "accept");
    g_test_message("%s: redefinition under one binding %.0f ms", k->backend,
                   (g_get_monotonic_time() - start) / 1000.0);
    redefined = kernel_rules(k->backend);
    g_assert_cmpstr(redefined, !=, bound);
    g_assert_nonnull(strstr(redefined, "52:54:00:12:34:56"));

    g_assert_true(nwf_driver_binding_delete(k->driver, "nwf-kd0", &error));
    g_assert_no_error(error);
    deleted = kernel_rules(k->backend);
    g_assert_null(strstr(deleted, "nwf-kd0"));
    veth_del("nwf-kd0");
}

/* A port that disappeared while the daemon was down: its binding and its
 * rules are dropped at start. */
static void
test_kernel_gone_port(KFixture *k, gconstpointer data)
{
    g_autofree char *status = g_build_filename(k->state_dir, "nwf-kd1.xml", NULL);
    g_autofree char *rules = NULL;
    g_autoptr(GPtrArray) left = NULL;

    if (kfixture_skip())
        return;
    veth_add("nwf-kd1");
    define_top(k, "drop");
    bind_port(k, "nwf-kd1");
    g_clear_pointer(&k->driver, nwf_driver_free);
    veth_del("nwf-kd1");

    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*port dev 'nwf-kd1'*");
    kfixture_start(k);
    g_test_assert_expected_messages();
    left = nwf_driver_binding_list(k->driver);
    g_assert_cmpuint(left->len, ==, 0);
    g_assert_false(g_file_test(status, G_FILE_TEST_EXISTS));
    rules = kernel_rules(k->backend);
    g_assert_null(strstr(rules, "nwf-kd1"));
}

#define MANY_PORTS 16

typedef struct {
    KFixture *k;
    gint64 waited;         /* microseconds the create took */
} CreateDuring;

static gpointer
create_during(gpointer data)
{
    CreateDuring *c = data;
    gint64 start = g_get_monotonic_time();

    bind_port(c->k, "nwf-km-late");
    c->waited = g_get_monotonic_time() - start;
    return NULL;
}

static guint
count_of(const char *text, const char *needle)
{
    guint n = 0;

    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A redefinition under many ports updates all of them in one transaction;
 * a VM start arriving meanwhile waits for that one commit, then runs. */
static void
test_kernel_redefine_many(KFixture *k, gconstpointer data)
{
    g_autofree char *before = NULL, *after = NULL;
    CreateDuring during = { k, 0 };
    GThread *thread;
    gint64 start, elapsed;

    if (kfixture_skip())
        return;
    define_top(k, "drop");
    for (int i = 0; i < MANY_PORTS; i++) {
        g_autofree char *port = g_strdup_printf("nwf-km%d", i);

        veth_add(port);
        bind_port(k, port);
    }
    veth_add("nwf-km-late");
    before = kernel_rules(k->backend);

    start = g_get_monotonic_time();
    thread = g_thread_new("late-create", create_during, &during);
    define_top(k, "accept");
    elapsed = g_get_monotonic_time() - start;
    g_thread_join(thread);
    after = kernel_rules(k->backend);
    g_assert_cmpstr(after, !=, before);
    for (int i = 0; i < MANY_PORTS; i++) {
        g_autofree char *port = g_strdup_printf("nwf-km%d", i);

        g_assert_nonnull(strstr(after, port));
    }
    g_assert_nonnull(strstr(after, "nwf-km-late"));
    if (strcmp(k->backend, "nftables") == 0) {
        /* Every port carries the same rules, so all of them, the late one
         * too, jump into one group of shared chains. */
        const char *first = strstr(after, "\"nwf-km0\" : jump ");
        g_autofree char *target = NULL;
        g_autofree char *late = NULL;

        g_assert_nonnull(first);
        first += strlen("\"nwf-km0\" : jump ");
        target = g_strndup(first, strcspn(first, ",\n }"));
        g_assert_true(g_str_has_prefix(target, "shared-"));
        late = g_strdup_printf("\"nwf-km-late\" : jump %s", target);
        g_assert_nonnull(strstr(after, late));
        g_assert_cmpuint(count_of(after, target), ==, MANY_PORTS + 2);
    } else {
        /* Every port carries the same rules, so the MAC match shows once
         * per port before and after. */
        g_assert_cmpuint(count_of(after, "52:54:00:12:34:56"), ==,
                         count_of(before, "52:54:00:12:34:56") / MANY_PORTS * (MANY_PORTS + 1));
    }
    g_test_message("%s: redefinition under %d ports %.0f ms; a binding create issued "
                   "meanwhile took %.0f ms", k->backend, MANY_PORTS, elapsed / 1000.0,
                   during.waited / 1000.0);
    for (int i = 0; i < MANY_PORTS; i++) {
        g_autofree char *port = g_strdup_printf("nwf-km%d", i);

        veth_del(port);
    }
    veth_del("nwf-km-late");
}

#define KCRASH_CYCLES 8
#define KCRASH_PORTS 3

static gboolean
kcrash_port_bound(KFixture *k, const char *port)
{
    g_autoptr(NwfBindingDef) def = nwf_driver_binding_lookup(k->driver, port, NULL);

    return def != NULL;
}

/* The child (this binary run again with --kcrash-child, so that GLib's
 * worker thread, which reaps the firewall tools, exists in it): toggle the
 * bindings of the veths and redefine their filter until killed. It leads
 * its own process group so the kill also takes the tools it may be running,
 * and says "r" on stdout once started, then "." after each call. */
static int
kcrash_child_main(const char *backend, const char *config_dir, const char *state_dir)
{
    KFixture k = { .backend = backend };

    k.config_dir = g_strdup(config_dir);
    k.state_dir = g_strdup(state_dir);
    kfixture_start(&k);
    if (write(STDOUT_FILENO, "r", 1) != 1)
        return 3;
    for (guint i = 0;; i++) {
        g_autofree char *port = g_strdup_printf("nwf-kc%u", i % KCRASH_PORTS);

        if (i % 4 == 3)
            define_top(&k, i % 8 == 3 ? "drop" : "accept");
        else if (kcrash_port_bound(&k, port))
            g_assert_true(nwf_driver_binding_delete(k.driver, port, NULL));
        else
            bind_port(&k, port);
        if (write(STDOUT_FILENO, ".", 1) != 1)
            return 3;
    }
}

static pid_t
kcrash_spawn(KFixture *k, int *ready_fd)
{
    int fds[2];
    pid_t pid;

    g_assert_cmpint(pipe(fds), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        const char *argv[] = { "test-driver-kernel", "--kcrash-child", k->backend,
                               k->config_dir, k->state_dir, NULL };

        setpgid(0, 0);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv("/proc/self/exe", (char **)argv);
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    *ready_fd = fds[0];
    return pid;
}

/* After a kill -9 at a random point and a restart, the kernel holds rules
 * exactly for the bound ports, no half-applied leftovers, and applying
 * everything again changes nothing. */
static void
test_kernel_crash(KFixture *k, gconstpointer data)
{
    GRand *rand = g_rand_new_with_seed(0x6b6372);
    guint calls = 0;

    if (kfixture_skip())
        return;
    for (int p = 0; p < KCRASH_PORTS; p++) {
        g_autofree char *port = g_strdup_printf("nwf-kc%d", p);

        veth_add(port);
    }
    define_top(k, "drop");
    g_clear_pointer(&k->driver, nwf_driver_free);

    for (int cycle = 0; cycle < KCRASH_CYCLES; cycle++) {
        g_autofree char *rules = NULL, *again = NULL;
        g_autoptr(GError) error = NULL;
        char ready;
        char dots[256];
        ssize_t n;
        int ready_fd;
        int status;
        pid_t pid;

        pid = kcrash_spawn(k, &ready_fd);
        g_assert_cmpint(read(ready_fd, &ready, 1), ==, 1);
        /* Let a few calls complete, then kill somewhere inside the next. */
        for (guint wait = g_rand_int_range(rand, 0, 4); wait > 0; wait--) {
            g_assert_cmpint(read(ready_fd, &ready, 1), ==, 1);
            calls++;
        }
        g_usleep(g_rand_int_range(rand, 0, 200000));
        kill(-pid, SIGKILL);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Let the rest of the group (tools the child ran) be gone. */
        while (kill(-pid, 0) == 0)
            g_usleep(1000);
        while ((n = read(ready_fd, dots, sizeof(dots))) > 0)
            calls += (guint)n;
        close(ready_fd);

        kfixture_start(k);
        rules = kernel_rules(k->backend);
        for (int p = 0; p < KCRASH_PORTS; p++) {
            g_autofree char *port = g_strdup_printf("nwf-kc%d", p);

            g_assert_cmpint(kcrash_port_bound(k, port), ==, strstr(rules, port) != NULL);
        }
        /* No half-applied transaction left: ebiptables builds under
         * temporary chain names; nft commits atomically. */
        g_assert_null(strstr(rules, "libvirt-J-"));
        g_assert_null(strstr(rules, "libvirt-P-"));
        g_assert_null(strstr(rules, ":FJ-"));
        g_assert_null(strstr(rules, ":FP-"));
        g_assert_null(strstr(rules, ":HJ-"));
        g_assert_true(nwf_driver_reapply_all(k->driver, &error));
        g_assert_no_error(error);
        again = kernel_rules(k->backend);
        g_assert_cmpstr(again, ==, rules);
        g_clear_pointer(&k->driver, nwf_driver_free);
    }
    g_rand_free(rand);
    g_test_message("%u driver calls completed across %d killed children", calls, KCRASH_CYCLES);
    g_assert_cmpuint(calls, >, 0);
    for (int p = 0; p < KCRASH_PORTS; p++) {
        g_autofree char *port = g_strdup_printf("nwf-kc%d", p);

        veth_del(port);
    }
    kfixture_start(k);
}

static void
find_setup_problem(void)
{
    const char *up[] = { "ip", "link", "set", "lo", "up", NULL };

    if (geteuid() != 0) {
        setup_problem = g_strdup("needs root (network namespace and firewall tools)");
        return;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        setup_problem = g_strdup_printf("unshare(CLONE_NEWNET) failed: %s", g_strerror(errno));
        return;
    }
    g_free(run(up, TRUE));
}

int
main(int argc, char **argv)
{
    static const char *const backends[] = {
        "ebiptables",
#ifdef NWF_HAVE_NFT_BACKEND
        "nftables",
#endif
    };

    if (argc == 5 && strcmp(argv[1], "--kcrash-child") == 0)
        return kcrash_child_main(argv[2], argv[3], argv[4]);
    g_test_init(&argc, &argv, NULL);
    find_setup_problem();

    for (guint i = 0; i < G_N_ELEMENTS(backends); i++) {
        g_autofree char *lifecycle = g_strdup_printf("/driver-kernel/%s/lifecycle", backends[i]);
        g_autofree char *gone = g_strdup_printf("/driver-kernel/%s/gone-port", backends[i]);
        g_autofree char *crash = g_strdup_printf("/driver-kernel/%s/kill-9", backends[i]);
        g_autofree char *many = g_strdup_printf("/driver-kernel/%s/redefine-many", backends[i]);

        g_test_add(lifecycle, KFixture, backends[i], kfixture_setup, test_kernel_lifecycle,
                   kfixture_teardown);
        g_test_add(gone, KFixture, backends[i], kfixture_setup, test_kernel_gone_port,
                   kfixture_teardown);
        g_test_add(crash, KFixture, backends[i], kfixture_setup, test_kernel_crash,
                   kfixture_teardown);
        g_test_add(many, KFixture, backends[i], kfixture_setup, test_kernel_redefine_many,
                   kfixture_teardown);
    }
    return g_test_run();
}
