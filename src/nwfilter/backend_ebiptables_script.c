/* libvirt's "apply new rules" command sequence for one port, as its dry run
 * records it (spec §6.4 step 1-2; vectors/libvirt/xml2firewall). This is
 * what `nwfilter compile --backend ebiptables` prints; the real apply
 * (backend_ebiptables_apply.c) batches the same rules differently. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "nwfilter/backend_ebiptables_private.h"

void
nwf_fw_cmd_free(NwfFwCmd *cmd)
{
    if (!cmd)
        return;
    g_ptr_array_unref(cmd->args);
    g_free(cmd);
}

GPtrArray *
nwf_fw_cmd_argv(const NwfFwCmd *cmd)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup(nwf_fw_tool_name(cmd->tool)));
    if (cmd->tool == NWF_FW_EBTABLES) {
        g_ptr_array_add(argv, g_strdup("--concurrent"));
        g_ptr_array_add(argv, g_strdup("-t"));
        g_ptr_array_add(argv, g_strdup("nat"));
    } else {
        g_ptr_array_add(argv, g_strdup("-w"));
    }
    for (guint i = 0; i < cmd->args->len; i++)
        g_ptr_array_add(argv, g_strdup(g_ptr_array_index(cmd->args, i)));
    return argv;
}

static void
cmd_take(GPtrArray *cmds, NwfFwTool tool, GPtrArray *args)
{
    NwfFwCmd *cmd = g_new0(NwfFwCmd, 1);

    cmd->tool = tool;
    cmd->args = args;
    g_ptr_array_add(cmds, cmd);
}

/* Append a command from a NULL-terminated list of arguments. */
static void G_GNUC_NULL_TERMINATED
cmd_add(GPtrArray *cmds, NwfFwTool tool, ...)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
    va_list ap;
    const char *arg;

    va_start(ap, tool);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(args, g_strdup(arg));
    va_end(ap);
    cmd_take(cmds, tool, args);
}

static const char *
hook_chain(NwfEthDir dir)
{
    return dir == NWF_ETH_VM_OUT ? "PREROUTING" : "POSTROUTING";
}

static const char *
hook_match(NwfEthDir dir)
{
    return dir == NWF_ETH_VM_OUT ? "-i" : "-o";
}

/* Unhook and remove the root chains of IFNAME (TEMP: the J/P names); the
 * listings are how libvirt finds their sub-chains (errors ignored). */
static void
ebt_drop_roots(GPtrArray *cmds, const char *ifname, gboolean temp)
{
    g_autofree char *j = nwf_ebt_root_chain(NWF_ETH_VM_OUT, temp, ifname);
    g_autofree char *p = nwf_ebt_root_chain(NWF_ETH_VM_IN, temp, ifname);

    cmd_add(cmds, NWF_FW_EBTABLES, "-D", "PREROUTING", "-i", ifname, "-j", j, NULL);
    cmd_add(cmds, NWF_FW_EBTABLES, "-D", "POSTROUTING", "-o", ifname, "-j", p, NULL);
    cmd_add(cmds, NWF_FW_EBTABLES, "-L", j, NULL);
    cmd_add(cmds, NWF_FW_EBTABLES, "-L", p, NULL);
    cmd_add(cmds, NWF_FW_EBTABLES, "-F", j, NULL);
    cmd_add(cmds, NWF_FW_EBTABLES, "-X", j, NULL);
    cmd_add(cmds, NWF_FW_EBTABLES, "-F", p, NULL);
    cmd_add(cmds, NWF_FW_EBTABLES, "-X", p, NULL);
}

/* Items sorted by their first member, the emission position (seq). */
static gint
item_seq_compare(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a;
    guint y = *(const guint *)b;

    return x < y ? -1 : (x > y);
}

/* An ebtables item in emission order: a sub-chain creation or a rule. */
typedef struct {
    guint seq;                   /* first: see item_seq_compare */
    NwfEthDir dir;
    const NwfEthSubChain *sub;   /* creation of SUB, or the chain RULE is in */
    const NwfRuleInst *rule;     /* NULL for a creation */
} EbtItem;

static GArray *
ebt_items(const NwfRuleProgram *program)
{
    GArray *items = g_array_new(FALSE, FALSE, sizeof(EbtItem));

    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        const NwfEthChains *eth = &program->eth[d];
        for (guint i = 0; i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
            EbtItem item = { .dir = d };
            if (entry->kind == NWF_ETH_ENTRY_JUMP) {
                item.seq = entry->subchain->seq;
                item.sub = entry->subchain;
            } else {
                item.seq = entry->rule->seq;
                item.rule = entry->rule;
            }
            g_array_append_val(items, item);
        }
        for (guint s = 0; s < eth->subchains->len; s++) {
            const NwfEthSubChain *sub = g_ptr_array_index(eth->subchains, s);
            for (guint i = 0; i < sub->rules->len; i++) {
                const NwfRuleInst *rule = g_ptr_array_index(sub->rules, i);
                EbtItem item = { .seq = rule->seq, .dir = d, .sub = sub, .rule = rule };
                g_array_append_val(items, item);
            }
        }
    }
    g_array_sort(items, item_seq_compare);
    return items;
}

