/* What the RPC layer needs from an nwfilter driver. The daemon wires it to
 * src/nwfilter/driver.h; tests plug in a fake. Calls come from one worker
 * thread, one at a time, never from the main loop. Errors are NWF_ERROR
 * GErrors carrying libvirt's code and message. Results are the wire types:
 * strings are g_malloc'ed and owned by the caller. */
#pragma once

#include <glib.h>

#include "rpc/rpc_protocol.h"

typedef struct {
    guint (*filter_count)(gpointer driver);
    /* NwfRpcNwfilter*, freed with the array. */
    GPtrArray *(*filter_list)(gpointer driver);
    gboolean (*filter_lookup_by_name)(gpointer driver, const char *name,
                                      NwfRpcNwfilter *out, GError **error);
    gboolean (*filter_lookup_by_uuid)(gpointer driver, const guint8 uuid[16],
                                      NwfRpcNwfilter *out, GError **error);
    gboolean (*filter_define)(gpointer driver, const char *xml, gboolean validate,
                              NwfRpcNwfilter *out, GError **error);
    gboolean (*filter_undefine)(gpointer driver, const guint8 uuid[16], GError **error);
    char *(*filter_get_xml)(gpointer driver, const guint8 uuid[16], GError **error);

    /* NwfRpcBinding*, freed with the array. */
    GPtrArray *(*binding_list)(gpointer driver);
    gboolean (*binding_lookup)(gpointer driver, const char *portdev,
                               NwfRpcBinding *out, GError **error);
    gboolean (*binding_create)(gpointer driver, const char *xml, gboolean validate,
                               NwfRpcBinding *out, GError **error);
    gboolean (*binding_delete)(gpointer driver, const char *portdev, GError **error);
    char *(*binding_get_xml)(gpointer driver, const char *portdev, GError **error);
} NwfRpcDriverOps;

/* Element free functions for the lists above. */
void nwf_rpc_nwfilter_free(gpointer nwfilter);
void nwf_rpc_binding_free(gpointer binding);
