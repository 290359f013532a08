/* Benchmark (not a test): N bindings of clean-traffic (each with its own MAC
 * and IP) created one transaction each, all redefined in one transaction
 * (the filter gains a rule, as after a filter redefinition), then deleted one
 * transaction each; per backend, side by side, for N = 10, 100, 1000. The
 * floor: the same final nftables ruleset loaded in one go by `nft -f` and by
 * libnftables in-process. Runs in a private network namespace of its own
 * (unshare), so the host's firewall is never touched. Needs root.
 *
 *   bench_nft [N...]      (default: 10 100 1000)
 *   bench_nft --here N    install N bindings (ports dummyK, with an IP-layer
 *                         rule) in the current network namespace in one
 *                         transaction and exit: for bench_nft_datapath.py */
#include "config.h"

#include <sched.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "nwfilter/backend.h"
#include "nwfilter/backend_nft.h"
#include "nwfilter/backend_nft_private.h"
#include "nwfilter/compile.h"

static GHashTable *filters;          /* name -> NwfFilterDef* (stock + changed) */

static const NwfFilterDef *
lookup(const char *name, gpointer data)
{
    return g_hash_table_lookup(filters, name);
}

static void
filters_load(void)
{
    g_autoptr(GDir) dir = g_dir_open(NWF_SOURCE_STOCK_FILTER_DIR, 0, NULL);
    const char *file;

    filters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify)nwf_filter_def_free);
    g_assert_nonnull(dir);
    while ((file = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(NWF_SOURCE_STOCK_FILTER_DIR, file, NULL);
        NwfFilterDef *def = nwf_filter_def_parse_file(path, NULL);
        if (def)
            g_hash_table_insert(filters, g_strdup(def->name), def);
    }
    /* the redefined filter: clean-traffic plus one rule */
    g_hash_table_insert(filters, g_strdup("bench-redefined"), nwf_filter_def_parse_string(
        "<filter name='bench-redefined' chain='root'><filterref filter='clean-traffic'/>"
        "<rule action='drop' direction='out' priority='100'><udp dstportstart='9999'/></rule>"
        "</filter>", -1, NULL));
}

static GPtrArray *
programs_compile(guint n, const char *top, const char *prefix)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rule_program_free);

    for (guint i = 0; i < n; i++) {
        g_autofree char *ifname = g_strdup_printf("%s%u", prefix, i);
        g_autofree char *ip = g_strdup_printf("10.%u.%u.%u", (i + 1) >> 16, ((i + 1) >> 8) & 0xff,
                                              (i + 1) & 0xff);
        guint8 mac[6] = { 0x52, 0x54, 0x00, (guint8)(i >> 16), (guint8)(i >> 8), (guint8)i };
        g_autoptr(NwfParams) params = nwf_params_new();
        g_autoptr(GError) error = NULL;
        NwfCompileInput input = { .ifname = ifname, .mac = mac, .filter = top,
                                  .params = params, .lookup = lookup };
        NwfRuleProgram *program;

        nwf_params_add(params, "IP", ip);
        program = nwf_compile(&input, NULL, &error);
        if (!program)
            g_error("compile: %s", error->message);
        g_ptr_array_add(out, program);
    }
    return out;
}

