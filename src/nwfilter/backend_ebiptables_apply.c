/* Applying rule programs with ebtables-restore, iptables-restore and
 * ip6tables-restore (--noflush): one atomic batch per tool and phase, never
 * a process per rule.
 *
 * Make-before-break (spec §6.4), for every port of a transaction at once:
 *   0. remove leftover temporary objects (J/P, FJ/FP/HJ) of those ports;
 *   1. build the new chains under temporary names and hook them in after the
 *      live ones (the live rules keep deciding);
 *   2. switch: unhook and delete the live chains and rename the temporary
 *      ones, in one batch per tool.
 * A failure before step 2 removes what step 1 built and leaves the live
 * rules as they were. Every batch is computed from a snapshot (*-save) so
 * it only deletes what exists: a restore batch fails as a whole on the
 * first bad line. */
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
    nwf_error_set(error, NWF_ERR_INTERNAL_ERROR, _("Failed to apply firewall rules %s: %s%s"),
                  cmd, detail ? detail : "", line ? line : "");
}

/* Run the N tools ARGVS[i] at the same time (different tools never touch
 * the same tables), INPUTS[i] on stdin (NULL: none), stdout into
 * OUTPUTS[i] (OUTPUTS may be NULL). Fails with the first failing tool. */
static gboolean
run_tools(guint n, const char *const *const *argvs, const char *const *inputs, char **outputs,
          GError **error)
{
    g_autoptr(GPtrArray) procs = g_ptr_array_new_with_free_func(g_object_unref);
    gboolean ok = TRUE;

    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;
        GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE;
        GSubprocess *proc;

        if (inputs[i])
            flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
        proc = g_subprocess_newv(argvs[i], flags, &local);
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

        if (!proc)
            continue;
        if (!g_subprocess_communicate_utf8(proc, inputs[i], NULL, &out, &err, &local)) {
            if (ok)
                tool_error(error, argvs[i], NULL, local->message);
            ok = FALSE;
        } else if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
            if (ok)
                tool_error(error, argvs[i], inputs[i], err ? g_strstrip(err) : NULL);
            ok = FALSE;
        } else if (outputs) {
            outputs[i] = g_steal_pointer(&out);
        }
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
            g_autofree char *path = g_find_program_in_path(tools[i]);
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
    GHashTable *chains;          /* name -> name */
    GPtrArray *rules;            /* "-A CHAIN ..." lines as the tool saves them */
} Snapshot;

static void
snapshot_clear(Snapshot *snap)
{
    g_clear_pointer(&snap->chains, g_hash_table_unref);
    g_clear_pointer(&snap->rules, g_ptr_array_unref);
}

static void
snapshot_parse(const char *text, Snapshot *snap)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    snap->chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    snap->rules = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; lines[i]; i++) {
        if (lines[i][0] == ':') {
            char *name = g_strndup(lines[i] + 1, strcspn(lines[i] + 1, " "));
            g_hash_table_add(snap->chains, name);
        } else if (g_str_has_prefix(lines[i], "-A ")) {
            g_ptr_array_add(snap->rules, g_strdup(lines[i]));
        }
    }
}

static gboolean
snapshot_has_chain(const Snapshot *snap, const char *name)
{
    return g_hash_table_contains(snap->chains, name);
}

/* The chain a saved rule is in. */
static gboolean
rule_in_chain(const char *rule, const char *chain)
{
    gsize len = strlen(chain);

    return strncmp(rule + 3, chain, len) == 0 && rule[3 + len] == ' ';
}

/* The saved rule ends in "-j TARGET" or "-g TARGET" (OPT). */
static gboolean
rule_targets(const char *rule, const char *opt, const char *target)
{
    g_autofree char *tail = g_strdup_printf(" %s %s", opt, target);

    return g_str_has_suffix(rule, tail);
}

