/* Drift check of the ebiptables backend (backend_ebiptables_check.c). */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"

/* *MATCHES: the kernel holds PROGRAM's port as the backend applies it
 * (chains, hooks, rule count and verdicts per chain). FALSE with an error
 * when the state cannot be read. */
gboolean nwf_ebiptables_port_matches(const NwfRuleProgram *program, gboolean *matches,
                                     GError **error);
/* The same check for every NwfRuleProgram* of PROGRAMS (MATCHES[i] for the i-th)
 * against one reading of the three tables: each *-save tool runs once per
 * call, however many ports are checked. */
gboolean nwf_ebiptables_ports_match(GPtrArray *programs, gboolean *matches, GError **error);
