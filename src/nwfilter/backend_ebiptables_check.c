/* Drift check of the ebiptables backend: does the kernel still hold one
 * port's chains as its rule program renders them?
 *
 * The tools print a rule back in their own canonical form (iptables adds
 * "-m tcp" and "/32", ebtables rewrites masks), so rule text cannot be
 * compared with what we rendered. What is compared is the structure a flush,
 * a firewall manager's reload or a half-done removal breaks: every chain of
 * the port exists (and no chain of a layer the program lacks), each hook and
 * base-chain jump is in place, and each chain holds as many rules as the
 * program renders, with the same verdicts (or jump targets) in the same
 * order, and for iptables rules the same --sport/--dport values. A rule
 * edited in place in another field, verdict and ports kept, is not
 * detected. */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend_ebiptables_apply.h"
#include "nwfilter/backend_ebiptables_check.h"
#include "nwfilter/backend_ebiptables_private.h"
#include "util/nwf_error.h"

/* chain name -> GPtrArray* of the verdict of each of its rules, in order
 * ("" for a rule without verdict) */
typedef GHashTable ChainVerdicts;

/* What is compared per rule: its verdict (the word after the last "-j" or
 * "-g"; "" without one) and the values of its --sport/--dport options,
 * which iptables prints back exactly as given. WORDS: the rule's words. */
static char *
words_signature(const char *const *words, guint n)
{
    GString *ports = g_string_new(NULL);
    const char *verdict = "";

    for (guint i = 0; i + 1 < n; i++) {
        if (strcmp(words[i], "-j") == 0 || strcmp(words[i], "-g") == 0)
            verdict = words[i + 1];
        else if (strcmp(words[i], "--dport") == 0 || strcmp(words[i], "--sport") == 0)
            g_string_append_printf(ports, " %s %s", words[i], words[i + 1]);
    }
    g_string_prepend(ports, verdict);
    return g_string_free(ports, FALSE);
}

/* A saved rule line's signature; a quoted word (a comment, which may hold
 * anything) stays one word. */
static char *
line_verdict(const char *line)
{
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
    const char *p = line;

    while (*p) {
        GString *word;

        if (*p == ' ') {
            p++;
            continue;
        }
        word = g_string_new(NULL);
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                g_string_append_c(word, *p);
            }
            if (*p)
                p++;
        } else {
            for (; *p && *p != ' '; p++)
                g_string_append_c(word, *p);
        }
        g_ptr_array_add(words, g_string_free(word, FALSE));
    }
    return words_signature((const char *const *)words->pdata, words->len);
}

static ChainVerdicts *
verdicts_parse(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    ChainVerdicts *chains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify)g_ptr_array_unref);

    for (guint i = 0; lines[i]; i++) {
        const char *line = lines[i];
        if (line[0] == ':') {
            g_hash_table_insert(chains, g_strndup(line + 1, strcspn(line + 1, " ")),
                                g_ptr_array_new_with_free_func(g_free));
        } else if (g_str_has_prefix(line, "-A ")) {
            g_autofree char *chain = g_strndup(line + 3, strcspn(line + 3, " "));
            GPtrArray *rules = g_hash_table_lookup(chains, chain);
            if (rules)
                g_ptr_array_add(rules, line_verdict(line));
        }
    }
    return chains;
}

/* The signature of rendered ARGS ("-A", chain, ..., "-j", target). */
static char *
args_verdict(GPtrArray *args)
{
    return words_signature((const char *const *)args->pdata, args->len);
}

static void
expect_rule(GPtrArray *expected, GPtrArray *args)
{
    g_ptr_array_add(expected, args_verdict(args));
    g_ptr_array_unref(args);
}

/* CHAIN exists with exactly the verdicts EXPECTED. */
static gboolean
chain_matches(ChainVerdicts *chains, const char *chain, GPtrArray *expected)
{
    GPtrArray *rules = g_hash_table_lookup(chains, chain);

    if (!rules || rules->len != expected->len)
        return FALSE;
    for (guint i = 0; i < rules->len; i++) {
        if (strcmp(g_ptr_array_index(rules, i), g_ptr_array_index(expected, i)) != 0)
            return FALSE;
    }
    return TRUE;
}

