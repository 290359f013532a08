/* compile: a filter tree plus the port it is bound to, turned into a rule
 * program (rule_program.h). Pure: no I/O, no kernel; filters come through a
 * lookup callback. Errors carry libvirt's codes and messages. */
#pragma once

#include <glib.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_def.h"
#include "conf/nwfilter_params.h"
#include "nwfilter/rule_program.h"

/* The filter called NAME, or NULL when there is none. The result must stay
 * valid until the compile call returns. */
typedef const NwfFilterDef *(*NwfFilterLookupFunc)(const char *name, gpointer user_data);

/* CTRL_IP_LEARNING of the top-level parameters. */
typedef enum {
    NWF_IP_LEARNING_ANY,   /* default */
    NWF_IP_LEARNING_DHCP,
    NWF_IP_LEARNING_NONE,
} NwfIpLearning;

typedef struct {
    const char *ifname;          /* port device */
    const guint8 *mac;           /* port MAC, auto-sets $MAC; NULL: none */
    const char *filter;          /* top-level filter name */
    const NwfParams *params;     /* top-level parameters; NULL: none */
    /* Extra variables (learned IP, command-line values); they override
     * PARAMS. NULL: none. */
    const NwfParams *extra;
    NwfFilterLookupFunc lookup;
    gpointer lookup_data;
} NwfCompileInput;

/* What a failed compile needs from the caller, besides the error. */
typedef struct {
    /* TRUE when IP is the only unresolved variable and learning is not
     * 'none': the caller should learn the address and compile again. The
     * error is still set ("... unresolvable variables ...: IP"). */
    gboolean needs_ip;
    /* Beyond libvirt (learn.h): TRUE when IPV6 is unresolved and nothing but
     * IP and IPV6 is, and learning is not 'none'. needs_ip is then set too
     * when IP is also missing. The error lists IPV6, as libvirt's would. */
    gboolean needs_ipv6;
    NwfIpLearning learning;      /* the port's CTRL_IP_LEARNING */
} NwfCompileInfo;

/* Compile INPUT. INFO (may be NULL) is filled on success and on failure. */
NwfRuleProgram *nwf_compile(const NwfCompileInput *input, NwfCompileInfo *info, GError **error);

/* Compile BINDING (its portdev, MAC and filterref) with EXTRA variables
 * (may be NULL). */
NwfRuleProgram *nwf_compile_binding(const NwfBindingDef *binding, NwfFilterLookupFunc lookup,
                                    gpointer lookup_data, const NwfParams *extra,
                                    NwfCompileInfo *info, GError **error);

/* BINDINGS[i] compiled into PROGRAMS[i] for every i < N, without extra
 * variables, on up to THREADS threads (compiling is pure: LOOKUP must be
 * safe to call from several threads at once, e.g. a hash table nobody
 * writes meanwhile). PROGRAMS[i] is NULL where compiling fails (INFOS[i],
 * when INFOS is given, says whether it needs learned addresses; compile
 * that binding alone for the error). */
void nwf_compile_bindings(const NwfBindingDef *const *bindings, guint n,
                          NwfFilterLookupFunc lookup, gpointer lookup_data, guint threads,
                          NwfRuleProgram **programs, NwfCompileInfo *infos);

/* Parse a CTRL_IP_LEARNING value (case-insensitive any/dhcp/none). */
gboolean nwf_ip_learning_parse(const char *text, NwfIpLearning *out);
