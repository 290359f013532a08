/* Filters for the offline tools (trace, fingerprint): looked up by name as
 * DIR/NAME.xml in a list of directories, first hit wins, each file parsed
 * once. The list normally ends with the stock filter directory. */
#pragma once

#include <glib.h>

#include "conf/nwfilter_def.h"

typedef struct _NwfTraceFilters NwfTraceFilters;

/* DIRS: NULL-terminated, searched in order. */
NwfTraceFilters *nwf_trace_filters_new(const char *const *dirs);
void nwf_trace_filters_free(NwfTraceFilters *filters);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfTraceFilters, nwf_trace_filters_free)

/* An NwfFilterLookupFunc (compile.h): the filter NAME, or NULL when no
 * directory has it or its file does not parse (see _error). */
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