static void
ebt_emit(GPtrArray *cmds, const NwfRuleProgram *program)
{
    g_autoptr(GArray) items = ebt_items(program);

    for (guint i = 0; i < items->len; i++) {
        const EbtItem *item = &g_array_index(items, EbtItem, i);
        g_autofree char *root = nwf_ebt_root_chain(item->dir, TRUE, program->ifname);
        g_autofree char *sub = item->sub ? nwf_ebt_sub_chain(item->dir, TRUE, program->ifname,
                                                             item->sub->suffix) : NULL;

        if (item->rule) {
            cmd_take(cmds, NWF_FW_EBTABLES, nwf_ebt_rule_args(item->rule, sub ? sub : root));
        } else {
            cmd_add(cmds, NWF_FW_EBTABLES, "-F", sub, NULL);
            cmd_add(cmds, NWF_FW_EBTABLES, "-X", sub, NULL);
            cmd_add(cmds, NWF_FW_EBTABLES, "-N", sub, NULL);
            cmd_take(cmds, NWF_FW_EBTABLES, nwf_ebt_jump_args(item->sub, root, sub));
        }
    }
}

/* The physdev match that hooks CHAIN of IFNAME into its base chain; the
 * arguments after "-A base" / "-D base". */
static void
ipt_hook_args(GPtrArray *args, NwfIpChain chain, const char *ifname, gboolean bridged)
{
    g_ptr_array_add(args, g_strdup("-m"));
    g_ptr_array_add(args, g_strdup("physdev"));
    if (chain == NWF_IP_TO_VM) {
        if (bridged)
            g_ptr_array_add(args, g_strdup("--physdev-is-bridged"));
        g_ptr_array_add(args, g_strdup("--physdev-out"));
    } else {
        g_ptr_array_add(args, g_strdup("--physdev-in"));
    }
    g_ptr_array_add(args, g_strdup(ifname));
}

static const char *
ipt_base_chain(NwfIpChain chain)
{
    static const char *const names[] = { "libvirt-in", "libvirt-out", "libvirt-host-in" };

    return names[chain];
}

static void
ipt_hook_cmd(GPtrArray *cmds, NwfFwTool tool, const char *op, NwfIpChain chain,
             const char *ifname, gboolean bridged, gboolean temp)
{
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(args, g_strdup(op));
    g_ptr_array_add(args, g_strdup(ipt_base_chain(chain)));
    ipt_hook_args(args, chain, ifname, bridged);
    g_ptr_array_add(args, g_strdup("-g"));
    g_ptr_array_add(args, nwf_ipt_chain(chain, temp, ifname));
    cmd_take(cmds, tool, args);
}

/* libvirt handles the chains in the order FO, FI, HI here */
static const NwfIpChain ipt_setup_order[] = { NWF_IP_TO_VM, NWF_IP_FROM_VM, NWF_IP_TO_HOST };

static void
in_post_cmd(GPtrArray *cmds, NwfFwTool tool, const char *op, const char *ifname)
{
    cmd_add(cmds, tool, op, "libvirt-in-post", "-m", "physdev", "--physdev-in", ifname,
            "-j", "ACCEPT", NULL);
}

/* Unhook and remove FO/FI/HI of IFNAME (TEMP: FP/FJ/HJ); IN_POST: also its
 * libvirt-in-post ACCEPT. */
static void
ipt_drop_chains(GPtrArray *cmds, NwfFwTool tool, const char *ifname, gboolean temp,
                gboolean in_post)
{
    ipt_hook_cmd(cmds, tool, "-D", NWF_IP_TO_VM, ifname, TRUE, temp);
    ipt_hook_cmd(cmds, tool, "-D", NWF_IP_TO_VM, ifname, FALSE, temp);
    ipt_hook_cmd(cmds, tool, "-D", NWF_IP_FROM_VM, ifname, FALSE, temp);
    ipt_hook_cmd(cmds, tool, "-D", NWF_IP_TO_HOST, ifname, FALSE, temp);
    if (in_post)
        in_post_cmd(cmds, tool, "-D", ifname);
    for (guint i = 0; i < G_N_ELEMENTS(ipt_setup_order); i++) {
        g_autofree char *chain = nwf_ipt_chain(ipt_setup_order[i], temp, ifname);
        cmd_add(cmds, tool, "-F", chain, NULL);
        cmd_add(cmds, tool, "-X", chain, NULL);
    }
}

