/* Internals of the ebtables/iptables/ip6tables backend. */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"

typedef enum {
    NWF_FW_EBTABLES,
    NWF_FW_IPTABLES,
    NWF_FW_IP6TABLES,
    NWF_FW_LAST
} NwfFwTool;

/* "ebtables", "iptables", "ip6tables" */
const char *nwf_fw_tool_name(NwfFwTool tool);
NwfFwTool nwf_fw_tool_for_family(NwfIpFamily family);

/* Chain names. TEMP selects the name a chain has while it is being built
 * (J/P instead of I/O). */
char *nwf_ebt_root_chain(NwfEthDir dir, gboolean temp, const char *ifname);
char *nwf_ebt_sub_chain(NwfEthDir dir, gboolean temp, const char *ifname, const char *suffix);
char *nwf_ipt_chain(NwfIpChain chain, gboolean temp, const char *ifname);

/* Arguments (after the tool's fixed options) that append RULE to CHAIN:
 * "-A", CHAIN, matches..., "-j", TARGET. Every argument is rendered from a
 * typed value, never from free text, except the comment (which compile has
 * checked to be one line of printable text). */
GPtrArray *nwf_ebt_rule_args(const NwfRuleInst *rule, const char *chain);
GPtrArray *nwf_ipt_rule_args(const NwfRuleInst *rule, NwfIpChain which, const char *chain);

/* Arguments that append to ROOT the jump into sub-chain SUB. */
GPtrArray *nwf_ebt_jump_args(const NwfEthSubChain *sub, const char *root, const char *target);

/* One tool invocation of libvirt's command sequence. */
typedef struct {
    NwfFwTool tool;
    GPtrArray *args;             /* char*, without the tool's fixed options */
} NwfFwCmd;

void nwf_fw_cmd_free(NwfFwCmd *cmd);

/* The full argv of CMD as libvirt runs it (tool name, then "--concurrent",
 * "-t", "nat" for ebtables or "-w" for ip(6)tables, then the args). */
GPtrArray *nwf_fw_cmd_argv(const NwfFwCmd *cmd);

/* libvirt's "apply new rules" sequence for PROGRAM, as a dry run records it. */
GPtrArray *nwf_ebiptables_script_apply(const NwfRuleProgram *program);

/* libvirt's command sequences of the driver's other entry points for one
 * interface, as its dry run records them (vectors/libvirt/
 * ebiptables-inline). TEAR_ALL also tells the real apply which objects
 * belong to a port. */
typedef enum {
    NWF_EBIPTABLES_TEAR_NEW,     /* tearNewRules: the temporary objects */
    NWF_EBIPTABLES_TEAR_OLD,     /* tearOldRules: drop the live ones, rename the temporary ones */
    NWF_EBIPTABLES_TEAR_ALL,     /* allTeardown: temporary and live objects */
    NWF_EBIPTABLES_TEAR_EBT,     /* removeBasicRules: the ebtables root chains only */
} NwfEbiptablesTeardown;

GPtrArray *nwf_ebiptables_script_teardown(const char *ifname, NwfEbiptablesTeardown which);

/* libvirt's learning-phase apply (applyBasicRules, applyDHCPOnlyRules,
 * applyDropAllRules) of PROGRAM, whose rules are all in ebtables root
 * chains: allTeardown, then the roots built under temporary names, hooked
 * and renamed. */
GPtrArray *nwf_ebiptables_script_learning(const NwfRuleProgram *program);

/* Commands in libvirt's dry-run text form: xml2firewall *.args, or with
 * ONE_LINE each command on one line (ebiptables-inline). */
char *nwf_ebiptables_script_format(GPtrArray *cmds, gboolean one_line);

/* ARG quoted for a POSIX shell when it needs quoting (libvirt's rules). */
char *nwf_shell_quote(const char *arg);