/* "-A ..." as "-D ..." */
static char *
rule_delete_line(const char *rule)
{
    return g_strdup_printf("-D%s", rule + 2);
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

static void
batch_add_args(GPtrArray *batch, GPtrArray *args)
{
    GString *line = g_string_new(NULL);

    for (guint i = 0; i < args->len; i++) {
        if (i)
            g_string_append_c(line, ' ');
        append_restore_arg(line, g_ptr_array_index(args, i));
    }
    g_ptr_array_add(batch, g_string_free(line, FALSE));
}

static void G_GNUC_PRINTF(2, 3)
batch_addf(GPtrArray *batch, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(batch, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/* Run the non-empty batches of all tools, in parallel. */
static gboolean
batches_run(GPtrArray **batches, GError **error)
{
    const char *const *argvs[NWF_FW_LAST];
    const char *inputs[NWF_FW_LAST];
    g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func(g_free);
    guint n = 0;

    for (guint t = 0; t < NWF_FW_LAST; t++) {
        GString *text;
        if (batches[t]->len == 0)
            continue;
        text = g_string_new(t == NWF_FW_EBTABLES ? "*nat\n" : "*filter\n");
        for (guint i = 0; i < batches[t]->len; i++)
            g_string_append_printf(text, "%s\n", (const char *)g_ptr_array_index(batches[t], i));
        g_string_append(text, "COMMIT\n");
        argvs[n] = restore_argv(t);
        inputs[n] = text->str;
        g_ptr_array_add(texts, g_string_free(text, FALSE));
        n++;
    }
    return run_tools(n, argvs, inputs, NULL, error);
}

/* --- per-port plans ------------------------------------------------------ */

struct _NwfEbiptablesPlan {
    char *ifname;
    gboolean remove;             /* remove everything, build nothing */
    gboolean eth_present[NWF_ETH_DIR_LAST];
    GPtrArray *eth_chains;       /* char*: temp names of every chain to build */
    GPtrArray *eth_subs[NWF_ETH_DIR_LAST];   /* char*: sub-chain suffixes */
    GPtrArray *eth_rules;        /* GPtrArray* of args, temp names */
    gboolean ip_present[NWF_IP_FAMILY_LAST];
    GPtrArray *ip_rules[NWF_IP_FAMILY_LAST]; /* GPtrArray* of args, temp names */
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
    plan->eth_rules = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++)
        plan->eth_subs[d] = g_ptr_array_new_with_free_func(g_free);
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++)
        plan->ip_rules[v] = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
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

static GPtrArray *
return_args(const char *chain)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(args, g_strdup("-A"));
    g_ptr_array_add(args, g_strdup(chain));
    g_ptr_array_add(args, g_strdup("-j"));
    g_ptr_array_add(args, g_strdup("RETURN"));
    return args;
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
        root = nwf_ebt_root_chain(d, TRUE, ifname);
        g_ptr_array_add(plan->eth_chains, g_strdup(root));
        for (guint s = 0; s < eth->subchains->len; s++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, s);
            g_ptr_array_add(plan->eth_chains, nwf_ebt_sub_chain(d, TRUE, ifname, sub->suffix));
            g_ptr_array_add(plan->eth_subs[d], g_strdup(sub->suffix));
        }
        for (guint i = 0; i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
            if (entry->kind == NWF_ETH_ENTRY_RULE) {
                g_ptr_array_add(plan->eth_rules, nwf_ebt_rule_args(entry->rule, root));
            } else {
                g_autofree char *sub = nwf_ebt_sub_chain(d, TRUE, ifname,
                                                         entry->subchain->suffix);
                g_ptr_array_add(plan->eth_rules, nwf_ebt_jump_args(entry->subchain, root, sub));
            }
        }
        for (guint s = 0; s < eth->subchains->len; s++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, s);
            g_autofree char *name = nwf_ebt_sub_chain(d, TRUE, ifname, sub->suffix);
            for (guint i = 0; i < sub->rules->len; i++)
                g_ptr_array_add(plan->eth_rules,
                                nwf_ebt_rule_args(g_ptr_array_index(sub->rules, i), name));
            /* ebtables-nft ends user chains in "accept" whatever their
             * policy says: return to the root chain explicitly */
            g_ptr_array_add(plan->eth_rules, return_args(name));
        }
    }
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
        const NwfIpChains *ip = &program->ip[v];
        if (!ip->present)
            continue;
        plan->ip_present[v] = TRUE;
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            g_autofree char *chain = nwf_ipt_chain(c, TRUE, ifname);
            for (guint i = 0; i < ip->chains[c]->len; i++)
                g_ptr_array_add(plan->ip_rules[v],
                                nwf_ipt_rule_args(g_ptr_array_index(ip->chains[c], i), c, chain));
        }
    }
    return plan;
}

/* --- ebtables batches ---------------------------------------------------- */

