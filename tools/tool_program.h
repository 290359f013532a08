/* Shared by `nwfilter compile`, `apply` and `trace`-like commands: turn
 * command-line options (a binding file, or a single filter file for a port)
 * plus filter directories into a rule program. */
#pragma once

#include <glib.h>

#include "nwfilter/backend.h"
#include "nwfilter/compile.h"
#include "nwfilter/rule_program.h"

typedef struct {
    char *binding;               /* --binding FILE */
    char *filter;                /* --filter FILE (libvirt's test harness mode) */
    char *port;                  /* --port DEV, with --filter */
    char *mac;                   /* --mac MAC, with --filter */
    char **filter_dirs;          /* --filter-dir DIR, repeatable */
    char **vars;                 /* --var NAME=VALUE, repeatable; repeat = list */
    gboolean no_stock;           /* --no-stock-filters */
} NwfToolProgramOptions;

/* GOptionEntry list for the options above (NULL-terminated, static). */
const GOptionEntry *nwf_tool_program_entries(NwfToolProgramOptions *opts);

/* Parse ARGV (from the subcommand name on) into OPTS, *BACKEND (the
 * --backend value, NULL when absent; BACKEND_HELP describes it) and
 * *COUNTERS (--counters). Arguments that are not options go to REST (char*,
 * owned); with REST NULL they are an error. Prints the problem and returns
 * FALSE on bad usage. */
gboolean nwf_tool_program_parse(int argc, char **argv, const char *summary,
                                const char *backend_help, char **backend, gboolean *counters,
                                NwfToolProgramOptions *opts, GPtrArray *rest);

/* Give every rule BACKEND installs or prints a counter when COUNTERS
 * (--counters) or NWF_NFT_COUNTERS=1 (the switch of earlier versions) asks
 * for it. Only the nftables backend counts: --counters with another backend
 * is an error, the environment variable is ignored there. */
gboolean nwf_tool_program_set_counters(NwfBackend *backend, gboolean counters, GError **error);

void nwf_tool_program_options_clear(NwfToolProgramOptions *opts);

/* Add each NAME=VALUE of VARS (--var) to PARAMS; a repeated name makes a
 * list. */
gboolean nwf_tool_program_parse_vars(char **vars, NwfParams *params, GError **error);

/* Compile what OPTS name. INFO (may be NULL) as for nwf_compile(). */
NwfRuleProgram *nwf_tool_program_compile(const NwfToolProgramOptions *opts,
                                         NwfCompileInfo *info, GError **error);