static double
now(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* CPU seconds of this process (user, system): the machine may be shared,
 * so wall time alone can mislead */
static void
cpu(double *user, double *sys)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    *user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static gboolean
commit_ports(NwfBackend *backend, GPtrArray *programs, guint from, guint to, gboolean remove)
{
    NwfBackendTxn *txn = backend->ops->txn_begin(backend);
    g_autoptr(GError) error = NULL;

    for (guint i = from; i < to; i++) {
        const NwfRuleProgram *p = g_ptr_array_index(programs, i);
        gboolean ok = remove ? backend->ops->txn_remove_port(txn, p->ifname, &error)
                             : backend->ops->txn_set_port(txn, p, &error);
        if (!ok) {
            backend->ops->txn_abort(txn);
            g_printerr("%s: %s\n", backend->ops->name, error->message);
            return FALSE;
        }
    }
    if (!backend->ops->txn_commit(txn, &error)) {
        g_printerr("%s: %s\n", backend->ops->name, error->message);
        return FALSE;
    }
    return TRUE;
}

/* create one by one, redefine all at once, delete one by one */
static void
bench_backend(const char *name, guint n, GPtrArray *before, GPtrArray *after)
{
    g_autoptr(GError) error = NULL;
    NwfBackend *backend = nwf_backend_new_by_name(name, &error);
    double t0, create, redefine, del, u0, s0, u1, s1;

    if (!backend) {
        printf("  %-12s unavailable: %s\n", name, error->message);
        return;
    }
    cpu(&u0, &s0);
    t0 = now();
    for (guint i = 0; i < n; i++) {
        if (!commit_ports(backend, before, i, i + 1, FALSE))
            goto out;
    }
    create = now() - t0;
    cpu(&u1, &s1);
    printf("  %-12s create   %8.3f s wall (%7.3f ms/port), cpu user %.3f s sys %.3f s\n",
           name, create, 1000 * create / n, u1 - u0, s1 - s0);
    fflush(stdout);
    cpu(&u0, &s0);
    t0 = now();
    if (!commit_ports(backend, after, 0, n, FALSE))
        goto out;
    redefine = now() - t0;
    cpu(&u1, &s1);
    printf("  %-12s redefine %8.3f s wall (one transaction), cpu user %.3f s sys %.3f s\n",
           name, redefine, u1 - u0, s1 - s0);
    fflush(stdout);
    cpu(&u0, &s0);
    t0 = now();
    for (guint i = 0; i < n; i++) {
        if (!commit_ports(backend, after, i, i + 1, TRUE))
            goto out;
    }
    del = now() - t0;
    cpu(&u1, &s1);
    printf("  %-12s delete   %8.3f s wall (%7.3f ms/port), cpu user %.3f s sys %.3f s\n",
           name, del, 1000 * del / n, u1 - u0, s1 - s0);
    fflush(stdout);
out:
    backend->ops->free(backend);
}

/* The floor: the final ruleset (every port redefined) as one script. */
static void
bench_floor(guint n, GPtrArray *after)
{
    g_autoptr(GString) script = g_string_new(NULL);
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    double t0, exec_time, lib_time;
    int fd, status = 0;
    guint lines = 0;

    /* the backend's own script for an empty kernel, port ids 1..N */
    g_autoptr(NwfNftState) state = nwf_nft_state_new();

    nwf_nft_script_skeleton(script);
    for (guint i = 0; i < n; i++) {
        g_autoptr(NwfNftPort) port = nwf_nft_port_render(g_ptr_array_index(after, i), FALSE,
                                                         &error);
        g_assert_nonnull(port);
        nwf_nft_script_port(script, state, port->ifname, port, i + 1);
    }
    fd = g_file_open_tmp("bench-nft-XXXXXX.nft", &path, &error);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(g_file_set_contents(path, script->str, script->len, &error));

    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    nft_run_cmd_from_buffer(ctx, "flush ruleset");
    t0 = now();
    {
        const char *argv[] = { "nft", "-f", path, NULL };
        g_autofree char *err = NULL;
        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
                          G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, &error) ||
            status != 0)
            g_printerr("nft -f: %s\n", err ? err : error->message);
    }
    exec_time = now() - t0;
    nft_run_cmd_from_buffer(ctx, "flush ruleset");
    t0 = now();
    if (nft_run_cmd_from_buffer(ctx, script->str) != 0)
        g_printerr("libnftables: %s\n", nft_ctx_get_error_buffer(ctx));
    lib_time = now() - t0;
    nft_run_cmd_from_buffer(ctx, "flush ruleset");
    nft_ctx_free(ctx);
    for (const char *p = script->str; *p; p++)
        lines += *p == '\n';
    unlink(path);
    printf("  %-12s nft -f of the final ruleset %7.3f s; same text through libnftables "
           "%7.3f s (%u lines)\n", "floor", exec_time, lib_time,
           lines);
}

int
main(int argc, char **argv)
{
    static const guint defaults[] = { 10, 100, 1000 };
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint));

    if (argc == 3 && strcmp(argv[1], "--here") == 0) {
        guint n = (guint)g_ascii_strtoull(argv[2], NULL, 10);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) programs = NULL;
        NwfBackend *backend = nwf_backend_new_by_name("nftables", &error);
        gboolean ok;
        if (!backend) {
            g_printerr("%s\n", error->message);
            return 1;
        }
        filters_load();
        programs = programs_compile(n, "bench-redefined", "dummy");
        ok = commit_ports(backend, programs, 0, n, FALSE);
        backend->ops->free(backend);
        g_hash_table_unref(filters);
        return ok ? 0 : 1;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        perror("unshare(CLONE_NEWNET) (needs root)");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        guint n = (guint)g_ascii_strtoull(argv[i], NULL, 10);
        g_array_append_val(sizes, n);
    }
    if (sizes->len == 0)
        g_array_append_vals(sizes, defaults, G_N_ELEMENTS(defaults));
    filters_load();
    printf("bench_nft: clean-traffic bindings, private network namespace\n");
    for (guint s = 0; s < sizes->len; s++) {
        guint n = g_array_index(sizes, guint, s);
        g_autoptr(GPtrArray) before = programs_compile(n, "clean-traffic", "vnet");
        g_autoptr(GPtrArray) after = programs_compile(n, "bench-redefined", "vnet");
        printf("N = %u (%u rules per port)\n", n,
               nwf_rule_program_count_rules(g_ptr_array_index(after, 0)));
        bench_backend("nftables", n, before, after);
        if (n <= 100)
            bench_backend("ebiptables", n, before, after);
        bench_floor(n, after);
    }
    g_hash_table_unref(filters);
    return 0;
}
