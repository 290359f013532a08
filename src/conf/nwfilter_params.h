/* Filter parameters: variable name -> ordered list of string values (a name
 * given several times is a list). Used by <filterref>, bindings and compile. */
#pragma once

#include <glib.h>

typedef struct _NwfParams NwfParams;

NwfParams *nwf_params_new(void);
NwfParams *nwf_params_copy(const NwfParams *params);
void nwf_params_free(NwfParams *params);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfParams, nwf_params_free)

/* Append VALUE to NAME's list. Returns FALSE (and stores nothing) when the
 * name or value fails libvirt's charset rules (name [A-Za-z0-9_]+, value
 * [A-Za-z0-9_.:]+). */
gboolean nwf_params_add(NwfParams *params, const char *name, const char *value);

/* Replace NAME's list by a copy of VALUES (char*, may be empty to remove). */
void nwf_params_set(NwfParams *params, const char *name, const GPtrArray *values);

/* NAME's values (char*), or NULL when absent. Owned by PARAMS. */
const GPtrArray *nwf_params_get(const NwfParams *params, const char *name);

gboolean nwf_params_has(const NwfParams *params, const char *name);
guint nwf_params_size(const NwfParams *params);

/* Names sorted with strcmp (the dumpxml order). Free with g_ptr_array_unref;
 * the strings are owned by PARAMS. */
GPtrArray *nwf_params_sorted_names(const NwfParams *params);

/* A new set: BASE's entries, then every entry of OVER replacing BASE's. */
NwfParams *nwf_params_overlay(const NwfParams *base, const NwfParams *over);

gboolean nwf_params_name_valid(const char *name);
gboolean nwf_params_value_valid(const char *value);
