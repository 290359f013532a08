/* The real apply of the ebiptables backend (batched *-restore runs). */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"

/* What one port should become: PROGRAM's rules, or nothing (remove). Plans
 * are rendered when queued, so the program need not outlive the call. */
typedef struct _NwfEbiptablesPlan NwfEbiptablesPlan;

NwfEbiptablesPlan *nwf_ebiptables_plan_set(const NwfRuleProgram *program, GError **error);
NwfEbiptablesPlan *nwf_ebiptables_plan_remove(const char *ifname, GError **error);
void nwf_ebiptables_plan_free(NwfEbiptablesPlan *plan);

/* Refuse interface names that cannot safely become part of chain names. */
gboolean nwf_ebiptables_ifname_check(const char *ifname, GError **error);

/* Apply every plan (NwfEbiptablesPlan*) make-before-break; on failure the
 * ports keep their previous rules and the error names the failing tool run
 * and the batch line it refused. */
gboolean nwf_ebiptables_apply(GPtrArray *plans, GError **error);

/* FALSE with an error when a save/restore tool is missing. */
gboolean nwf_ebiptables_tools_probe(GError **error);
