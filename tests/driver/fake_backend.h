/* An in-memory backend for driver tests: a "kernel" (port -> fingerprint of
 * the program applied) that outlives driver instances, a log of every
 * backend call, and switches to make commits fail or to offer port_matches. */
#pragma once

#include <glib.h>

#include "nwfilter/backend.h"

typedef struct {
    GHashTable *ports;     /* ifname -> fingerprint of the applied program */
    GPtrArray *log;        /* "begin", "set IF", "remove IF", "commit", "abort", "fail" */
    gboolean fail_commit;
    guint commits;
} FakeKernel;

FakeKernel *fake_kernel_new(void);
void fake_kernel_free(FakeKernel *kernel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeKernel, fake_kernel_free)

/* The log as one string, entries joined with ", ", then cleared. */
char *fake_kernel_take_log(FakeKernel *kernel);

/* A backend on KERNEL (not owned). WITH_MATCHES: offer port_matches. */
NwfBackend *fake_backend_new(FakeKernel *kernel, gboolean with_matches);

/* A text that changes whenever the rules of PROGRAM change. */
char *fake_program_fingerprint(const NwfRuleProgram *program);