static const char *
eth_hook(NwfEthDir dir)
{
    return dir == NWF_ETH_VM_OUT ? "PREROUTING" : "POSTROUTING";
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

/* Remove the root chains of IFNAME (TEMP or live names), their sub-chains
 * and hooks, as far as SNAP shows them; with PLAN, also any stray chain
 * under a name the plan's sub-chains will take (its -N or -E would fail). */
static void
ebt_remove_lines(GPtrArray *batch, const Snapshot *snap, const char *ifname, gboolean temp,
                 const NwfEbiptablesPlan *plan)
{
    g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) subs = g_ptr_array_new_with_free_func(g_free);

    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        g_autofree char *root = nwf_ebt_root_chain(d, temp, ifname);
        g_autofree char *prefix = nwf_ebt_sub_chain(d, temp, ifname, "");
        g_autoptr(GPtrArray) targets = NULL;

        for (guint i = 0; i < snap->rules->len; i++) {
            const char *rule = g_ptr_array_index(snap->rules, i);
            if (rule_in_chain(rule, eth_hook(d)) && rule_targets(rule, "-j", root))
                g_ptr_array_add(batch, rule_delete_line(rule));
        }
        if (!snapshot_has_chain(snap, root))
            continue;
        targets = snapshot_jump_targets(snap, root, prefix);
        for (guint i = 0; i < targets->len; i++) {
            if (snapshot_has_chain(snap, g_ptr_array_index(targets, i)))
                g_ptr_array_add(subs, g_strdup(g_ptr_array_index(targets, i)));
        }
        g_ptr_array_add(roots, g_steal_pointer(&root));
    }
    for (guint d = 0; plan && d < NWF_ETH_DIR_LAST; d++) {
        for (guint s = 0; s < plan->eth_subs[d]->len; s++) {
            g_autofree char *name = nwf_ebt_sub_chain(d, temp, ifname,
                                                      g_ptr_array_index(plan->eth_subs[d], s));
            if (snapshot_has_chain(snap, name) && !name_listed(subs, name))
                g_ptr_array_add(subs, g_steal_pointer(&name));
        }
    }
    for (guint i = 0; i < roots->len; i++)
        batch_addf(batch, "-F %s", (const char *)g_ptr_array_index(roots, i));
    for (guint i = 0; i < subs->len; i++) {
        batch_addf(batch, "-F %s", (const char *)g_ptr_array_index(subs, i));
        batch_addf(batch, "-X %s", (const char *)g_ptr_array_index(subs, i));
    }
    for (guint i = 0; i < roots->len; i++)
        batch_addf(batch, "-X %s", (const char *)g_ptr_array_index(roots, i));
}

static void
ebt_build_lines(GPtrArray *batch, const NwfEbiptablesPlan *plan)
{
    for (guint i = 0; i < plan->eth_chains->len; i++)
        batch_addf(batch, "-N %s", (const char *)g_ptr_array_index(plan->eth_chains, i));
    for (guint i = 0; i < plan->eth_rules->len; i++)
        batch_add_args(batch, g_ptr_array_index(plan->eth_rules, i));
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        g_autofree char *root = nwf_ebt_root_chain(d, TRUE, plan->ifname);
        if (plan->eth_present[d])
            batch_addf(batch, "-A %s %s %s -j %s", eth_hook(d),
                       d == NWF_ETH_VM_OUT ? "-i" : "-o", plan->ifname, root);
    }
}

static void
ebt_switch_lines(GPtrArray *batch, const Snapshot *snap, const NwfEbiptablesPlan *plan)
{
    ebt_remove_lines(batch, snap, plan->ifname, FALSE, plan);
    if (plan->remove)
        return;
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        g_autofree char *temp_root = nwf_ebt_root_chain(d, TRUE, plan->ifname);
        g_autofree char *root = nwf_ebt_root_chain(d, FALSE, plan->ifname);

        if (!plan->eth_present[d])
            continue;
        for (guint s = 0; s < plan->eth_subs[d]->len; s++) {
            const char *suffix = g_ptr_array_index(plan->eth_subs[d], s);
            g_autofree char *temp = nwf_ebt_sub_chain(d, TRUE, plan->ifname, suffix);
            g_autofree char *live = nwf_ebt_sub_chain(d, FALSE, plan->ifname, suffix);
            batch_addf(batch, "-E %s %s", temp, live);
        }
        batch_addf(batch, "-E %s %s", temp_root, root);
    }
}

/* --- iptables batches ---------------------------------------------------- */

static const char *const base_chains[] = {
    "libvirt-in", "libvirt-out", "libvirt-in-post", "libvirt-host-in",
};

