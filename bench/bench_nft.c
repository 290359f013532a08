/* Benchmark (not a test): N bindings of clean-traffic (each with its own MAC
 * and IP) created one transaction each, then clean-traffic is redefined with
 * one more rule and every binding recompiled and committed in one
 * transaction, then all deleted one transaction each; per backend, side by
 * side, for N = 10, 100, 1000. The floor: the same final nftables ruleset
 * loaded in one go by `nft -f` and by libnftables in-process. Runs in a
 * private network namespace of its own (unshare), so the host's firewall is
 * never touched. Needs root. CPU figures are this process plus the tools it
 * ran (ebiptables runs ebtables/iptables): on a shared machine wall time is
 * partly waiting for a CPU.
 *
 *   bench_nft [--ebiptables-max M] [--machine] [N...]   (default N: 10 100 1000)
 *       --ebiptables-max M   ebiptables only for N <= M (default 100: it
 *                            takes ~0.1-0.2 s per port)
 *       --machine            one line per figure, "result SIDE N PHASE WALL
 *                            CPU": for bench_compare.py
 *   bench_nft --here N       install N bindings (ports dummyK, with an
 *                            IP-layer rule) in the current network namespace
 *                            in one transaction and exit: for
 *                            bench_nft_datapath.py
 *   bench_nft --here-remove N   remove those N bindings again, in one
 *                            transaction
 *   bench_nft --redefined-xml   print the redefined clean-traffic (so every
 *                            side of bench_compare.py redefines the same) */
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

static GHashTable *filters;          /* name -> NwfFilterDef* */
static gboolean machine;             /* --machine: "result ..." lines only */

/* What the redefinition adds to clean-traffic: an IP-layer rule, so both
 * layers of every port change */
#define BENCH_EXTRA_RULE \
    "  <rule action='drop' direction='out' priority='100'><udp dstportstart='9999'/></rule>\n"

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
}

