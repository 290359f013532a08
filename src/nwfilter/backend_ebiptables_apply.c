/* Applying rule programs with ebtables-restore, iptables-restore and
 * ip6tables-restore (--noflush): one batch per tool, never a process per
 * rule.
 *
 * Make-before-break (spec §6.4). libvirt builds under temporary names and
 * renames because it runs one command at a time. A restore batch is one
 * kernel transaction, so ours goes straight from the old rules to the new
 * ones: no packet ever meets a state in between, and the temporary names
 * never exist. (The transaction cannot use them anyway: nf_tables refuses to
 * rename a chain, or to delete and re-create one, within the batch that
 * created it.) Each batch "converges" the port's objects of one tool from
 * the state a *-save snapshot shows to the wanted state: hooks that are no
 * longer wanted go, chains are flushed-or-created (":NAME" flushes an
 * existing user chain in --noflush mode) and refilled, chains no longer
 * wanted go, missing hooks are added.
 *
 * Across the three tools the batches run at the same time. When one tool
 * refuses its batch, every tool that took its own is converged back to the
 * snapshot taken before (hooks at their old positions), so a failure at any
 * point leaves every tool's previous rules in force.
 *
 * New ports: a program with both ebtables root chains and no iptables
 * rules goes in as a batch of "-N" creations, fills and hooks, run at the
 * same time as iptables-save and ip6tables-save; it fails as a whole when
 * the port holds a root chain already (and then ebtables-save is read and
 * the port converges as above). If the iptables snapshots show old chains
 * of the port, their removal follows, and when that fails the new ebtables
 * chains go again. So a new port costs three processes in one round; any
 * other apply a *-save round and a restore round, plus the failed "-N"
 * batch first for an ebtables-only program.
 *
 * Testing: NWF_EBIPTABLES_TOOL_DIR, when set, names the directory the six
 * save/restore programs are run from instead of $PATH (the tests point it at
 * wrappers that refuse chosen batches). */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend_ebiptables_apply.h"
#include "nwfilter/backend_ebiptables_private.h"
#include "util/nwf_error.h"

/* --- running the tools ------------------------------------------------- */

static char *
argv_text(const char *const *argv)
{
    return g_strjoinv(" ", (char **)argv);
}

static void
tool_error(GError **error, const char *const *argv, const char *input, const char *detail)
{
    g_autofree char *cmd = argv_text(argv);
    g_autofree char *line = NULL;
    const char *at = detail ? strstr(detail, "line") : NULL;

    /* name the batch line the tool refused, not just its number
     * ("line 3 failed", "Error occurred at line: 3") */
    if (at && input) {
        guint64 n = g_ascii_strtoull(at + 4 + strspn(at + 4, ": "), NULL, 10);
        g_auto(GStrv) lines = g_strsplit(input, "\n", -1);
        if (n >= 1 && n <= g_strv_length(lines))
            line = g_strdup_printf(" (input line %" G_GUINT64_FORMAT ": %s)", n, lines[n - 1]);
    }
    nwf_error_set_firewall(error, NWF_ERR_INTERNAL_ERROR,
                           _("Failed to apply firewall rules %s: %s%s"), cmd,
                           detail ? detail : "", line ? line : "");
}

/* The program to run for tool NAME (see NWF_EBIPTABLES_TOOL_DIR above). */
static char *
tool_program(const char *name)
{
    const char *dir = g_getenv("NWF_EBIPTABLES_TOOL_DIR");

    return dir && *dir ? g_build_filename(dir, name, NULL) : g_strdup(name);
}

/* Run the N tools ARGVS[i] at the same time (different tools never touch
 * the same tables), INPUTS[i] on stdin (NULL: none), stdout into
 * OUTPUTS[i] (OUTPUTS may be NULL). DONE[i] (DONE may be NULL) tells which
 * succeeded. The error is the first failing tool's. */
static gboolean
run_tools(guint n, const char *const *const *argvs, const char *const *inputs, char **outputs,
          gboolean *done, GError **error)
{
    g_autoptr(GPtrArray) procs = g_ptr_array_new_with_free_func(g_object_unref);
    gboolean ok = TRUE;

    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;
        GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        GSubprocess *proc;

        g_ptr_array_add(argv, tool_program(argvs[i][0]));
        for (guint a = 1; argvs[i][a]; a++)
            g_ptr_array_add(argv, g_strdup(argvs[i][a]));
        g_ptr_array_add(argv, NULL);
        if (inputs[i])
            flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
        proc = g_subprocess_newv((const char *const *)argv->pdata, flags, &local);
        if (!proc && ok) {
            tool_error(error, argvs[i], NULL, local->message);
            ok = FALSE;
        }
        g_ptr_array_add(procs, proc);
    }
    for (guint i = 0; i < n; i++) {
        GSubprocess *proc = g_ptr_array_index(procs, i);
        g_autoptr(GError) local = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        gboolean this_ok = FALSE;

        if (!proc) {
            /* reported above */
        } else if (!g_subprocess_communicate_utf8(proc, inputs[i], NULL, &out, &err, &local)) {
            if (ok)
                tool_error(error, argvs[i], NULL, local->message);
        } else if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
            if (ok)
                tool_error(error, argvs[i], inputs[i], err ? g_strstrip(err) : NULL);
        } else {
            this_ok = TRUE;
            if (outputs)
                outputs[i] = g_steal_pointer(&out);
        }
        ok &= this_ok;
        if (done)
            done[i] = this_ok;
    }
    return ok;
}

