#include "config.h"

#include <string.h>

#include "daemon/nwfilterd_dispatch.h"

static void
filter_out(NwfFilterInfo *info, NwfRpcNwfilter *out)
{
    out->name = g_steal_pointer(&info->name);
    memcpy(out->uuid, info->uuid, 16);
    nwf_filter_info_free(info);
}

static void
binding_out(const NwfBindingDef *def, NwfRpcBinding *out)
{
    out->portdev = g_strdup(def->portdev);
    out->filtername = g_strdup(def->filterref.filter);
}

static guint
op_filter_count(gpointer driver)
{
    return nwf_driver_filter_count(driver);
}

static GPtrArray *
op_filter_list(gpointer driver)
{
    g_autoptr(GPtrArray) infos = nwf_driver_filter_list(driver);
    GPtrArray *out = g_ptr_array_new_full(infos->len, nwf_rpc_nwfilter_free);

    for (guint i = 0; i < infos->len; i++) {
        const NwfFilterInfo *info = infos->pdata[i];
        NwfRpcNwfilter *f = g_new0(NwfRpcNwfilter, 1);

        f->name = g_strdup(info->name);
        memcpy(f->uuid, info->uuid, 16);
        g_ptr_array_add(out, f);
    }
    return out;
}

static gboolean
op_filter_lookup_by_name(gpointer driver, const char *name, NwfRpcNwfilter *out, GError **error)
{
    NwfFilterInfo *info = nwf_driver_filter_lookup_by_name(driver, name, error);

    if (!info)
        return FALSE;
    filter_out(info, out);
    return TRUE;
}

static gboolean
op_filter_lookup_by_uuid(gpointer driver, const guint8 uuid[16], NwfRpcNwfilter *out,
                         GError **error)
{
    NwfFilterInfo *info = nwf_driver_filter_lookup_by_uuid(driver, uuid, error);

    if (!info)
        return FALSE;
    filter_out(info, out);
    return TRUE;
}

static gboolean
op_filter_define(gpointer driver, const char *xml, gboolean validate, NwfRpcNwfilter *out,
                 GError **error)
{
    NwfFilterInfo *info = nwf_driver_filter_define(driver, xml, validate, error);

    if (!info)
        return FALSE;
    filter_out(info, out);
    return TRUE;
}

static gboolean
op_filter_undefine(gpointer driver, const guint8 uuid[16], GError **error)
{
    return nwf_driver_filter_undefine(driver, uuid, error);
}

static char *
op_filter_get_xml(gpointer driver, const guint8 uuid[16], GError **error)
{
    return nwf_driver_filter_get_xml(driver, uuid, error);
}

static GPtrArray *
op_binding_list(gpointer driver)
{
    g_autoptr(GPtrArray) defs = nwf_driver_binding_list(driver);
    GPtrArray *out = g_ptr_array_new_full(defs->len, nwf_rpc_binding_free);

    for (guint i = 0; i < defs->len; i++) {
        NwfRpcBinding *b = g_new0(NwfRpcBinding, 1);

        binding_out(defs->pdata[i], b);
        g_ptr_array_add(out, b);
    }
    return out;
}

static gboolean
op_binding_lookup(gpointer driver, const char *portdev, NwfRpcBinding *out, GError **error)
{
    g_autoptr(NwfBindingDef) def = nwf_driver_binding_lookup(driver, portdev, error);

    if (!def)
        return FALSE;
    binding_out(def, out);
    return TRUE;
}

static gboolean
op_binding_create(gpointer driver, const char *xml, gboolean validate, NwfRpcBinding *out,
                  GError **error)
{
    g_autoptr(NwfBindingDef) def = nwf_driver_binding_create(driver, xml, validate, error);

    if (!def)
        return FALSE;
    binding_out(def, out);
    return TRUE;
}

static gboolean
op_binding_delete(gpointer driver, const char *portdev, GError **error)
{
    return nwf_driver_binding_delete(driver, portdev, error);
}

static char *
op_binding_get_xml(gpointer driver, const char *portdev, GError **error)
{
    return nwf_driver_binding_get_xml(driver, portdev, error);
}

const NwfRpcDriverOps nwf_daemon_driver_ops = {
    .filter_count = op_filter_count,
    .filter_list = op_filter_list,
    .filter_lookup_by_name = op_filter_lookup_by_name,
    .filter_lookup_by_uuid = op_filter_lookup_by_uuid,
    .filter_define = op_filter_define,
    .filter_undefine = op_filter_undefine,
    .filter_get_xml = op_filter_get_xml,
    .binding_list = op_binding_list,
    .binding_lookup = op_binding_lookup,
    .binding_create = op_binding_create,
    .binding_delete = op_binding_delete,
    .binding_get_xml = op_binding_get_xml,
};