/* The stock clean-traffic with BENCH_EXTRA_RULE as its last rule. */
static char *
redefined_xml(void)
{
    g_autofree char *path = g_build_filename(NWF_SOURCE_STOCK_FILTER_DIR, "clean-traffic.xml",
                                             NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    char *end;

    if (!g_file_get_contents(path, &text, NULL, &error))
        g_error("%s", error->message);
    end = strstr(text, "</filter>");
    g_assert_nonnull(end);
    *end = '\0';
    return g_strconcat(text, BENCH_EXTRA_RULE, "</filter>\n", NULL);
}

/* From now on clean-traffic means the redefined one. */
static void
filters_redefine(void)
{
    g_autofree char *xml = redefined_xml();
    g_autoptr(GError) error = NULL;
    NwfFilterDef *def = nwf_filter_def_parse_string(xml, -1, &error);

    if (!def)
        g_error("redefined clean-traffic: %s", error->message);
    g_hash_table_insert(filters, g_strdup(def->name), def);
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

/* CPU seconds of this process and of the tools it ran and waited for */
static double
cpu(void)
{
    struct rusage self, children;

    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 +
           self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6 +
           children.ru_utime.tv_sec + children.ru_utime.tv_usec / 1e6 +
           children.ru_stime.tv_sec + children.ru_stime.tv_usec / 1e6;
}

/* One figure: PHASE of SIDE took WALL seconds (CPU seconds of CPU) for N
 * ports; NOTE says how it was done. */
static void
report(const char *side, guint n, const char *phase, double wall, double cpu_s,
       const char *note)
{
    if (machine)
        printf("result %s %u %s %.6f %.6f\n", side, n, phase, wall, cpu_s);
    else
        printf("  %-12s %-8s %8.3f s wall (%8.3f ms/port), cpu %.3f s  %s\n", side, phase,
               wall, 1000 * wall / n, cpu_s, note);
    fflush(stdout);
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
    double t0, c0;

    if (!backend) {
        g_printerr("%s unavailable: %s\n", name, error->message);
        return;
    }
    c0 = cpu();
    t0 = now();
    for (guint i = 0; i < n; i++) {
        if (!commit_ports(backend, before, i, i + 1, FALSE))
            goto out;
    }
    report(name, n, "create", now() - t0, cpu() - c0, "(one transaction per port)");
    c0 = cpu();
    t0 = now();
    if (!commit_ports(backend, after, 0, n, FALSE))
        goto out;
    report(name, n, "redefine", now() - t0, cpu() - c0,
           "(all ports in one transaction; compiling them is extra, see compile)");
    c0 = cpu();
    t0 = now();
    for (guint i = 0; i < n; i++) {
        if (!commit_ports(backend, after, i, i + 1, TRUE))
            goto out;
    }
    report(name, n, "delete", now() - t0, cpu() - c0, "(one transaction per port)");
out:
    backend->ops->free(backend);
}

/* The floor: the final ruleset (every port redefined) as one script. */
static void
bench_floor(guint n, GPtrArray *after)
{
    g_autoptr(GString) script = g_string_new(NULL);
    g_autofree char *path = NULL;
    g_autofree char *note = NULL;
    g_autoptr(GError) error = NULL;
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    double t0, c0, exec_time, exec_cpu;
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
    for (const char *p = script->str; *p; p++)
        lines += *p == '\n';

    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    nft_run_cmd_from_buffer(ctx, "flush ruleset");
    c0 = cpu();
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
    exec_cpu = cpu() - c0;
    note = g_strdup_printf("(nft -f of the final ruleset, %u lines)", lines);
    report("floor", n, "nft-f", exec_time, exec_cpu, note);
    nft_run_cmd_from_buffer(ctx, "flush ruleset");
    c0 = cpu();
    t0 = now();
    if (nft_run_cmd_from_buffer(ctx, script->str) != 0)
        g_printerr("libnftables: %s\n", nft_ctx_get_error_buffer(ctx));
    report("floor", n, "libnft", now() - t0, cpu() - c0,
           "(the same text through libnftables in-process)");
    nft_run_cmd_from_buffer(ctx, "flush ruleset");
    nft_ctx_free(ctx);
    unlink(path);
}

/* --here N, --here-remove N */
static int
install_here(gint n, gboolean remove)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) programs = NULL;
    NwfBackend *backend = nwf_backend_new_by_name("nftables", &error);
    gboolean ok;

    if (!backend) {
        g_printerr("%s\n", error->message);
        return 1;
    }
    filters_load();
    filters_redefine();
    programs = programs_compile((guint)n, "clean-traffic", "dummy");
    ok = commit_ports(backend, programs, 0, (guint)n, remove);
    backend->ops->free(backend);
    g_hash_table_unref(filters);
    return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static const guint defaults[] = { 10, 100, 1000 };
    gint here = 0, here_remove = 0, ebiptables_max = 100;
    gboolean print_redefined = FALSE;
    GOptionEntry entries[] = {
        { "here", 0, 0, G_OPTION_ARG_INT, &here, "install N bindings here and exit", "N" },
        { "here-remove", 0, 0, G_OPTION_ARG_INT, &here_remove,
          "remove the N bindings --here installed and exit", "N" },
        { "ebiptables-max", 0, 0, G_OPTION_ARG_INT, &ebiptables_max,
          "measure ebiptables only for N <= M", "M" },
        { "machine", 0, 0, G_OPTION_ARG_NONE, &machine, "one 'result' line per figure", NULL },
        { "redefined-xml", 0, 0, G_OPTION_ARG_NONE, &print_redefined,
          "print the redefined clean-traffic and exit", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) options = g_option_context_new("[N...]");
    g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GError) error = NULL;

    g_option_context_add_main_entries(options, entries, NULL);
    if (!g_option_context_parse(options, &argc, &argv, &error)) {
        g_printerr("bench_nft: %s\n", error->message);
        return 2;
    }
    if (print_redefined) {
        g_autofree char *xml = redefined_xml();
        fputs(xml, stdout);
        return 0;
    }
    if (here > 0)
        return install_here(here, FALSE);
    if (here_remove > 0)
        return install_here(here_remove, TRUE);
    if (unshare(CLONE_NEWNET) != 0) {
        perror("unshare(CLONE_NEWNET) (needs root)");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        guint n = (guint)g_ascii_strtoull(argv[i], NULL, 10);
        if (n == 0) {
            g_printerr("bench_nft: '%s' is not a number of ports\n", argv[i]);
            return 2;
        }
        g_array_append_val(sizes, n);
    }
    if (sizes->len == 0)
        g_array_append_vals(sizes, defaults, G_N_ELEMENTS(defaults));
    filters_load();
    if (!machine)
        printf("bench_nft: clean-traffic bindings, private network namespace\n");
    for (guint s = 0; s < sizes->len; s++) {
        guint n = g_array_index(sizes, guint, s);
        g_autoptr(GPtrArray) before = programs_compile(n, "clean-traffic", "vnet");
        g_autoptr(GPtrArray) after = NULL;
        double t0 = now(), c0 = cpu();

        /* the redefinition recompiles every binding, as the driver does */
        filters_redefine();
        after = programs_compile(n, "clean-traffic", "vnet");
        if (!machine)
            printf("N = %u (%u rules per port before, %u after the redefinition)\n", n,
                   nwf_rule_program_count_rules(g_ptr_array_index(before, 0)),
                   nwf_rule_program_count_rules(g_ptr_array_index(after, 0)));
        report("compile", n, "redefine", now() - t0, cpu() - c0,
               "(recompiling every binding for the redefined filter)");
        bench_backend("nftables", n, before, after);
        if (n <= (guint)ebiptables_max)
            bench_backend("ebiptables", n, before, after);
        bench_floor(n, after);
        /* back to the stock filter for the next N */
        g_hash_table_unref(filters);
        filters_load();
    }
    g_hash_table_unref(filters);
    return 0;
}