static const char *const *
save_argv(NwfFwTool tool)
{
    static const char *const eb[] = { "ebtables-save", "-t", "nat", NULL };
    static const char *const v4[] = { "iptables-save", "-t", "filter", NULL };
    static const char *const v6[] = { "ip6tables-save", "-t", "filter", NULL };
    static const char *const *const all[] = { eb, v4, v6 };

    return all[tool];
}

static const char *const *
restore_argv(NwfFwTool tool)
{
    static const char *const eb[] = { "ebtables-restore", "--noflush", NULL };
    static const char *const v4[] = { "iptables-restore", "-w", "--noflush", NULL };
    static const char *const v6[] = { "ip6tables-restore", "-w", "--noflush", NULL };
    static const char *const *const all[] = { eb, v4, v6 };

    return all[tool];
}

gboolean
nwf_ebiptables_tools_probe(GError **error)
{
    for (guint t = 0; t < NWF_FW_LAST; t++) {
        const char *tools[] = { save_argv(t)[0], restore_argv(t)[0] };
        for (guint i = 0; i < G_N_ELEMENTS(tools); i++) {
            g_autofree char *program = tool_program(tools[i]);
            g_autofree char *path = g_find_program_in_path(program);
            if (!path) {
                nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                              _("the ebiptables backend needs '%s', which is not installed"),
                              tools[i]);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* --- snapshots ----------------------------------------------------------- */

typedef struct {
    gboolean taken;
    GHashTable *chains;          /* name -> its ":NAME ..." line */
    GPtrArray *rules;            /* "-A CHAIN ..." lines as the tool saves them */
    GArray *positions;           /* guint: each rule's 1-based place in its chain */
} Snapshot;

static void
snapshot_clear(Snapshot *snap)
{
    g_clear_pointer(&snap->chains, g_hash_table_unref);
    g_clear_pointer(&snap->rules, g_ptr_array_unref);
    g_clear_pointer(&snap->positions, g_array_unref);
    snap->taken = FALSE;
}

/* The chain a saved rule is in. */
static gboolean
rule_in_chain(const char *rule, const char *chain)
{
    gsize len = strlen(chain);

    return strncmp(rule + 3, chain, len) == 0 && rule[3 + len] == ' ';
}

static void
snapshot_parse(const char *text, Snapshot *snap)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    snap->taken = TRUE;
    snap->chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    snap->rules = g_ptr_array_new_with_free_func(g_free);
    snap->positions = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; lines[i]; i++) {
        if (lines[i][0] == ':') {
            char *name = g_strndup(lines[i] + 1, strcspn(lines[i] + 1, " "));
            g_hash_table_insert(snap->chains, name, g_strdup(lines[i]));
        } else if (g_str_has_prefix(lines[i], "-A ")) {
            char *chain = g_strndup(lines[i] + 3, strcspn(lines[i] + 3, " "));
            guint pos = GPOINTER_TO_UINT(g_hash_table_lookup(counts, chain)) + 1;
            g_hash_table_insert(counts, chain, GUINT_TO_POINTER(pos));
            g_array_append_val(snap->positions, pos);
            g_ptr_array_add(snap->rules, g_strdup(lines[i]));
        }
    }
}

static gboolean
snapshot_has_chain(const Snapshot *snap, const char *name)
{
    return g_hash_table_contains(snap->chains, name);
}

static gboolean
snapshot_has_rule(const Snapshot *snap, const char *line)
{
    for (guint i = 0; i < snap->rules->len; i++) {
        if (strcmp(g_ptr_array_index(snap->rules, i), line) == 0)
            return TRUE;
    }
    return FALSE;
}

/* The saved rule ends in "-j TARGET" or "-g TARGET" (OPT). */
static gboolean
rule_targets(const char *rule, const char *opt, const char *target)
{
    g_autofree char *tail = g_strdup_printf(" %s %s", opt, target);

    return g_str_has_suffix(rule, tail);
}

/* Targets of the "-j X" rules of CHAIN that start with PREFIX. */
static GPtrArray *
snapshot_jump_targets(const Snapshot *snap, const char *chain, const char *prefix)
{
    GPtrArray *targets = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < snap->rules->len; i++) {
        const char *rule = g_ptr_array_index(snap->rules, i);
        const char *j;
        if (!rule_in_chain(rule, chain) || !(j = strstr(rule, " -j ")))
            continue;
        if (g_str_has_prefix(j + 4, prefix) && !strchr(j + 4, ' '))
            g_ptr_array_add(targets, g_strdup(j + 4));
    }
    return targets;
}

static void
snapshots_clear(Snapshot *snaps)
{
    for (guint t = 0; t < NWF_FW_LAST; t++)
        snapshot_clear(&snaps[t]);
}

