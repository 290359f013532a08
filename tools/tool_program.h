/* Shared by `nwfilter compile`, `apply` and `trace`-like commands: turn
 * command-line options (a binding file, or a single filter file for a port)
 * plus filter directories into a rule program. */
#pragma once

#include <glib.h>

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

/* Parse ARGV (from the subcommand name on) into OPTS and *BACKEND (the
 * --backend value, NULL when absent; BACKEND_HELP describes it). Arguments
 * that are not options go to REST (char*, owned); with REST NULL they are
 * an error. Prints the problem and returns FALSE on bad usage. */
gboolean nwf_tool_program_parse(int argc, char **argv, const char *summary,
                                const char *backend_help, char **backend,
                                NwfToolProgramOptions *opts, GPtrArray *rest);

void nwf_tool_program_options_clear(NwfToolProgramOptions *opts);

/* Compile what OPTS name. INFO (may be NULL) as for nwf_compile(). */
NwfRuleProgram *nwf_tool_program_compile(const NwfToolProgramOptions *opts,
                                         NwfCompileInfo *info, GError **error);
