/* The nwfilter driver: the API nwfilterd serves over RPC. It owns the filter
 * store (config dir), the binding store (state dir) and a backend, and keeps
 * the kernel in line with them. Every call is safe to make from the daemon's
 * main loop thread; long work (re-instantiating many bindings) never blocks
 * binding create/delete of unrelated ports for long.
 *
 * Errors are NWF_ERROR with libvirt's codes and messages (spec/libvirt-rpc.md
 * §5), e.g. NWF_ERR_NO_NWFILTER "no nwfilter with matching name 'x'". */
#pragma once

#include <glib.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_def.h"
#include "nwfilter/backend.h"

typedef struct _NwfDriver NwfDriver;

/* Whether the network device PORTDEV exists now. */
typedef gboolean (*NwfPortExistsFunc)(const char *portdev, gpointer data);

typedef struct {
    const char *config_dir;   /* filters: default /etc/libvirt/nwfilter */
    const char *state_dir;    /* bindings: default /run/libvirt/nwfilter-binding */
    /* Learned addresses (driver_learn.h), in LEASE_DIR/nwfilter.leases
     * (libvirt: /run/libvirt/network). NULL: no IP address learning; a
     * tree that needs IP or IPV6 then fails to bind. */
    const char *lease_dir;
    NwfBackend *backend;      /* owned by the driver from then on */
    /* Device presence test; NULL means if_nametoindex() in the current
     * network namespace. Tests substitute their own. */
    NwfPortExistsFunc port_exists;
    gpointer port_exists_data;
} NwfDriverConfig;

/* Load every filter of the config dir (files named after their filter; a
 * file without uuid gets one and is written back) and every binding of the
 * state dir, then bring the kernel in line (rules already in place and
 * unchanged are left alone). Invalid files are logged and skipped. */
NwfDriver *nwf_driver_new(const NwfDriverConfig *config, GError **error);
void nwf_driver_free(NwfDriver *driver);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfDriver, nwf_driver_free)

/* A filter as the API sees it (name + uuid). */
typedef struct {
    char *name;
    guint8 uuid[16];
} NwfFilterInfo;
void nwf_filter_info_free(NwfFilterInfo *info);

/* Filters */
guint nwf_driver_filter_count(NwfDriver *driver);
/* NwfFilterInfo*, sorted by name. */
GPtrArray *nwf_driver_filter_list(NwfDriver *driver);
NwfFilterInfo *nwf_driver_filter_lookup_by_name(NwfDriver *driver, const char *name, GError **error);
NwfFilterInfo *nwf_driver_filter_lookup_by_uuid(NwfDriver *driver, const guint8 uuid[16], GError **error);
/* Define or redefine from XML. VALIDATE: check against the RNG schema first.
 * A redefinition re-instantiates every affected binding in one backend
 * transaction; on any failure nothing changes. */
NwfFilterInfo *nwf_driver_filter_define(NwfDriver *driver, const char *xml, gboolean validate, GError **error);
gboolean nwf_driver_filter_undefine(NwfDriver *driver, const guint8 uuid[16], GError **error);
char *nwf_driver_filter_get_xml(NwfDriver *driver, const guint8 uuid[16], GError **error);

/* Bindings (keyed by port device) */
/* NwfBindingDef* copies, sorted by port dev. */
GPtrArray *nwf_driver_binding_list(NwfDriver *driver);
NwfBindingDef *nwf_driver_binding_lookup(NwfDriver *driver, const char *portdev, GError **error);
NwfBindingDef *nwf_driver_binding_create(NwfDriver *driver, const char *xml, gboolean validate, GError **error);
gboolean nwf_driver_binding_delete(NwfDriver *driver, const char *portdev, GError **error);
char *nwf_driver_binding_get_xml(NwfDriver *driver, const char *portdev, GError **error);

/* Whether IP address learning runs on PORTDEV now (for status and tests). */
gboolean nwf_driver_port_learning(NwfDriver *driver, const char *portdev);

/* Re-apply the binding of PORTDEV alone (its learned addresses changed).
 * A binding that no longer exists stops its address learning. */
gboolean nwf_driver_binding_reapply(NwfDriver *driver, const char *portdev, GError **error);

/* Re-read nothing, but re-apply every binding (SIGHUP, firewall reload). */
gboolean nwf_driver_reapply_all(NwfDriver *driver, GError **error);

/* Re-apply, in one backend transaction, only the bindings whose rules the
 * kernel no longer holds as compiled (the backend's port_matches; without
 * it, every binding). *N_REPAIRED: how many were re-applied. For external
 * changes: a firewall manager's reload, a flush. */
gboolean nwf_driver_repair(NwfDriver *driver, guint *n_repaired, GError **error);
