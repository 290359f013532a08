/* Filters for the offline tools (compile, apply, status, trace,
 * fingerprint): looked up by name as DIR/NAME.xml in a list of directories,
 * first hit wins, each file parsed once. The list normally ends with the
 * stock filter directory. */
#pragma once

#include <glib.h>

#include "conf/nwfilter_def.h"

typedef struct _NwfTraceFilters NwfTraceFilters;

/* DIRS: NULL-terminated, searched in order. The first DIR/NAME.xml that
 * exists decides: a file that does not parse, or holds another filter, makes
 * the lookup fail (see _error). */
NwfTraceFilters *nwf_trace_filters_new(const char *const *dirs);

/* The same, except that such a file is passed over (the first problem is
 * still kept for _error) and the search goes on in the next directory, so
 * a stock filter stands in for a broken copy. */
NwfTraceFilters *nwf_trace_filters_new_lenient(const char *const *dirs);
void nwf_trace_filters_free(NwfTraceFilters *filters);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfTraceFilters, nwf_trace_filters_free)

/* An NwfFilterLookupFunc (compile.h): the filter NAME, or NULL when no
 * directory has a usable file of it (see _error). */
const NwfFilterDef *nwf_trace_filters_lookup(const char *name, gpointer filters);

/* Make DEF (taken over) the filter of its name, ahead of the directories
 * (e.g. a filter fetched from a running daemon). */
void nwf_trace_filters_add(NwfTraceFilters *filters, NwfFilterDef *def);

/* The first file error a lookup hit (unparsable file, name mismatch), or
 * NULL. Owned by FILTERS. */
const GError *nwf_trace_filters_error(const NwfTraceFilters *filters);

/* The default directory list: the stock filters of the source tree when
 * running from it, else the installed ones. */
const char *nwf_trace_filters_stock_dir(void);
