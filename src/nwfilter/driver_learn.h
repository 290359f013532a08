/* driver_learn: IP address learning (learn.h) inside the driver. The
 * driver compiles a binding through nwf_driver_learn_compile(); when the
 * tree needs IP and/or IPV6 and the binding does not give them, learning
 * starts and the port gets the learning-phase rules (learn_rules.h) until
 * addresses are known, then the real program with the learned addresses.
 * Each change of a port's addresses re-applies its binding through
 * nwf_driver_binding_reapply(), in one backend transaction, from a thread
 * of its own (never blocking the main loop on the driver lock).
 *
 * While one family is known and the other still being learned, the tree is
 * compiled with the unspecified address (0.0.0.0 or ::) standing in for the
 * missing one: the full filter is in force, and for the missing family the
 * guest can only send what address configuration sends from the
 * unspecified address (DHCP DISCOVER, DAD). :: also stays in IPV6 once
 * IPv6 addresses are known, so that DAD for further addresses works. */
#pragma once

#include <glib.h>

#include "conf/binding_def.h"
#include "nwfilter/compile.h"
#include "nwfilter/driver.h"

typedef struct _NwfDriverLearn NwfDriverLearn;

/* Learned addresses are kept in LEASE_DIR/nwfilter.leases; a learner runs
 * on the default main context. Changes re-apply through DRIVER. */
NwfDriverLearn *nwf_driver_learn_new(NwfDriver *driver, const char *lease_dir, GError **error);
void nwf_driver_learn_free(NwfDriverLearn *learn);

/* BINDING's program: compiled with its learned addresses, or the
 * learning-phase program while they are not known (learning started if
 * needed), or drop-all when learning cannot start on the device. Trees
 * that need nothing learned compile as usual (and stop any learning left
 * for the port); other compile errors are returned as they are. */
NwfRuleProgram *nwf_driver_learn_compile(NwfDriverLearn *learn, const NwfBindingDef *binding,
                                         NwfFilterLookupFunc lookup, gpointer lookup_data,
                                         GError **error);

/* The rest of nwf_driver_learn_compile() for BINDING, whose compile
 * without learned values failed with INFO saying it needs IP and/or IPV6:
 * learning started, the learning-phase program or the one with the
 * learned addresses. */
NwfRuleProgram *nwf_driver_learn_compile_learned(NwfDriverLearn *learn,
                                                 const NwfBindingDef *binding,
                                                 const NwfCompileInfo *info,
                                                 NwfFilterLookupFunc lookup,
                                                 gpointer lookup_data, GError **error);

/* BINDING compiled on its own, without learned values (what
 * nwf_driver_learn_compile() tries first): stop any learning left for its
 * port, as nwf_driver_learn_compile() does then. */
void nwf_driver_learn_compiled(NwfDriverLearn *learn, const NwfBindingDef *binding);

/* The binding of PORTDEV is gone: stop learning and forget what its
 * traffic taught (DHCP leases stay until they expire). */
void nwf_driver_learn_forget(NwfDriverLearn *learn, const char *portdev);

/* BINDING is deleted, or dropped at start because its device has gone:
 * as nwf_driver_learn_forget(), and what its VM's traffic taught is
 * forgotten even when its port was not being learned (the device absent
 * since the daemon started), so the VM's next binding learns afresh. */
void nwf_driver_learn_drop_binding(NwfDriverLearn *learn, const NwfBindingDef *binding);

/* Whether PORTDEV's traffic is being snooped (its packet socket is open). */
gboolean nwf_driver_learn_running(NwfDriverLearn *learn, const char *portdev);