static const char *
ip_base_chain(NwfIpChain chain)
{
    return chain == NWF_IP_FROM_VM ? "libvirt-in"
         : chain == NWF_IP_TO_VM ? "libvirt-out" : "libvirt-host-in";
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

/* Create the shared base chains and their hooks where missing. */
static void
ipt_base_lines(GPtrArray *batch, const Snapshot *snap)
{
    static const char *const hooks[] = {
        "-A FORWARD -j libvirt-in", "-A FORWARD -j libvirt-out",
        "-A FORWARD -j libvirt-in-post", "-A INPUT -j libvirt-host-in",
    };
    static const char *const inserts[] = {
        "-I FORWARD 1 -j libvirt-in", "-I FORWARD 2 -j libvirt-out",
        "-I FORWARD 3 -j libvirt-in-post", "-I INPUT 1 -j libvirt-host-in",
    };
    gboolean all_hooked = TRUE;

    for (guint i = 0; i < G_N_ELEMENTS(base_chains); i++) {
        if (!snapshot_has_chain(snap, base_chains[i]))
            batch_addf(batch, ":%s - [0:0]", base_chains[i]);
        all_hooked &= snapshot_has_rule(snap, hooks[i]);
    }
    if (all_hooked)
        return;
    /* re-insert all four so they end up first and in libvirt's order */
    for (guint i = 0; i < G_N_ELEMENTS(hooks); i++) {
        if (snapshot_has_rule(snap, hooks[i]))
            batch_addf(batch, "-D%s", hooks[i] + 2);
    }
    for (guint i = 0; i < G_N_ELEMENTS(inserts); i++)
        batch_addf(batch, "%s", inserts[i]);
}

static char *
in_post_line(const char *ifname)
{
    return g_strdup_printf("-A libvirt-in-post -m physdev --physdev-in %s -j ACCEPT", ifname);
}

/* Unhook and delete the per-port chains (TEMP or live names) in SNAP. */
static void
ipt_remove_lines(GPtrArray *batch, const Snapshot *snap, const char *ifname, gboolean temp)
{
    for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        g_autofree char *chain = nwf_ipt_chain(c, temp, ifname);
        for (guint i = 0; i < snap->rules->len; i++) {
            const char *rule = g_ptr_array_index(snap->rules, i);
            if (rule_in_chain(rule, ip_base_chain(c)) && rule_targets(rule, "-g", chain))
                g_ptr_array_add(batch, rule_delete_line(rule));
        }
    }
    for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        g_autofree char *chain = nwf_ipt_chain(c, temp, ifname);
        if (snapshot_has_chain(snap, chain)) {
            batch_addf(batch, "-F %s", chain);
            batch_addf(batch, "-X %s", chain);
        }
    }
}

static void
ipt_build_lines(GPtrArray *batch, const Snapshot *snap, const NwfEbiptablesPlan *plan,
                NwfIpFamily family)
{
    g_autofree char *in_post = in_post_line(plan->ifname);

    for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        g_autofree char *chain = nwf_ipt_chain(c, TRUE, plan->ifname);
        batch_addf(batch, ":%s - [0:0]", chain);
    }
    for (guint i = 0; i < plan->ip_rules[family]->len; i++)
        batch_add_args(batch, g_ptr_array_index(plan->ip_rules[family], i));
    for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        g_autofree char *chain = nwf_ipt_chain(c, TRUE, plan->ifname);
        batch_addf(batch, "-A %s -m physdev %s %s -g %s", ip_base_chain(c),
                   c == NWF_IP_TO_VM ? "--physdev-is-bridged --physdev-out" : "--physdev-in",
                   plan->ifname, chain);
    }
    if (!snapshot_has_rule(snap, in_post))
        batch_addf(batch, "%s", in_post);
}

static void
ipt_switch_lines(GPtrArray *batch, const Snapshot *snap, const NwfEbiptablesPlan *plan,
                 NwfIpFamily family)
{
    ipt_remove_lines(batch, snap, plan->ifname, FALSE);
    if (!plan->remove && plan->ip_present[family]) {
        for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
            g_autofree char *temp = nwf_ipt_chain(c, TRUE, plan->ifname);
            g_autofree char *live = nwf_ipt_chain(c, FALSE, plan->ifname);
            batch_addf(batch, "-E %s %s", temp, live);
        }
        return;
    }
    for (guint i = 0; i < snap->rules->len; i++) {
        const char *rule = g_ptr_array_index(snap->rules, i);
        g_autofree char *needle = g_strdup_printf(" --physdev-in %s ", plan->ifname);
        if (rule_in_chain(rule, "libvirt-in-post") && strstr(rule, needle))
            g_ptr_array_add(batch, rule_delete_line(rule));
    }
}

/* --- the transaction ----------------------------------------------------- */

static void
snapshots_clear(Snapshot *snaps)
{
    for (guint t = 0; t < NWF_FW_LAST; t++)
        snapshot_clear(&snaps[t]);
}