/* Read the state of the tools TOOLS[0..N-1] into SNAPS[tool]. */
static gboolean
snapshots_take(Snapshot *snaps, const NwfFwTool *tools, guint n, GError **error)
{
    const char *const *argvs[NWF_FW_LAST];
    const char *inputs[NWF_FW_LAST] = { NULL };
    char *outputs[NWF_FW_LAST] = { NULL };
    gboolean ok;

    for (guint i = 0; i < n; i++)
        argvs[i] = save_argv(tools[i]);
    ok = run_tools(n, argvs, inputs, outputs, NULL, error);
    for (guint i = 0; i < n; i++) {
        if (ok)
            snapshot_parse(outputs[i], &snaps[tools[i]]);
        g_free(outputs[i]);
    }
    return ok;
}

/* --- batch text ---------------------------------------------------------- */

/* One argument in *-restore syntax: double quotes where it is not a plain
 * word, with " and \ escaped (the xtables tokenizer's rules). */
static void
append_restore_arg(GString *line, const char *arg)
{
    static const char plain[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/,!+=@%-";

    if (*arg && strspn(arg, plain) == strlen(arg)) {
        g_string_append(line, arg);
        return;
    }
    g_string_append_c(line, '"');
    for (const char *p = arg; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(line, '\\');
        g_string_append_c(line, *p);
    }
    g_string_append_c(line, '"');
}

/* ARGS from FIRST on, after PREFIX (may be ""), as one batch line. */
static char *
args_line(const char *prefix, GPtrArray *args, guint first)
{
    GString *line = g_string_new(prefix);

    for (guint i = first; i < args->len; i++) {
        if (line->len)
            g_string_append_c(line, ' ');
        append_restore_arg(line, g_ptr_array_index(args, i));
    }
    return g_string_free(line, FALSE);
}

static void G_GNUC_PRINTF(2, 3)
batch_addf(GPtrArray *batch, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(batch, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static char *
batch_text(NwfFwTool tool, GPtrArray *batch)
{
    GString *text = g_string_new(tool == NWF_FW_EBTABLES ? "*nat\n" : "*filter\n");

    for (guint i = 0; i < batch->len; i++)
        g_string_append_printf(text, "%s\n", (const char *)g_ptr_array_index(batch, i));
    g_string_append(text, "COMMIT\n");
    return g_string_free(text, FALSE);
}

/* Run the non-empty batches of all tools, in parallel; DONE[tool] tells
 * which ran and succeeded. */
static gboolean
batches_run(GPtrArray **batches, gboolean *done, GError **error)
{
    const char *const *argvs[NWF_FW_LAST];
    const char *inputs[NWF_FW_LAST];
    gboolean ran_ok[NWF_FW_LAST] = { FALSE };
    NwfFwTool which[NWF_FW_LAST];
    g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
    guint n = 0;
    gboolean ok;

    for (guint t = 0; t < NWF_FW_LAST; t++) {
        if (done)
            done[t] = FALSE;
        if (batches[t]->len == 0)
            continue;
        g_ptr_array_add(texts, batch_text(t, batches[t]));
        argvs[n] = restore_argv(t);
        inputs[n] = g_ptr_array_index(texts, n);
        which[n++] = t;
    }
    ok = run_tools(n, argvs, inputs, NULL, ran_ok, error);
    for (guint i = 0; done && i < n; i++)
        done[which[i]] = ran_ok[i];
    return ok;
}

static GPtrArray *
batch_new(void)
{
    return g_ptr_array_new_with_free_func(g_free);
}

static void
batches_free(GPtrArray **batches)
{
    for (guint t = 0; t < NWF_FW_LAST; t++)
        g_ptr_array_unref(batches[t]);
}

/* --- per-port plans ------------------------------------------------------ */

struct _NwfEbiptablesPlan {
    char *ifname;
    gboolean remove;             /* remove everything, build nothing */
    gboolean eth_present[NWF_ETH_DIR_LAST];
    GPtrArray *eth_chains;       /* char*: every ebtables chain to build */
    GPtrArray *eth_subs[NWF_ETH_DIR_LAST];   /* char*: sub-chain suffixes */
    GPtrArray *eth_rules;        /* char*: "-A ..." batch lines */
    gboolean ip_present[NWF_IP_FAMILY_LAST];
    GPtrArray *ip_rules[NWF_IP_FAMILY_LAST]; /* char*: "-A ..." batch lines */
};

void
nwf_ebiptables_plan_free(NwfEbiptablesPlan *plan)
{
    if (!plan)
        return;
    g_free(plan->ifname);
    g_clear_pointer(&plan->eth_chains, g_ptr_array_unref);
    g_clear_pointer(&plan->eth_rules, g_ptr_array_unref);
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++)
        g_clear_pointer(&plan->eth_subs[d], g_ptr_array_unref);
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++)
        g_clear_pointer(&plan->ip_rules[v], g_ptr_array_unref);
    g_free(plan);
}

gboolean
nwf_ebiptables_ifname_check(const char *ifname, GError **error)
{
    static const char allowed[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
    gsize len = strlen(ifname);

    /* the name goes into chain names and rule text */
    if (len == 0 || len > 15 || strspn(ifname, allowed) != len || ifname[0] == '-') {
        nwf_error_set(error, NWF_ERR_INVALID_ARG,
                      _("interface name '%s' cannot be filtered: it must be 1 to 15 letters, "
                        "digits, '_', '.' or '-' and not start with '-'"), ifname);
        return FALSE;
    }
    return TRUE;
}

static NwfEbiptablesPlan *
plan_new(const char *ifname)
{
    NwfEbiptablesPlan *plan = g_new0(NwfEbiptablesPlan, 1);

    plan->ifname = g_strdup(ifname);
    plan->eth_chains = g_ptr_array_new_with_free_func(g_free);
    plan->eth_rules = g_ptr_array_new_with_free_func(g_free);
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++)
        plan->eth_subs[d] = g_ptr_array_new_with_free_func(g_free);
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++)
        plan->ip_rules[v] = g_ptr_array_new_with_free_func(g_free);
    return plan;
}