static void
ipt_create_chains(GPtrArray *cmds, NwfFwTool tool, const char *ifname)
{
    static const char *const base[] = { "libvirt-in", "libvirt-out", "libvirt-in-post", "libvirt-host-in" };
    static const char *const hook[] = { "FORWARD", "FORWARD", "FORWARD", "INPUT" };
    static const char *const pos[] = { "1", "2", "3", "1" };

    for (guint i = 0; i < G_N_ELEMENTS(base); i++)
        cmd_add(cmds, tool, "-N", base[i], NULL);
    for (guint i = 0; i < G_N_ELEMENTS(base); i++)
        cmd_add(cmds, tool, "-D", hook[i], "-j", base[i], NULL);
    for (guint i = 0; i < G_N_ELEMENTS(base); i++)
        cmd_add(cmds, tool, "-I", hook[i], pos[i], "-j", base[i], NULL);
    for (guint i = 0; i < G_N_ELEMENTS(ipt_setup_order); i++) {
        g_autofree char *chain = nwf_ipt_chain(ipt_setup_order[i], TRUE, ifname);
        cmd_add(cmds, tool, "-N", chain, NULL);
    }
    for (guint i = 0; i < G_N_ELEMENTS(ipt_setup_order); i++)
        ipt_hook_cmd(cmds, tool, "-A", ipt_setup_order[i], ifname, TRUE, TRUE);
    in_post_cmd(cmds, tool, "-D", ifname);
    in_post_cmd(cmds, tool, "-A", ifname);
}

typedef struct {
    guint seq;                   /* first: see item_seq_compare */
    NwfIpChain chain;
    const NwfRuleInst *rule;
} IptItem;

static void
ipt_emit(GPtrArray *cmds, NwfFwTool tool, const NwfIpChains *ip, const char *ifname)
{
    g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(IptItem));

    for (guint c = 0; c < NWF_IP_CHAIN_LAST; c++) {
        for (guint i = 0; i < ip->chains[c]->len; i++) {
            const NwfRuleInst *rule = g_ptr_array_index(ip->chains[c], i);
            IptItem item = { .seq = rule->seq, .chain = c, .rule = rule };
            g_array_append_val(items, item);
        }
    }
    g_array_sort(items, item_seq_compare);
    for (guint i = 0; i < items->len; i++) {
        const IptItem *item = &g_array_index(items, IptItem, i);
        g_autofree char *chain = nwf_ipt_chain(item->chain, TRUE, ifname);
        cmd_take(cmds, tool, nwf_ipt_rule_args(item->rule, item->chain, chain));
    }
}

GPtrArray *
nwf_ebiptables_script_apply(const NwfRuleProgram *program)
{
    GPtrArray *cmds = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_fw_cmd_free);
    const char *ifname = program->ifname;

    ebt_drop_roots(cmds, ifname, TRUE);
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        if (program->eth[d].present) {
            g_autofree char *root = nwf_ebt_root_chain(d, TRUE, ifname);
            cmd_add(cmds, NWF_FW_EBTABLES, "-N", root, NULL);
        }
    }
    ebt_emit(cmds, program);
    for (guint v = 0; v < NWF_IP_FAMILY_LAST; v++) {
        NwfFwTool tool = nwf_fw_tool_for_family(v);
        if (!program->ip[v].present)
            continue;
        ipt_drop_chains(cmds, tool, ifname, TRUE, FALSE);
        ipt_create_chains(cmds, tool, ifname);
        ipt_emit(cmds, tool, &program->ip[v], ifname);
    }
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        if (program->eth[d].present) {
            g_autofree char *root = nwf_ebt_root_chain(d, TRUE, ifname);
            cmd_add(cmds, NWF_FW_EBTABLES, "-A", hook_chain(d), hook_match(d), ifname,
                    "-j", root, NULL);
        }
    }
    return cmds;
}

static const NwfFwTool ip_tools[] = { NWF_FW_IPTABLES, NWF_FW_IP6TABLES };

/* Rename the temporary chains of IFNAME to their live names. */
static void
ipt_rename_chains(GPtrArray *cmds, NwfFwTool tool, const char *ifname)
{
    for (guint i = 0; i < G_N_ELEMENTS(ipt_setup_order); i++) {
        g_autofree char *temp = nwf_ipt_chain(ipt_setup_order[i], TRUE, ifname);
        g_autofree char *live = nwf_ipt_chain(ipt_setup_order[i], FALSE, ifname);
        cmd_add(cmds, tool, "-E", temp, live, NULL);
    }
}