/* Some rule of CHAIN has verdict TARGET. */
static gboolean
chain_reaches(ChainVerdicts *chains, const char *chain, const char *target)
{
    GPtrArray *rules = g_hash_table_lookup(chains, chain);

    for (guint i = 0; rules && i < rules->len; i++) {
        if (strcmp(g_ptr_array_index(rules, i), target) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
eth_matches(ChainVerdicts *chains, const NwfRuleProgram *program, NwfEthDir dir)
{
    static const char *const hooks[] = { "PREROUTING", "POSTROUTING" };
    const NwfEthChains *eth = &program->eth[dir];
    g_autofree char *root = nwf_ebt_root_chain(dir, FALSE, program->ifname);
    g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func(g_free);

    if (!eth->present)
        return !g_hash_table_contains(chains, root);
    if (!chain_reaches(chains, hooks[dir], root))
        return FALSE;
    for (guint i = 0; i < eth->entries->len; i++) {
        const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
        if (entry->kind == NWF_ETH_ENTRY_RULE)
            expect_rule(expected, nwf_ebt_rule_args(entry->rule, root));
        else
            g_ptr_array_add(expected, nwf_ebt_sub_chain(dir, FALSE, program->ifname,
                                                        entry->subchain->suffix));
    }
    if (!chain_matches(chains, root, expected))
        return FALSE;
    for (guint s = 0; s < eth->subchains->len; s++) {
        const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, s);
        g_autofree char *name = nwf_ebt_sub_chain(dir, FALSE, program->ifname, sub->suffix);
        g_autoptr(GPtrArray) sub_expected = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < sub->rules->len; i++)
            expect_rule(sub_expected, nwf_ebt_rule_args(g_ptr_array_index(sub->rules, i), name));
        /* the explicit return the applier appends to every sub-chain */
        g_ptr_array_add(sub_expected, g_strdup("RETURN"));
        if (!chain_matches(chains, name, sub_expected))
            return FALSE;
    }
    return TRUE;
}

static gboolean
ip_matches(ChainVerdicts *chains, const NwfRuleProgram *program, NwfIpFamily family)
{
    static const char *const bases[] = { "libvirt-in", "libvirt-out", "libvirt-host-in" };
    static const char *const base_hooks[][2] = {
        { "FORWARD", "libvirt-in" }, { "FORWARD", "libvirt-out" },
        { "FORWARD", "libvirt-in-post" }, { "INPUT", "libvirt-host-in" },
    };
    const NwfIpChains *ip = &program->ip[family];

    for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        g_autofree char *chain = nwf_ipt_chain(c, FALSE, program->ifname);
        g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func(g_free);

        if (!ip->present) {
            if (g_hash_table_contains(chains, chain))
                return FALSE;
            continue;
        }
        if (!chain_reaches(chains, bases[c], chain))
            return FALSE;
        for (guint i = 0; i < ip->chains[c]->len; i++)
            expect_rule(expected, nwf_ipt_rule_args(g_ptr_array_index(ip->chains[c], i), c, chain));
        if (!chain_matches(chains, chain, expected))
            return FALSE;
    }
    if (!ip->present)
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(base_hooks); i++) {
        if (!chain_reaches(chains, base_hooks[i][0], base_hooks[i][1]))
            return FALSE;
    }
    /* the in-post accept of the port (its text is ours, not normalized) */
    return chain_reaches(chains, "libvirt-in-post", "ACCEPT");
}

/* The three *-save outputs, read at the same time (each tool walks the
 * whole ruleset, which is slow when a firewall manager filled it). */
static gboolean
saves_read(char **outputs, GError **error)
{
    static const char *const argvs[NWF_FW_LAST][4] = {
        { "ebtables-save", "-t", "nat", NULL },
        { "iptables-save", "-t", "filter", NULL },
        { "ip6tables-save", "-t", "filter", NULL },
    };
    GSubprocess *procs[NWF_FW_LAST] = { NULL };
    gboolean ok = TRUE;

    for (guint t = 0; t < NWF_FW_LAST && ok; t++) {
        g_autoptr(GError) local = NULL;

        procs[t] = g_subprocess_newv(argvs[t], G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_PIPE, &local);
        if (!procs[t]) {
            nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                          _("cannot read the firewall state with %s: %s"), argvs[t][0],
                          local->message);
            ok = FALSE;
        }
    }
    for (guint t = 0; t < NWF_FW_LAST; t++) {
        g_autoptr(GError) local = NULL;
        g_autofree char *err = NULL;

        if (!procs[t])
            continue;
        if (!g_subprocess_communicate_utf8(procs[t], NULL, NULL, &outputs[t], &err, &local) ||
            !g_subprocess_get_if_exited(procs[t]) || g_subprocess_get_exit_status(procs[t]) != 0) {
            if (ok)
                nwf_error_set(error, NWF_ERR_INTERNAL_ERROR,
                              _("cannot read the firewall state with %s: %s"), argvs[t][0],
                              local ? local->message : err ? g_strstrip(err) : "failed");
            ok = FALSE;
        }
        g_object_unref(procs[t]);
    }
    return ok;
}

gboolean
nwf_ebiptables_ports_match(GPtrArray *programs, gboolean *matches, GError **error)
{
    char *outputs[NWF_FW_LAST] = { NULL };
    ChainVerdicts *chains[NWF_FW_LAST] = { NULL };
    gboolean ok = TRUE;

    for (guint p = 0; p < programs->len && ok; p++) {
        const NwfRuleProgram *program = g_ptr_array_index(programs, p);
        ok = nwf_ebiptables_ifname_check(program->ifname, error);
    }
    if (!ok || !saves_read(outputs, error)) {
        for (guint t = 0; t < NWF_FW_LAST; t++)
            g_free(outputs[t]);
        return FALSE;
    }
    for (guint t = 0; t < NWF_FW_LAST; t++) {
        chains[t] = verdicts_parse(outputs[t]);
        g_free(outputs[t]);
    }
    for (guint p = 0; p < programs->len; p++) {
        const NwfRuleProgram *program = g_ptr_array_index(programs, p);

        matches[p] = ip_matches(chains[NWF_FW_IPTABLES], program, NWF_IP_V4) &&
                     ip_matches(chains[NWF_FW_IP6TABLES], program, NWF_IP_V6);
        for (guint d = 0; d < NWF_ETH_DIR_LAST; d++)
            matches[p] = matches[p] && eth_matches(chains[NWF_FW_EBTABLES], program, d);
    }
    for (guint t = 0; t < NWF_FW_LAST; t++)
        g_hash_table_unref(chains[t]);
    return TRUE;
}

gboolean
nwf_ebiptables_port_matches(const NwfRuleProgram *program, gboolean *matches, GError **error)
{
    g_autoptr(GPtrArray) one = g_ptr_array_new();

    g_ptr_array_add(one, (gpointer)program);
    return nwf_ebiptables_ports_match(one, matches, error);
}