NwfEbiptablesPlan *
nwf_ebiptables_plan_remove(const char *ifname, GError **error)
{
    NwfEbiptablesPlan *plan;

    if (!nwf_ebiptables_ifname_check(ifname, error))
        return NULL;
    plan = plan_new(ifname);
    plan->remove = TRUE;
    return plan;
}

/* Render ARGS (consumed) as one batch line into LINES. */
static void
lines_take_args(GPtrArray *lines, GPtrArray *args)
{
    g_ptr_array_add(lines, args_line("", args, 0));
    g_ptr_array_unref(args);
}

NwfEbiptablesPlan *
nwf_ebiptables_plan_set(const NwfRuleProgram *program, GError **error)
{
    NwfEbiptablesPlan *plan;
    const char *ifname = program->ifname;

    if (!nwf_ebiptables_ifname_check(ifname, error))
        return NULL;
    plan = plan_new(ifname);

    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        const NwfEthChains *eth = &program->eth[d];
        g_autofree char *root = NULL;

        if (!eth->present)
            continue;
        plan->eth_present[d] = TRUE;
        root = nwf_ebt_root_chain(d, FALSE, ifname);
        g_ptr_array_add(plan->eth_chains, g_strdup(root));
        for (guint s = 0; s < eth->subchains->len; s++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, s);
            g_ptr_array_add(plan->eth_chains, nwf_ebt_sub_chain(d, FALSE, ifname, sub->suffix));
            g_ptr_array_add(plan->eth_subs[d], g_strdup(sub->suffix));
        }
        for (guint i = 0; i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
            if (entry->kind == NWF_ETH_ENTRY_RULE) {
                lines_take_args(plan->eth_rules, nwf_ebt_rule_args(entry->rule, root));
            } else {
                g_autofree char *sub = nwf_ebt_sub_chain(d, FALSE, ifname,
                                                         entry->subchain->suffix);
                lines_take_args(plan->eth_rules, nwf_ebt_jump_args(entry->subchain, root, sub));
            }
        }
        for (guint s = 0; s < eth->subchains->len; s++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, s);
            g_autofree char *name = nwf_ebt_sub_chain(d, FALSE, ifname, sub->suffix);
            for (guint i = 0; i < sub->rules->len; i++)
                lines_take_args(plan->eth_rules,
                                nwf_ebt_rule_args(g_ptr_array_index(sub->rules, i), name));
            /* ebtables-nft ends user chains in "accept" whatever their
             * policy says: return to the root chain explicitly */
            batch_addf(plan->eth_rules, "-A %s -j RETURN", name);
        }
    }
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
        const NwfIpChains *ip = &program->ip[v];
        if (!ip->present)
            continue;
        plan->ip_present[v] = TRUE;
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            g_autofree char *chain = nwf_ipt_chain(c, FALSE, ifname);
            for (guint i = 0; i < ip->chains[c]->len; i++)
                lines_take_args(plan->ip_rules[v],
                                nwf_ipt_rule_args(g_ptr_array_index(ip->chains[c], i), c, chain));
        }
    }
    return plan;
}

/* --- what a port owns, and what it should own ---------------------------- */

/* The objects of one tool that belong to the ports of a transaction, as a
 * snapshot shows them. */
typedef struct {
    GPtrArray *chains;           /* char*: port chains */
    GPtrArray *bases;            /* char*: shared base chains (iptables) */
    GPtrArray *hooks;            /* char*: saved "-A ..." lines jumping into them */
} Owned;

/* The state the same objects should reach. */
typedef struct {
    GPtrArray *decls;            /* char*: ":NAME ..." of each port chain */
    GPtrArray *names;            /* char*: the names of DECLS */
    GPtrArray *bases;            /* char*: base chains, created when missing */
    GPtrArray *rules;            /* char*: "-A ..." lines of the port chains */
    GPtrArray *hooks;            /* char*: "-A ..." lines in hook or base chains */
    GArray *hook_pos;            /* guint per hook: its place, 0 = append */
} Wanted;

static GPtrArray *
strv_new(void)
{
    return g_ptr_array_new_with_free_func(g_free);
}

static gboolean
name_listed(GPtrArray *names, const char *name)
{
    for (guint i = 0; i < names->len; i++) {
        if (strcmp(g_ptr_array_index(names, i), name) == 0)
            return TRUE;
    }
    return FALSE;
}

static void
add_unique(GPtrArray *names, const char *name)
{
    if (!name_listed(names, name))
        g_ptr_array_add(names, g_strdup(name));
}

static void
owned_init(Owned *owned)
{
    owned->chains = strv_new();
    owned->bases = strv_new();
    owned->hooks = strv_new();
}

