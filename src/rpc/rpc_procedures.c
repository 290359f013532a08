#include "config.h"

#include <string.h>

#include "rpc/rpc_procedures.h"

/* libvirt 9.0.0 as major * 1000000 + minor * 1000 + micro. */
#define LIBVIRT_COMPAT_VERSION 9000000

/* VIR_NWFILTER_DEFINE_VALIDATE, VIR_NWFILTER_BINDING_CREATE_VALIDATE */
#define FLAG_VALIDATE 1u

/* VIR_FROM_DOMAIN: where libvirtd reports APIs this driver lacks. */
#define DOMAIN_DOMAIN 20

void
nwf_rpc_nwfilter_free(gpointer nwfilter)
{
    NwfRpcNwfilter *f = nwfilter;

    if (!f)
        return;
    g_free(f->name);
    g_free(f);
}

void
nwf_rpc_binding_free(gpointer binding)
{
    NwfRpcBinding *b = binding;

    if (!b)
        return;
    g_free(b->portdev);
    g_free(b->filtername);
    g_free(b);
}

void
nwf_rpc_session_clear(NwfRpcSession *session)
{
    g_clear_pointer(&session->uri, g_free);
}

/* ---- connection-level procedures (main loop) ---- */

static gboolean
do_auth_list(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    NwfRpcAuthList *r = ret;

    /* REMOTE_AUTH_NONE: access is governed by the socket permissions. */
    r->count = 1;
    r->types = g_new0(gint32, 1);
    return TRUE;
}

static gboolean
do_supports_feature(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    const NwfRpcInt *a = args;
    NwfRpcInt *r = ret;

    /* Keepalive is negotiated before CONNECT_OPEN; every other feature
     * needs an open connection, as with libvirtd. */
    if (a->value == NWF_RPC_FEATURE_PROGRAM_KEEPALIVE) {
        s->keepalive = TRUE;
        r->value = 1;
        return TRUE;
    }
    if (!s->opened) {
        nwf_rpc_error_set(err, NWF_ERR_INTERNAL_ERROR, NWF_DOMAIN_RPC,
                          "hypervisor connection not open");
        return FALSE;
    }
    r->value = a->value == NWF_RPC_FEATURE_REMOTE_EVENT_CALLBACK ||
               a->value == NWF_RPC_FEATURE_REMOTE_CLOSE_CALLBACK;
    return TRUE;
}

static gboolean
do_open(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    const NwfRpcOpenArgs *a = args;
    g_autofree char *scheme = NULL;
    g_autofree char *path = NULL;

    if (s->opened) {
        nwf_rpc_error_set(err, NWF_ERR_INTERNAL_ERROR, NWF_DOMAIN_RPC, "connection already open");
        return FALSE;
    }
    if (!a->name) {
        nwf_rpc_error_set(err, NWF_ERR_INTERNAL_ERROR, NWF_DOMAIN_RPC, "connection not open");
        return FALSE;
    }
    /* An empty name asks for the default driver: this one. */
    if (a->name[0]) {
        if (!g_uri_split(a->name, G_URI_FLAGS_NONE, &scheme, NULL, NULL, NULL, &path,
                         NULL, NULL, NULL) ||
            !scheme || g_ascii_strcasecmp(scheme, "nwfilter") != 0) {
            nwf_rpc_error_set(err, NWF_ERR_NO_CONNECT, NWF_DOMAIN_NONE, a->name);
            return FALSE;
        }
        if (g_strcmp0(path, "/system") != 0) {
            g_autofree char *detail =
                g_strdup_printf("unexpected nwfilter URI path '%s', try nwfilter:///system",
                                path ? path : "");
            nwf_rpc_error_set(err, NWF_ERR_INTERNAL_ERROR, NWF_DOMAIN_NWFILTER, detail);
            return FALSE;
        }
    }
    s->opened = TRUE;
    s->readonly = s->readonly_socket || (a->flags & NWF_RPC_CONNECT_RO);
    s->uri = g_strdup(a->name[0] ? a->name : "nwfilter:///system");
    return TRUE;
}

static gboolean
do_close(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    s->close_requested = TRUE;
    return TRUE;
}

static gboolean
do_nothing(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    return TRUE;
}

static gboolean
do_get_type(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    ((NwfRpcString *)ret)->str = g_strdup("nwfilter");
    return TRUE;
}

static gboolean
do_get_uri(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    ((NwfRpcString *)ret)->str = g_strdup(s->uri);
    return TRUE;
}

