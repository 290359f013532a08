/* The filter store: every defined filter, by name and by uuid, persisted as
 * <config dir>/<name>.xml (0600, dir 0700) with durable atomic writes. It
 * enforces libvirt's define rules (uuid/name conflicts, no loops) and answers
 * tree questions (which filters a top-level filter reaches). Not locked: the
 * driver serializes access. */
#pragma once

#include <glib.h>

#include "conf/nwfilter_def.h"

typedef struct _NwfFilterStore NwfFilterStore;

NwfFilterStore *nwf_filter_store_new(const char *dir);
void nwf_filter_store_free(NwfFilterStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfFilterStore, nwf_filter_store_free)

/* Load every "*.xml" of the dir (created 0700 when missing), in name order.
 * A file must hold the filter it is named after; a file without a uuid gets
 * one, written back. Unparsable files, name mismatches, uuid/name conflicts
 * and loops are logged and skipped. FALSE only when the dir is unusable. */
gboolean nwf_filter_store_load(NwfFilterStore *store, GError **error);

const char *nwf_filter_store_dir(const NwfFilterStore *store);
guint nwf_filter_store_count(const NwfFilterStore *store);
const NwfFilterDef *nwf_filter_store_lookup(const NwfFilterStore *store, const char *name);
const NwfFilterDef *nwf_filter_store_lookup_uuid(const NwfFilterStore *store, const guint8 uuid[16]);
/* const NwfFilterDef*, sorted by name. */
GPtrArray *nwf_filter_store_list(const NwfFilterStore *store);

/* libvirt's define checks, in its order: same uuid with another name, same
 * name with another uuid, then a loop through the stored filters. */
gboolean nwf_filter_store_check_define(const NwfFilterStore *store, const NwfFilterDef *def,
                                       GError **error);

/* Whether the tree of the filter named TOP reaches the filter named NAME
 * (TOP itself included), resolving names through the store with OVERRIDE
 * (may be NULL) in place of the stored filter of the same name. Missing
 * filters end their branch. */
gboolean nwf_filter_store_tree_contains(const NwfFilterStore *store, const char *top,
                                        const char *name, const NwfFilterDef *override);

/* Write DEF's config file, then make DEF (taken over) the current
 * definition of its name. On failure nothing changes. */
gboolean nwf_filter_store_save(NwfFilterStore *store, NwfFilterDef *def, GError **error);

/* Remove NAME's config file, then forget it. On failure nothing changes. */
gboolean nwf_filter_store_delete(NwfFilterStore *store, const char *name, GError **error);

/* The config file text for DEF: a "do not edit" header, then its XML. */
char *nwf_filter_store_format_file(const NwfFilterDef *def);