static void
owned_clear(Owned *owned)
{
    g_ptr_array_unref(owned->chains);
    g_ptr_array_unref(owned->bases);
    g_ptr_array_unref(owned->hooks);
}

static void
wanted_init(Wanted *wanted)
{
    wanted->decls = strv_new();
    wanted->names = strv_new();
    wanted->bases = strv_new();
    wanted->rules = strv_new();
    wanted->hooks = strv_new();
    wanted->hook_pos = g_array_new(FALSE, FALSE, sizeof(guint));
}

static void
wanted_clear(Wanted *wanted)
{
    g_ptr_array_unref(wanted->decls);
    g_ptr_array_unref(wanted->names);
    g_ptr_array_unref(wanted->bases);
    g_ptr_array_unref(wanted->rules);
    g_ptr_array_unref(wanted->hooks);
    g_array_unref(wanted->hook_pos);
}

static void
wanted_hook(Wanted *wanted, char *line, guint pos)
{
    g_ptr_array_add(wanted->hooks, line);
    g_array_append_val(wanted->hook_pos, pos);
}

static void
wanted_chain(Wanted *wanted, const char *name, char *decl)
{
    g_ptr_array_add(wanted->names, g_strdup(name));
    g_ptr_array_add(wanted->decls, decl);
}

static const char *
eth_hook(NwfEthDir dir)
{
    return dir == NWF_ETH_VM_OUT ? "PREROUTING" : "POSTROUTING";
}

static char *
eth_hook_line(NwfEthDir dir, const char *ifname)
{
    g_autofree char *root = nwf_ebt_root_chain(dir, FALSE, ifname);

    return g_strdup_printf("-A %s %s %s -j %s", eth_hook(dir),
                           dir == NWF_ETH_VM_OUT ? "-i" : "-o", ifname, root);
}

static const char *const base_chains[] = {
    "libvirt-in", "libvirt-out", "libvirt-in-post", "libvirt-host-in",
};

/* How libvirt hooks the base chains, and where it puts them. */
static const struct {
    const char *line;
    guint pos;
} base_hooks[] = {
    { "-A FORWARD -j libvirt-in", 1 }, { "-A FORWARD -j libvirt-out", 2 },
    { "-A FORWARD -j libvirt-in-post", 3 }, { "-A INPUT -j libvirt-host-in", 1 },
};

static const char *
ip_base_chain(NwfIpChain chain)
{
    return chain == NWF_IP_FROM_VM ? "libvirt-in"
         : chain == NWF_IP_TO_VM ? "libvirt-out" : "libvirt-host-in";
}

static char *
in_post_line(const char *ifname)
{
    return g_strdup_printf("-A libvirt-in-post -m physdev --physdev-in %s -j ACCEPT", ifname);
}

static char *
ip_hook_line(NwfIpChain c, const char *ifname)
{
    g_autofree char *chain = nwf_ipt_chain(c, FALSE, ifname);

    /* in iptables-save's option order, so a hook in place is recognised */
    return g_strdup_printf("-A %s -m physdev %s %s%s -g %s", ip_base_chain(c),
                           c == NWF_IP_TO_VM ? "--physdev-out" : "--physdev-in", ifname,
                           c == NWF_IP_TO_VM ? " --physdev-is-bridged" : "", chain);
}

/* Does the saved RULE stand for the teardown command ARGS ("-D CHAIN ...")?
 * iptables-save prints physdev options in its own order, so a jump into a
 * port chain is recognised by its chain and target, a verdict rule (the
 * libvirt-in-post ACCEPT) by its text. */
static gboolean
rule_deleted_by(const char *rule, GPtrArray *args)
{
    const char *target = g_ptr_array_index(args, args->len - 1);
    g_autofree char *line = NULL;

    if (!rule_in_chain(rule, g_ptr_array_index(args, 1)))
        return FALSE;
    if (strcmp(target, "ACCEPT") != 0)
        return rule_targets(rule, g_ptr_array_index(args, args->len - 2), target);
    line = args_line("-A", args, 1);
    return strcmp(rule, line) == 0;
}

/* What libvirt's teardown of IFNAME would remove from TOOL (hooks, chains,
 * the sub-chains its listings find), as far as SNAP shows it. */
static void
owned_from_teardown(Owned *owned, NwfFwTool tool, const Snapshot *snap, const char *ifname)
{
    g_autoptr(GPtrArray) cmds = nwf_ebiptables_script_teardown(ifname, NWF_EBIPTABLES_TEAR_ALL);

    for (guint c = 0; c < cmds->len; c++) {
        const NwfFwCmd *cmd = g_ptr_array_index(cmds, c);
        const char *op = g_ptr_array_index(cmd->args, 0);
        const char *name = g_ptr_array_index(cmd->args, 1);

        if (cmd->tool != tool)
            continue;
        if (strcmp(op, "-D") == 0) {
            for (guint i = 0; i < snap->rules->len; i++) {
                if (rule_deleted_by(g_ptr_array_index(snap->rules, i), cmd->args))
                    add_unique(owned->hooks, g_ptr_array_index(snap->rules, i));
            }
        } else if (strcmp(op, "-X") == 0 && snapshot_has_chain(snap, name)) {
            add_unique(owned->chains, name);
        } else if (strcmp(op, "-L") == 0) {
            /* "libvirt-I-vnet0" jumps into "I-vnet0-..." */
            g_autofree char *prefix = g_strconcat(name + strlen("libvirt-"), "-", NULL);
            g_autoptr(GPtrArray) targets = snapshot_jump_targets(snap, name, prefix);
            for (guint i = 0; i < targets->len; i++) {
                if (snapshot_has_chain(snap, g_ptr_array_index(targets, i)))
                    add_unique(owned->chains, g_ptr_array_index(targets, i));
            }
        }
    }
}

