/* The backend interface: a RuleProgram in, kernel state out. Backends never
 * parse XML and know nothing of filters; they render what compile decided.
 *
 * A transaction groups any number of port replacements and removals and
 * applies them all or none: on failure the kernel holds exactly what it held
 * before, and the error names the command or object that failed. */
#pragma once

#include <glib.h>

#include "nwfilter/rule_program.h"

typedef struct _NwfBackend NwfBackend;
typedef struct _NwfBackendTxn NwfBackendTxn;

typedef struct {
    const char *name;                       /* "nftables", "ebiptables" */

    /* Probe the running kernel and tools; FALSE with an error when unusable. */
    gboolean (*probe)(NwfBackend *backend, GError **error);

    /* Dry run: the exact commands / transaction text that applying PROGRAM
     * alone would run. */
    char *(*render)(NwfBackend *backend, const NwfRuleProgram *program, GError **error);

    NwfBackendTxn *(*txn_begin)(NwfBackend *backend);
    /* Replace every rule of PROGRAM's port by PROGRAM (create or update). */
    gboolean (*txn_set_port)(NwfBackendTxn *txn, const NwfRuleProgram *program, GError **error);
    /* Remove everything the backend holds for IFNAME (no error if absent). */
    gboolean (*txn_remove_port)(NwfBackendTxn *txn, const char *ifname, GError **error);
    /* Apply all or nothing. Frees TXN. */
    gboolean (*txn_commit)(NwfBackendTxn *txn, GError **error);
    void (*txn_abort)(NwfBackendTxn *txn);

    /* Whether the kernel holds exactly what PROGRAM compiles to (drift check).
     * Optional (NULL when unsupported). */
    gboolean (*port_matches)(NwfBackend *backend, const NwfRuleProgram *program,
                             gboolean *matches, GError **error);
    /* The same check for every NwfRuleProgram* of PROGRAMS against one
     * reading of the kernel: MATCHES[i] for PROGRAMS[i]. Optional; callers
     * use nwf_backend_ports_match, which falls back to port_matches. */
    gboolean (*ports_match)(NwfBackend *backend, GPtrArray *programs, gboolean *matches,
                            GError **error);

    void (*free)(NwfBackend *backend);
} NwfBackendOps;

struct _NwfBackend {
    const NwfBackendOps *ops;
};

struct _NwfBackendTxn {
    NwfBackend *backend;
};

/* Backend constructors (each in its own backend_*.c). */
NwfBackend *nwf_backend_ebiptables_new(void);
NwfBackend *nwf_backend_nft_new(void);

/* "nftables" / "ebiptables"; NULL name means the default (nftables when the
 * kernel supports it). Sets an error for unknown or unavailable backends. */
NwfBackend *nwf_backend_new_by_name(const char *name, GError **error);

/* Drift check of many ports in one round: MATCHES[i] says whether the kernel
 * holds PROGRAMS[i] (NwfRuleProgram*) as compiled. With ports_match the
 * kernel is read once for all of them, else port_matches runs per program.
 * FALSE with an error when the kernel cannot be read or the backend cannot
 * check at all. */
gboolean nwf_backend_ports_match(NwfBackend *backend, GPtrArray *programs, gboolean *matches,
                                 GError **error);
