/* The binding store: every live binding, keyed by port device, persisted as
 * <state dir>/<portdev>.xml status files (0600, dir 0700) with durable
 * atomic writes, in libvirt's <filterbindingstatus> form. Not locked: the
 * driver serializes access. */
#pragma once

#include <glib.h>

#include "conf/binding_def.h"

typedef struct _NwfBindingStore NwfBindingStore;

NwfBindingStore *nwf_binding_store_new(const char *dir);
void nwf_binding_store_free(NwfBindingStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfBindingStore, nwf_binding_store_free)

/* Load every "*.xml" status file of the dir (created 0700 when missing).
 * Unparsable files and files not named after their port device are logged
 * and skipped. FALSE only when the dir is unusable. */
gboolean nwf_binding_store_load(NwfBindingStore *store, GError **error);

guint nwf_binding_store_count(const NwfBindingStore *store);
const NwfBindingDef *nwf_binding_store_lookup(const NwfBindingStore *store, const char *portdev);
/* The stored binding of PORTDEV for an in-memory change (nothing is
 * written: nwf_binding_store_save persists), or NULL. */
NwfBindingDef *nwf_binding_store_lookup_for_update(NwfBindingStore *store, const char *portdev);
/* const NwfBindingDef*, sorted by port dev. */
GPtrArray *nwf_binding_store_list(const NwfBindingStore *store);

/* Write DEF's status file, then make DEF (taken over) the binding of its
 * port. On failure nothing changes. */
gboolean nwf_binding_store_save(NwfBindingStore *store, NwfBindingDef *def, GError **error);

/* Remove PORTDEV's status file, then forget it. On failure nothing changes. */
gboolean nwf_binding_store_delete(NwfBindingStore *store, const char *portdev, GError **error);