static gboolean
do_is_secure(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    /* A local Unix socket. */
    ((NwfRpcInt *)ret)->value = 1;
    return TRUE;
}

static gboolean
do_get_lib_version(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    ((NwfRpcHyper *)ret)->value = LIBVIRT_COMPAT_VERSION;
    return TRUE;
}

static gboolean
do_get_version(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    nwf_rpc_error_set(err, NWF_ERR_NO_SUPPORT, DOMAIN_DOMAIN, "virConnectGetVersion");
    return FALSE;
}

static gboolean
do_get_hostname(NwfRpcSession *s, const void *args, void *ret, NwfRpcError *err)
{
    nwf_rpc_error_set(err, NWF_ERR_NO_SUPPORT, DOMAIN_DOMAIN, "virConnectGetHostname");
    return FALSE;
}

/* ---- nwfilter procedures (worker thread) ---- */

static gboolean
driver_failed(NwfRpcError *err, GError *error)
{
    nwf_rpc_error_set_gerror(err, error);
    g_error_free(error);
    return FALSE;
}

static gboolean
drv_lookup_by_name(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                   NwfRpcError *err)
{
    GError *error = NULL;

    if (!ops->filter_lookup_by_name(drv, ((const NwfRpcString *)args)->str, ret, &error))
        return driver_failed(err, error);
    return TRUE;
}

static gboolean
drv_lookup_by_uuid(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                   NwfRpcError *err)
{
    GError *error = NULL;

    if (!ops->filter_lookup_by_uuid(drv, ((const NwfRpcUuid *)args)->uuid, ret, &error))
        return driver_failed(err, error);
    return TRUE;
}

static gboolean
drv_get_xml_desc(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                 NwfRpcError *err)
{
    const NwfRpcNwfilterFlags *a = args;
    GError *error = NULL;
    char *xml;

    if (a->flags) {
        nwf_rpc_error_set_flags(err, a->flags, "nwfilterGetXMLDesc");
        return FALSE;
    }
    xml = ops->filter_get_xml(drv, a->nwfilter.uuid, &error);
    if (!xml)
        return driver_failed(err, error);
    ((NwfRpcString *)ret)->str = xml;
    return TRUE;
}

static gboolean
drv_num_of_nwfilters(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                     NwfRpcError *err)
{
    ((NwfRpcInt *)ret)->value = (gint32)MIN(ops->filter_count(drv), (guint)G_MAXINT32);
    return TRUE;
}

static gboolean
drv_list_nwfilters(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                   NwfRpcError *err)
{
    gint32 maxnames = ((const NwfRpcInt *)args)->value;
    NwfRpcNameList *r = ret;
    g_autoptr(GPtrArray) all = NULL;

    if (maxnames > (gint32)NWF_RPC_NWFILTER_LIST_MAX) {
        nwf_rpc_error_set_rpc(err, "maxnames > REMOTE_NWFILTER_LIST_MAX");
        return FALSE;
    }
    if (maxnames < 0) {
        nwf_rpc_error_set(err, NWF_ERR_INVALID_ARG, NWF_DOMAIN_NWFILTER,
                          "maxnames in virConnectListNWFilters must be greater than or equal to 0");
        return FALSE;
    }
    all = ops->filter_list(drv);
    r->count = MIN(all->len, (guint)maxnames);
    r->names = g_new0(char *, r->count + 1);
    for (guint i = 0; i < r->count; i++)
        r->names[i] = g_strdup(((NwfRpcNwfilter *)all->pdata[i])->name);
    return TRUE;
}

static gboolean
list_too_long(NwfRpcError *err, guint len, const char *what)
{
    if (len <= NWF_RPC_NWFILTER_LIST_MAX)
        return FALSE;
    nwf_rpc_error_set_rpc(err, "Too many %s '%u' for limit '%u'", what, len,
                          NWF_RPC_NWFILTER_LIST_MAX);
    return TRUE;
}

static gboolean
drv_list_all_nwfilters(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                       NwfRpcError *err)
{
    const NwfRpcListAllArgs *a = args;
    NwfRpcNwfilterList *r = ret;
    g_autoptr(GPtrArray) all = NULL;

    if (a->flags) {
        nwf_rpc_error_set_flags(err, a->flags, "nwfilterConnectListAllNWFilters");
        return FALSE;
    }
    all = ops->filter_list(drv);
    if (list_too_long(err, all->len, "nwfilters"))
        return FALSE;
    r->ret = all->len;
    if (!a->need_results)
        return TRUE;
    r->count = all->len;
    r->items = g_new0(NwfRpcNwfilter, all->len + 1);
    for (guint i = 0; i < all->len; i++) {
        NwfRpcNwfilter *f = all->pdata[i];

        r->items[i].name = g_strdup(f->name);
        memcpy(r->items[i].uuid, f->uuid, 16);
    }
    return TRUE;
}

