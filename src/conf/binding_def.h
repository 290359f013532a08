/* The <filterbinding> model: one VM port bound to a top-level filter. */
#pragma once

#include <glib.h>

#include "conf/nwfilter_def.h"
#include "conf/nwfilter_params.h"

typedef struct {
    char *owner_name;
    guint8 owner_uuid[16];
    char *portdev;             /* the unique key */
    char *linkdev;             /* NULL unless given (macvtap) */
    guint8 mac[6];
    NwfFilterRefDef filterref; /* filter + parameters */
} NwfBindingDef;

NwfBindingDef *nwf_binding_def_parse_string(const char *xml, gssize len, GError **error);
NwfBindingDef *nwf_binding_def_parse_file(const char *path, GError **error);

/* libvirt's binding dumpxml form, ending with a newline. */
char *nwf_binding_def_format(const NwfBindingDef *def);

/* The status-file form: <filterbindingstatus> wrapping the binding, with the
 * "do not edit" header, as libvirt writes it in its state dir. */
char *nwf_binding_def_format_status(const NwfBindingDef *def);
NwfBindingDef *nwf_binding_def_parse_status_file(const char *path, GError **error);

NwfBindingDef *nwf_binding_def_copy(const NwfBindingDef *def);
void nwf_binding_def_free(NwfBindingDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfBindingDef, nwf_binding_def_free)

/* "52:54:00:..." lowercase. */
char *nwf_mac_format(const guint8 mac[6]);