/* The objects of PLANS' ports in TOOL; for ebtables also any chain under a
 * name a plan's sub-chains take (it would be in the way); WITH_BASE: also
 * the base chains and their hooks (only a rollback removes those). */
static void
owned_collect(Owned *owned, NwfFwTool tool, const Snapshot *snap, GPtrArray *plans,
              gboolean with_base)
{
    for (guint p = 0; p < plans->len; p++) {
        const NwfEbiptablesPlan *plan = g_ptr_array_index(plans, p);

        owned_from_teardown(owned, tool, snap, plan->ifname);
        for (guint d = 0; tool == NWF_FW_EBTABLES && d < NWF_ETH_DIR_LAST; d++) {
            for (guint s = 0; s < plan->eth_subs[d]->len; s++) {
                const char *suffix = g_ptr_array_index(plan->eth_subs[d], s);
                for (guint temp = 0; temp < 2; temp++) {
                    g_autofree char *name = nwf_ebt_sub_chain(d, temp, plan->ifname, suffix);
                    if (snapshot_has_chain(snap, name))
                        add_unique(owned->chains, name);
                }
            }
        }
    }
    for (guint b = 0; tool != NWF_FW_EBTABLES && with_base && b < G_N_ELEMENTS(base_chains); b++) {
        if (snapshot_has_chain(snap, base_chains[b]))
            add_unique(owned->bases, base_chains[b]);
        if (snapshot_has_rule(snap, base_hooks[b].line))
            add_unique(owned->hooks, base_hooks[b].line);
    }
}

/* What PLANS want in TOOL. */
static void
wanted_from_plans(Wanted *wanted, NwfFwTool tool, GPtrArray *plans)
{
    gboolean base_done = FALSE;

    for (guint p = 0; p < plans->len; p++) {
        const NwfEbiptablesPlan *plan = g_ptr_array_index(plans, p);
        NwfIpFamily v = tool == NWF_FW_IPTABLES ? NWF_IP_V4 : NWF_IP_V6;

        if (plan->remove)
            continue;
        if (tool == NWF_FW_EBTABLES) {
            for (guint i = 0; i < plan->eth_chains->len; i++) {
                const char *name = g_ptr_array_index(plan->eth_chains, i);
                wanted_chain(wanted, name, g_strdup_printf(":%s ACCEPT", name));
            }
            for (guint i = 0; i < plan->eth_rules->len; i++)
                g_ptr_array_add(wanted->rules, g_strdup(g_ptr_array_index(plan->eth_rules, i)));
            for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
                if (plan->eth_present[d])
                    wanted_hook(wanted, eth_hook_line(d, plan->ifname), 0);
            }
            continue;
        }
        if (!plan->ip_present[v])
            continue;
        for (guint b = 0; !base_done && b < G_N_ELEMENTS(base_chains); b++) {
            g_ptr_array_add(wanted->bases, g_strdup(base_chains[b]));
            wanted_hook(wanted, g_strdup(base_hooks[b].line), base_hooks[b].pos);
        }
        base_done = TRUE;
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            g_autofree char *chain = nwf_ipt_chain(c, FALSE, plan->ifname);
            wanted_chain(wanted, chain, g_strdup_printf(":%s - [0:0]", chain));
        }
        for (guint i = 0; i < plan->ip_rules[v]->len; i++)
            g_ptr_array_add(wanted->rules, g_strdup(g_ptr_array_index(plan->ip_rules[v], i)));
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++)
            wanted_hook(wanted, ip_hook_line(c, plan->ifname), 0);
        wanted_hook(wanted, in_post_line(plan->ifname), 0);
    }
}

/* What SNAP showed of OWNED: the state a rollback goes back to. */
static void
wanted_from_snapshot(Wanted *wanted, const Snapshot *snap, const Owned *owned)
{
    for (guint i = 0; i < owned->chains->len; i++) {
        const char *name = g_ptr_array_index(owned->chains, i);
        wanted_chain(wanted, name, g_strdup(g_hash_table_lookup(snap->chains, name)));
    }
    for (guint i = 0; i < owned->bases->len; i++)
        g_ptr_array_add(wanted->bases, g_strdup(g_ptr_array_index(owned->bases, i)));
    for (guint i = 0; i < snap->rules->len; i++) {
        const char *rule = g_ptr_array_index(snap->rules, i);
        g_autofree char *chain = g_strndup(rule + 3, strcspn(rule + 3, " "));
        if (name_listed(owned->chains, chain))
            g_ptr_array_add(wanted->rules, g_strdup(rule));
        else if (name_listed(owned->hooks, rule))
            wanted_hook(wanted, g_strdup(rule), g_array_index(snap->positions, guint, i));
    }
}