static gboolean
drv_define(const NwfRpcDriverOps *ops, gpointer drv, const char *xml, gboolean validate,
           void *ret, NwfRpcError *err)
{
    GError *error = NULL;

    if (!ops->filter_define(drv, xml, validate, ret, &error))
        return driver_failed(err, error);
    return TRUE;
}

static gboolean
drv_define_xml(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
               NwfRpcError *err)
{
    return drv_define(ops, drv, ((const NwfRpcString *)args)->str, FALSE, ret, err);
}

static gboolean
drv_define_xml_flags(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                     NwfRpcError *err)
{
    const NwfRpcXmlFlags *a = args;

    if (a->flags & ~FLAG_VALIDATE) {
        nwf_rpc_error_set_flags(err, a->flags, "nwfilterDefineXMLFlags");
        return FALSE;
    }
    return drv_define(ops, drv, a->xml, (a->flags & FLAG_VALIDATE) != 0, ret, err);
}

static gboolean
drv_undefine(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
             NwfRpcError *err)
{
    GError *error = NULL;

    if (!ops->filter_undefine(drv, ((const NwfRpcNwfilter *)args)->uuid, &error))
        return driver_failed(err, error);
    return TRUE;
}

static gboolean
drv_binding_lookup(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                   NwfRpcError *err)
{
    GError *error = NULL;

    if (!ops->binding_lookup(drv, ((const NwfRpcString *)args)->str, ret, &error))
        return driver_failed(err, error);
    return TRUE;
}

static gboolean
drv_binding_get_xml_desc(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                         NwfRpcError *err)
{
    const NwfRpcBindingFlags *a = args;
    GError *error = NULL;
    char *xml;

    if (a->flags) {
        nwf_rpc_error_set_flags(err, a->flags, "nwfilterBindingGetXMLDesc");
        return FALSE;
    }
    xml = ops->binding_get_xml(drv, a->binding.portdev, &error);
    if (!xml)
        return driver_failed(err, error);
    ((NwfRpcString *)ret)->str = xml;
    return TRUE;
}

static gboolean
drv_binding_create(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                   NwfRpcError *err)
{
    const NwfRpcXmlFlags *a = args;
    GError *error = NULL;

    if (a->flags & ~FLAG_VALIDATE) {
        nwf_rpc_error_set_flags(err, a->flags, "nwfilterBindingCreateXML");
        return FALSE;
    }
    if (!ops->binding_create(drv, a->xml, (a->flags & FLAG_VALIDATE) != 0, ret, &error))
        return driver_failed(err, error);
    return TRUE;
}

static gboolean
drv_binding_delete(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                   NwfRpcError *err)
{
    GError *error = NULL;

    if (!ops->binding_delete(drv, ((const NwfRpcBinding *)args)->portdev, &error))
        return driver_failed(err, error);
    return TRUE;
}

static gboolean
drv_list_all_bindings(const NwfRpcDriverOps *ops, gpointer drv, const void *args, void *ret,
                      NwfRpcError *err)
{
    const NwfRpcListAllArgs *a = args;
    NwfRpcBindingList *r = ret;
    g_autoptr(GPtrArray) all = NULL;

    if (a->flags) {
        nwf_rpc_error_set_flags(err, a->flags, "nwfilterConnectListAllNWFilterBindings");
        return FALSE;
    }
    all = ops->binding_list(drv);
    if (list_too_long(err, all->len, "nwfilter bindings"))
        return FALSE;
    r->ret = all->len;
    if (!a->need_results)
        return TRUE;
    r->count = all->len;
    r->items = g_new0(NwfRpcBinding, all->len + 1);
    for (guint i = 0; i < all->len; i++) {
        NwfRpcBinding *b = all->pdata[i];

        r->items[i].portdev = g_strdup(b->portdev);
        r->items[i].filtername = g_strdup(b->filtername);
    }
    return TRUE;
}

#define LOCAL(id, needs, fn) { NWF_PROC_##id, needs, NULL, fn, NULL }
#define DRIVER(id, write_api, fn) { NWF_PROC_##id, NWF_RPC_NEEDS_CONN, write_api, NULL, fn }

