/* Drift check of the ebiptables backend (backend_ebiptables_check.c). */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"

/* *MATCHES: the kernel holds PROGRAM's port as the backend applies it
 * (chains, hooks, rule count and verdicts per chain). FALSE with an error
 * when the state cannot be read. */
gboolean nwf_ebiptables_port_matches(const NwfRuleProgram *program, gboolean *matches,
                                     GError **error);