GPtrArray *
nwf_ebiptables_script_teardown(const char *ifname, NwfEbiptablesTeardown which)
{
    GPtrArray *cmds = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_fw_cmd_free);

    switch (which) {
    case NWF_EBIPTABLES_TEAR_NEW:
    case NWF_EBIPTABLES_TEAR_ALL:
        for (guint i = 0; i < G_N_ELEMENTS(ip_tools); i++)
            ipt_drop_chains(cmds, ip_tools[i], ifname, TRUE, FALSE);
        ebt_drop_roots(cmds, ifname, TRUE);
        if (which == NWF_EBIPTABLES_TEAR_NEW)
            break;
        for (guint i = 0; i < G_N_ELEMENTS(ip_tools); i++)
            ipt_drop_chains(cmds, ip_tools[i], ifname, FALSE, TRUE);
        ebt_drop_roots(cmds, ifname, FALSE);
        break;
    case NWF_EBIPTABLES_TEAR_OLD:
        for (guint i = 0; i < G_N_ELEMENTS(ip_tools); i++) {
            ipt_drop_chains(cmds, ip_tools[i], ifname, FALSE, FALSE);
            ipt_rename_chains(cmds, ip_tools[i], ifname);
        }
        ebt_drop_roots(cmds, ifname, FALSE);
        for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
            g_autofree char *temp = nwf_ebt_root_chain(d, TRUE, ifname);
            cmd_add(cmds, NWF_FW_EBTABLES, "-L", temp, NULL);
        }
        for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
            g_autofree char *temp = nwf_ebt_root_chain(d, TRUE, ifname);
            g_autofree char *live = nwf_ebt_root_chain(d, FALSE, ifname);
            cmd_add(cmds, NWF_FW_EBTABLES, "-E", temp, live, NULL);
        }
        break;
    case NWF_EBIPTABLES_TEAR_EBT:
        ebt_drop_roots(cmds, ifname, FALSE);
        ebt_drop_roots(cmds, ifname, TRUE);
        break;
    }
    return cmds;
}

GPtrArray *
nwf_ebiptables_script_learning(const NwfRuleProgram *program)
{
    const char *ifname = program->ifname;
    GPtrArray *cmds = nwf_ebiptables_script_teardown(ifname, NWF_EBIPTABLES_TEAR_ALL);

    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        g_autofree char *root = nwf_ebt_root_chain(d, TRUE, ifname);
        if (program->eth[d].present)
            cmd_add(cmds, NWF_FW_EBTABLES, "-N", root, NULL);
    }
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        const NwfEthChains *eth = &program->eth[d];
        g_autofree char *root = nwf_ebt_root_chain(d, TRUE, ifname);
        for (guint i = 0; eth->present && i < eth->entries->len; i++) {
            const NwfEthEntry *entry = g_ptr_array_index(eth->entries, i);
            if (entry->kind == NWF_ETH_ENTRY_RULE)
                cmd_take(cmds, NWF_FW_EBTABLES, nwf_ebt_rule_args(entry->rule, root));
        }
    }
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        g_autofree char *root = nwf_ebt_root_chain(d, TRUE, ifname);
        if (program->eth[d].present)
            cmd_add(cmds, NWF_FW_EBTABLES, "-A", hook_chain(d), hook_match(d), ifname,
                    "-j", root, NULL);
    }
    for (guint d = 0; d < NWF_ETH_DIR_LAST; d++) {
        g_autofree char *temp = nwf_ebt_root_chain(d, TRUE, ifname);
        g_autofree char *live = nwf_ebt_root_chain(d, FALSE, ifname);
        if (program->eth[d].present)
            cmd_add(cmds, NWF_FW_EBTABLES, "-E", temp, live, NULL);
    }
    return cmds;
}

char *
nwf_shell_quote(const char *arg)
{
    GString *out;

    /* libvirt quotes only arguments holding shell metacharacters */
    if (*arg && !strpbrk(arg, "\r\t\n !\"#$&'()*;<>?[\\]^`{|}~"))
        return g_strdup(arg);
    out = g_string_new("'");
    for (const char *p = arg; *p; p++) {
        if (*p == '\'')
            g_string_append(out, "'\\''");
        else
            g_string_append_c(out, *p);
    }
    g_string_append_c(out, '\'');
    return g_string_free(out, FALSE);
}

char *
nwf_ebiptables_script_format(GPtrArray *cmds, gboolean one_line)
{
    GString *out = g_string_new(NULL);

    for (guint c = 0; c < cmds->len; c++) {
        g_autoptr(GPtrArray) argv = nwf_fw_cmd_argv(g_ptr_array_index(cmds, c));
        for (guint i = 0; i < argv->len; i++) {
            const char *arg = g_ptr_array_index(argv, i);
            g_autofree char *quoted = nwf_shell_quote(arg);
            if (i > 0)
                g_string_append(out, arg[0] == '-' && !one_line ? " \\\n" : " ");
            g_string_append(out, quoted);
        }
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}