static const NwfRpcProcedure procedures[] = {
    LOCAL(AUTH_LIST, NWF_RPC_NEEDS_NOTHING, do_auth_list),
    LOCAL(CONNECT_SUPPORTS_FEATURE, NWF_RPC_NEEDS_NOTHING, do_supports_feature),
    LOCAL(CONNECT_OPEN, NWF_RPC_NEEDS_NOTHING, do_open),
    LOCAL(CONNECT_CLOSE, NWF_RPC_NEEDS_NOTHING, do_close),
    LOCAL(CONNECT_SET_IDENTITY, NWF_RPC_NEEDS_NOTHING, do_nothing),
    LOCAL(CONNECT_REGISTER_CLOSE_CALLBACK, NWF_RPC_NEEDS_CONN, do_nothing),
    LOCAL(CONNECT_UNREGISTER_CLOSE_CALLBACK, NWF_RPC_NEEDS_CONN, do_nothing),
    LOCAL(CONNECT_GET_TYPE, NWF_RPC_NEEDS_HYPERVISOR, do_get_type),
    LOCAL(CONNECT_GET_URI, NWF_RPC_NEEDS_HYPERVISOR, do_get_uri),
    LOCAL(CONNECT_IS_SECURE, NWF_RPC_NEEDS_HYPERVISOR, do_is_secure),
    LOCAL(CONNECT_GET_LIB_VERSION, NWF_RPC_NEEDS_HYPERVISOR, do_get_lib_version),
    LOCAL(CONNECT_GET_VERSION, NWF_RPC_NEEDS_HYPERVISOR, do_get_version),
    LOCAL(CONNECT_GET_HOSTNAME, NWF_RPC_NEEDS_HYPERVISOR, do_get_hostname),
    DRIVER(NWFILTER_LOOKUP_BY_NAME, NULL, drv_lookup_by_name),
    DRIVER(NWFILTER_LOOKUP_BY_UUID, NULL, drv_lookup_by_uuid),
    DRIVER(NWFILTER_GET_XML_DESC, NULL, drv_get_xml_desc),
    DRIVER(CONNECT_NUM_OF_NWFILTERS, NULL, drv_num_of_nwfilters),
    DRIVER(CONNECT_LIST_NWFILTERS, NULL, drv_list_nwfilters),
    DRIVER(NWFILTER_DEFINE_XML, "virNWFilterDefineXML", drv_define_xml),
    DRIVER(NWFILTER_DEFINE_XML_FLAGS, "virNWFilterDefineXMLFlags", drv_define_xml_flags),
    DRIVER(NWFILTER_UNDEFINE, "virNWFilterUndefine", drv_undefine),
    DRIVER(CONNECT_LIST_ALL_NWFILTERS, NULL, drv_list_all_nwfilters),
    DRIVER(NWFILTER_BINDING_LOOKUP_BY_PORT_DEV, NULL, drv_binding_lookup),
    DRIVER(NWFILTER_BINDING_GET_XML_DESC, NULL, drv_binding_get_xml_desc),
    DRIVER(NWFILTER_BINDING_CREATE_XML, "virNWFilterBindingCreateXML", drv_binding_create),
    DRIVER(NWFILTER_BINDING_DELETE, "virNWFilterBindingDelete", drv_binding_delete),
    DRIVER(CONNECT_LIST_ALL_NWFILTER_BINDINGS, NULL, drv_list_all_bindings),
};

const NwfRpcProcedure *
nwf_rpc_procedure_find(gint32 proc)
{
    for (gsize i = 0; i < G_N_ELEMENTS(procedures); i++) {
        if (procedures[i].proc == proc)
            return &procedures[i];
    }
    return NULL;
}

gboolean
nwf_rpc_procedure_check(const NwfRpcProcedure *proc, const NwfRpcSession *session,
                        NwfRpcError *err)
{
    if (!session->opened && proc->needs != NWF_RPC_NEEDS_NOTHING) {
        nwf_rpc_error_set(err, NWF_ERR_INTERNAL_ERROR, NWF_DOMAIN_RPC,
                          proc->needs == NWF_RPC_NEEDS_HYPERVISOR ?
                          "hypervisor connection not open" : "connection not open");
        return FALSE;
    }
    if (proc->write_api && session->readonly) {
        g_autofree char *detail = g_strdup_printf("read only access prevents %s", proc->write_api);

        nwf_rpc_error_set(err, NWF_ERR_OPERATION_DENIED, NWF_DOMAIN_NWFILTER, detail);
        return FALSE;
    }
    return TRUE;
}