static gboolean
snapshots_take(Snapshot *snaps, GError **error)
{
    const char *const *argvs[NWF_FW_LAST];
    const char *inputs[NWF_FW_LAST] = { NULL };
    char *outputs[NWF_FW_LAST] = { NULL };
    gboolean ok;

    for (guint t = 0; t < NWF_FW_LAST; t++)
        argvs[t] = save_argv(t);
    ok = run_tools(NWF_FW_LAST, argvs, inputs, outputs, error);
    for (guint t = 0; t < NWF_FW_LAST; t++) {
        if (ok)
            snapshot_parse(outputs[t], &snaps[t]);
        g_free(outputs[t]);
    }
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

/* Remove every temporary object of PLANS (phase 0 and rollback). Sets
 * *DID_WORK when there was anything to remove. */
static gboolean
remove_temporaries(GPtrArray *plans, const Snapshot *snaps, gboolean *did_work, GError **error)
{
    GPtrArray *batches[NWF_FW_LAST];
    gboolean ok;

    *did_work = FALSE;
    for (guint t = 0; t < NWF_FW_LAST; t++) {
        batches[t] = batch_new();
        for (guint p = 0; p < plans->len; p++) {
            const NwfEbiptablesPlan *plan = g_ptr_array_index(plans, p);
            if (t == NWF_FW_EBTABLES)
                ebt_remove_lines(batches[t], &snaps[t], plan->ifname, TRUE, plan);
            else
                ipt_remove_lines(batches[t], &snaps[t], plan->ifname, TRUE);
        }
        *did_work |= batches[t]->len > 0;
    }
    ok = batches_run(batches, error);
    batches_free(batches);
    return ok;
}

static void
rollback(GPtrArray *plans)
{
    Snapshot snaps[NWF_FW_LAST] = { 0 };
    g_autoptr(GError) error = NULL;
    gboolean did_work;

    if (!snapshots_take(snaps, &error) || !remove_temporaries(plans, snaps, &did_work, &error))
        g_warning("cleaning up after a failed firewall update: %s", error->message);
    snapshots_clear(snaps);
}

static gboolean
build_all(GPtrArray *plans, const Snapshot *snaps, GError **error)
{
    GPtrArray *batches[NWF_FW_LAST];
    gboolean base_done[NWF_FW_LAST] = { FALSE };
    gboolean ok;

    for (guint t = 0; t < NWF_FW_LAST; t++)
        batches[t] = batch_new();
    for (guint p = 0; p < plans->len; p++) {
        const NwfEbiptablesPlan *plan = g_ptr_array_index(plans, p);
        if (plan->remove)
            continue;
        ebt_build_lines(batches[NWF_FW_EBTABLES], plan);
        for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
            NwfFwTool t = nwf_fw_tool_for_family(v);
            if (!plan->ip_present[v])
                continue;
            if (!base_done[t])
                ipt_base_lines(batches[t], &snaps[t]);
            base_done[t] = TRUE;
            ipt_build_lines(batches[t], &snaps[t], plan, v);
        }
    }
    ok = batches_run(batches, error);
    batches_free(batches);
    return ok;
}

static gboolean
switch_all(GPtrArray *plans, const Snapshot *snaps, GError **error)
{
    GPtrArray *batches[NWF_FW_LAST];
    gboolean ok;

    for (guint t = 0; t < NWF_FW_LAST; t++)
        batches[t] = batch_new();
    for (guint p = 0; p < plans->len; p++) {
        const NwfEbiptablesPlan *plan = g_ptr_array_index(plans, p);
        ebt_switch_lines(batches[NWF_FW_EBTABLES], &snaps[NWF_FW_EBTABLES], plan);
        for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
            NwfFwTool t = nwf_fw_tool_for_family(v);
            ipt_switch_lines(batches[t], &snaps[t], plan, v);
        }
    }
    ok = batches_run(batches, error);
    batches_free(batches);
    return ok;
}

gboolean
nwf_ebiptables_apply(GPtrArray *plans, GError **error)
{
    Snapshot snaps[NWF_FW_LAST] = { 0 };
    gboolean ok, cleaned;

    if (plans->len == 0)
        return TRUE;
    if (!snapshots_take(snaps, error) || !remove_temporaries(plans, snaps, &cleaned, error)) {
        snapshots_clear(snaps);
        return FALSE;
    }
    if (cleaned) {
        /* leftovers of an interrupted run are gone: look again */
        snapshots_clear(snaps);
        if (!snapshots_take(snaps, error))
            return FALSE;
    }
    /* building leaves the live objects alone, so the snapshot still
     * describes them at the switch */
    ok = build_all(plans, snaps, error) && switch_all(plans, snaps, error);
    snapshots_clear(snaps);
    if (!ok)
        rollback(plans);
    return ok;
}