/* --- converging ------------------------------------------------------------ */

typedef struct {
    const char *line;
    guint pos;
} PlacedHook;

static gint
placed_hook_compare(gconstpointer a, gconstpointer b)
{
    const PlacedHook *x = a;
    const PlacedHook *y = b;

    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* The batch lines that take the objects OWNED (as SNAP shows them) to
 * WANTED, in an order each tool accepts within one transaction. */
static void
converge_lines(GPtrArray *batch, const Snapshot *snap, const Owned *owned, const Wanted *wanted)
{
    g_autoptr(GArray) placed = g_array_new(FALSE, FALSE, sizeof(PlacedHook));
    g_autoptr(GPtrArray) gone = strv_new();

    for (guint i = 0; i < owned->hooks->len; i++) {
        const char *line = g_ptr_array_index(owned->hooks, i);
        if (!name_listed(wanted->hooks, line))
            batch_addf(batch, "-D%s", line + 2);
    }
    for (guint i = 0; i < wanted->bases->len; i++) {
        const char *name = g_ptr_array_index(wanted->bases, i);
        if (!snapshot_has_chain(snap, name))
            batch_addf(batch, ":%s - [0:0]", name);
    }
    /* ":NAME" creates the chain, or flushes it when it exists */
    for (guint i = 0; i < wanted->decls->len; i++)
        batch_addf(batch, "%s", (const char *)g_ptr_array_index(wanted->decls, i));
    for (guint i = 0; i < owned->chains->len; i++) {
        const char *name = g_ptr_array_index(owned->chains, i);
        if (!name_listed(wanted->names, name)) {
            batch_addf(batch, "-F %s", name);
            g_ptr_array_add(gone, g_strdup(name));
        }
    }
    for (guint i = 0; i < gone->len; i++)
        batch_addf(batch, "-X %s", (const char *)g_ptr_array_index(gone, i));
    /* a base chain goes only empty: other ports' hooks are never flushed */
    for (guint i = 0; i < owned->bases->len; i++) {
        const char *name = g_ptr_array_index(owned->bases, i);
        if (!name_listed(wanted->bases, name))
            batch_addf(batch, "-X %s", name);
    }
    for (guint i = 0; i < wanted->rules->len; i++)
        batch_addf(batch, "%s", (const char *)g_ptr_array_index(wanted->rules, i));
    for (guint i = 0; i < wanted->hooks->len; i++) {
        PlacedHook hook = { g_ptr_array_index(wanted->hooks, i),
                            g_array_index(wanted->hook_pos, guint, i) };
        if (snapshot_has_rule(snap, hook.line))
            continue;
        if (hook.pos == 0)
            batch_addf(batch, "%s", hook.line);
        else
            g_array_append_val(placed, hook);
    }
    /* in rising order, each lands where it was: the rules before it are
     * back already */
    g_array_sort(placed, placed_hook_compare);
    for (guint i = 0; i < placed->len; i++) {
        const PlacedHook *hook = &g_array_index(placed, PlacedHook, i);
        const char *rest = hook->line + 3 + strcspn(hook->line + 3, " ");
        g_autofree char *chain = g_strndup(hook->line + 3, rest - (hook->line + 3));
        batch_addf(batch, "-I %s %u%s", chain, hook->pos, rest);
    }
}

/* The batch that takes TOOL from SNAP to what PLANS want. */
static void
forward_lines(GPtrArray *batch, NwfFwTool tool, const Snapshot *snap, GPtrArray *plans)
{
    Owned owned;
    Wanted wanted;

    owned_init(&owned);
    wanted_init(&wanted);
    owned_collect(&owned, tool, snap, plans, FALSE);
    wanted_from_plans(&wanted, tool, plans);
    converge_lines(batch, snap, &owned, &wanted);
    owned_clear(&owned);
    wanted_clear(&wanted);
}

/* Put TOOL's objects of PLANS back as BEFORE showed them. */
static gboolean
rollback_tool(NwfFwTool tool, const Snapshot *before, GPtrArray *plans, GError **error)
{
    Snapshot now[NWF_FW_LAST] = { 0 };
    GPtrArray *batches[NWF_FW_LAST];
    Owned owned_now, owned_before;
    Wanted wanted;
    gboolean ok;

    if (!snapshots_take(now, &tool, 1, error))
        return FALSE;
    owned_init(&owned_now);
    owned_init(&owned_before);
    wanted_init(&wanted);
    owned_collect(&owned_now, tool, &now[tool], plans, TRUE);
    owned_collect(&owned_before, tool, before, plans, TRUE);
    wanted_from_snapshot(&wanted, before, &owned_before);
    for (guint t = 0; t < NWF_FW_LAST; t++)
        batches[t] = batch_new();
    converge_lines(batches[tool], &now[tool], &owned_now, &wanted);
    ok = batches_run(batches, NULL, error);
    batches_free(batches);
    owned_clear(&owned_now);
    owned_clear(&owned_before);
    wanted_clear(&wanted);
    snapshots_clear(now);
    return ok;
}

/* --- the transaction ----------------------------------------------------- */

/* Plans for new ports can skip ebtables-save when they want no iptables
 * rules and both ebtables root chains: "-N" of a root that exists fails
 * the batch, and a port without either root holds no hooks either. */
static gboolean
plans_may_be_new(GPtrArray *plans)
{
    for (guint p = 0; p < plans->len; p++) {
        const NwfEbiptablesPlan *plan = g_ptr_array_index(plans, p);
        if (plan->remove || plan->ip_present[NWF_IP_V4] || plan->ip_present[NWF_IP_V6] ||
            !plan->eth_present[NWF_ETH_VM_OUT] || !plan->eth_present[NWF_ETH_VM_IN])
            return FALSE;
    }
    return TRUE;
}

/* Every chain of PLANS created ("-N"), filled and hooked. */
static char *
new_ports_text(GPtrArray *plans)
{
    g_autoptr(GPtrArray) batch = batch_new();

    for (guint p = 0; p < plans->len; p++) {
        const NwfEbiptablesPlan *plan = g_ptr_array_index(plans, p);
        for (guint i = 0; i < plan->eth_chains->len; i++)
            batch_addf(batch, "-N %s", (const char *)g_ptr_array_index(plan->eth_chains, i));
        for (guint i = 0; i < plan->eth_rules->len; i++)
            batch_addf(batch, "%s", (const char *)g_ptr_array_index(plan->eth_rules, i));
        for (guint d = 0; d < NWF_ETH_DIR_LAST; d++)
            g_ptr_array_add(batch, eth_hook_line(d, plan->ifname));
    }
    return batch_text(NWF_FW_EBTABLES, batch);
}

/* The snapshots of all tools, except where (SWITCHED[tool]) a tool took
 * the new rules already: new ports' ebtables batch runs at the same time
 * as iptables-save and ip6tables-save, and only when it fails (a chain
 * exists, nothing changed) is ebtables read. The snapshot of a tool that
 * switched shows the ports' state before: none. */
static gboolean
snapshots_take_all(GPtrArray *plans, Snapshot *snaps, gboolean *switched, GError **error)
{
    static const NwfFwTool all_tools[] = { NWF_FW_EBTABLES, NWF_FW_IPTABLES, NWF_FW_IP6TABLES };
    static const NwfFwTool eb_tool = NWF_FW_EBTABLES;
    const char *const *argvs[NWF_FW_LAST] = { save_argv(NWF_FW_IPTABLES),
                                              save_argv(NWF_FW_IP6TABLES),
                                              restore_argv(NWF_FW_EBTABLES) };
    g_autofree char *text = NULL;
    const char *inputs[NWF_FW_LAST] = { NULL };
    char *outputs[NWF_FW_LAST] = { NULL };
    gboolean done[NWF_FW_LAST] = { FALSE };
    gboolean ok = TRUE;

    if (!plans_may_be_new(plans))
        return snapshots_take(snaps, all_tools, G_N_ELEMENTS(all_tools), error);
    text = new_ports_text(plans);
    inputs[2] = text;
    run_tools(NWF_FW_LAST, argvs, inputs, outputs, done, NULL);
    for (guint i = 0; i < 2; i++) {
        NwfFwTool tool = i == 0 ? NWF_FW_IPTABLES : NWF_FW_IP6TABLES;
        if (done[i])
            snapshot_parse(outputs[i], &snaps[tool]);
        else if (ok)
            ok = snapshots_take(snaps, &tool, 1, error);
        g_free(outputs[i]);
    }
    g_free(outputs[2]);
    if (done[2]) {
        switched[NWF_FW_EBTABLES] = TRUE;
        snapshot_parse("", &snaps[NWF_FW_EBTABLES]);
        return ok;
    }
    return ok && snapshots_take(snaps, &eb_tool, 1, error);
}

static void
error_append(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
error_append(GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *more = NULL;
    char *joined;

    if (!error || !*error)
        return;
    va_start(ap, fmt);
    more = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    joined = g_strconcat((*error)->message, more, NULL);
    g_free((*error)->message);
    (*error)->message = joined;
}

gboolean
nwf_ebiptables_apply(GPtrArray *plans, GError **error)
{
    Snapshot snaps[NWF_FW_LAST] = { 0 };
    GPtrArray *batches[NWF_FW_LAST];
    gboolean switched[NWF_FW_LAST] = { FALSE };
    gboolean done[NWF_FW_LAST] = { FALSE };
    gboolean ok;

    if (plans->len == 0)
        return TRUE;
    ok = snapshots_take_all(plans, snaps, switched, error);
    if (ok) {
        for (guint t = 0; t < NWF_FW_LAST; t++) {
            batches[t] = batch_new();
            if (!switched[t])
                forward_lines(batches[t], t, &snaps[t], plans);
        }
        ok = batches_run(batches, done, error);
        batches_free(batches);
    }
    /* a tool whose batch failed is as it was; the others go back to the
     * snapshot */
    for (guint t = 0; !ok && t < NWF_FW_LAST; t++) {
        g_autoptr(GError) local = NULL;
        if (!done[t] && !switched[t])
            continue;
        if (rollback_tool(t, &snaps[t], plans, &local))
            error_append(error, _("; the previous %s rules were put back"), nwf_fw_tool_name(t));
        else
            error_append(error, _("; putting the previous %s rules back failed too: %s"),
                         nwf_fw_tool_name(t), local->message);
    }
    snapshots_clear(snaps);
    return ok;
}
