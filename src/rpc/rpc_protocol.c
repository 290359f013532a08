#include "config.h"

#include "rpc/rpc_protocol.h"

static bool_t
codec_nwfilter(XDR *xdrs, void *obj)
{
    NwfRpcNwfilter *f = obj;

    return nwf_xdr_nstr(xdrs, &f->name) && nwf_xdr_uuid(xdrs, f->uuid);
}

static bool_t
codec_binding(XDR *xdrs, void *obj)
{
    NwfRpcBinding *b = obj;

    return nwf_xdr_nstr(xdrs, &b->portdev) && nwf_xdr_nstr(xdrs, &b->filtername);
}

static bool_t
codec_error(XDR *xdrs, void *obj)
{
    NwfRpcError *e = obj;

    return nwf_xdr_i32(xdrs, &e->code) &&
           nwf_xdr_i32(xdrs, &e->domain) &&
           nwf_xdr_ostr(xdrs, &e->message) &&
           nwf_xdr_i32(xdrs, &e->level) &&
           nwf_xdr_null_pointer(xdrs) &&
           nwf_xdr_ostr(xdrs, &e->str1) &&
           nwf_xdr_ostr(xdrs, &e->str2) &&
           nwf_xdr_ostr(xdrs, &e->str3) &&
           nwf_xdr_i32(xdrs, &e->int1) &&
           nwf_xdr_i32(xdrs, &e->int2) &&
           nwf_xdr_null_pointer(xdrs);
}

static bool_t
codec_string(XDR *xdrs, void *obj)
{
    return nwf_xdr_nstr(xdrs, &((NwfRpcString *)obj)->str);
}

static bool_t
codec_uuid(XDR *xdrs, void *obj)
{
    return nwf_xdr_uuid(xdrs, ((NwfRpcUuid *)obj)->uuid);
}

static bool_t
codec_int_value(XDR *xdrs, void *obj)
{
    if (xdrs->x_op == XDR_FREE)
        return TRUE;
    return nwf_xdr_i32(xdrs, &((NwfRpcInt *)obj)->value);
}

static bool_t
codec_hyper_value(XDR *xdrs, void *obj)
{
    if (xdrs->x_op == XDR_FREE)
        return TRUE;
    return nwf_xdr_u64(xdrs, &((NwfRpcHyper *)obj)->value);
}

/* The integer fields that follow a handle or string need no freeing. */
#define XDR_FLAGS(xdrs, field) ((xdrs)->x_op == XDR_FREE || nwf_xdr_u32((xdrs), &(field)))

static bool_t
codec_nwfilter_flags(XDR *xdrs, void *obj)
{
    NwfRpcNwfilterFlags *a = obj;

    return codec_nwfilter(xdrs, &a->nwfilter) && XDR_FLAGS(xdrs, a->flags);
}

static bool_t
codec_binding_flags(XDR *xdrs, void *obj)
{
    NwfRpcBindingFlags *a = obj;

    return codec_binding(xdrs, &a->binding) && XDR_FLAGS(xdrs, a->flags);
}

static bool_t
codec_xml_flags(XDR *xdrs, void *obj)
{
    NwfRpcXmlFlags *a = obj;

    return nwf_xdr_nstr(xdrs, &a->xml) && XDR_FLAGS(xdrs, a->flags);
}

static bool_t
codec_open_args(XDR *xdrs, void *obj)
{
    NwfRpcOpenArgs *a = obj;

    return nwf_xdr_ostr(xdrs, &a->name) && XDR_FLAGS(xdrs, a->flags);
}

static bool_t
codec_list_all_args(XDR *xdrs, void *obj)
{
    NwfRpcListAllArgs *a = obj;

    if (xdrs->x_op == XDR_FREE)
        return TRUE;
    return nwf_xdr_i32(xdrs, &a->need_results) && nwf_xdr_u32(xdrs, &a->flags);
}

static bool_t
codec_nwfilter_list(XDR *xdrs, void *obj)
{
    NwfRpcNwfilterList *r = obj;

    return nwf_xdr_vector(xdrs, (void **)&r->items, &r->count, NWF_RPC_NWFILTER_LIST_MAX,
                          sizeof(NwfRpcNwfilter), codec_nwfilter) &&
           XDR_FLAGS(xdrs, r->ret);
}

static bool_t
codec_binding_list(XDR *xdrs, void *obj)
{
    NwfRpcBindingList *r = obj;

    return nwf_xdr_vector(xdrs, (void **)&r->items, &r->count, NWF_RPC_NWFILTER_LIST_MAX,
                          sizeof(NwfRpcBinding), codec_binding) &&
           XDR_FLAGS(xdrs, r->ret);
}

static bool_t
codec_name(XDR *xdrs, void *obj)
{
    return nwf_xdr_nstr(xdrs, (char **)obj);
}

static bool_t
codec_name_list(XDR *xdrs, void *obj)
{
    NwfRpcNameList *r = obj;

    return nwf_xdr_vector(xdrs, (void **)&r->names, &r->count, NWF_RPC_NWFILTER_LIST_MAX,
                          sizeof(char *), codec_name);
}

static bool_t
codec_auth_type(XDR *xdrs, void *obj)
{
    return xdrs->x_op == XDR_FREE || nwf_xdr_i32(xdrs, obj);
}

static bool_t
codec_auth_list(XDR *xdrs, void *obj)
{
    NwfRpcAuthList *r = obj;

    return nwf_xdr_vector(xdrs, (void **)&r->types, &r->count, NWF_RPC_AUTH_TYPE_LIST_MAX,
                          sizeof(gint32), codec_auth_type);
}

static bool_t
codec_typed_param(XDR *xdrs, void *obj)
{
    NwfRpcTypedParam *p = obj;

    if (!nwf_xdr_nstr(xdrs, &p->field))
        return FALSE;
    if (xdrs->x_op == XDR_FREE)
        return p->type != NWF_RPC_PARAM_STRING || nwf_xdr_nstr(xdrs, &p->value.s);
    if (!nwf_xdr_i32(xdrs, &p->type))
        return FALSE;
    switch ((NwfRpcParamType)p->type) {
    case NWF_RPC_PARAM_INT:
    case NWF_RPC_PARAM_BOOLEAN:
        return nwf_xdr_i32(xdrs, &p->value.i);
    case NWF_RPC_PARAM_UINT:
        return nwf_xdr_u32(xdrs, &p->value.ui);
    case NWF_RPC_PARAM_LLONG:
        return nwf_xdr_i64(xdrs, &p->value.l);
    case NWF_RPC_PARAM_ULLONG:
        return nwf_xdr_u64(xdrs, &p->value.ul);
    case NWF_RPC_PARAM_DOUBLE:
        return xdr_double(xdrs, &p->value.d);
    case NWF_RPC_PARAM_STRING:
        return nwf_xdr_nstr(xdrs, &p->value.s);
    }
    /* An unknown type leaves the union empty, so a later free is safe. */
    p->type = 0;
    return FALSE;
}

static bool_t
codec_identity_args(XDR *xdrs, void *obj)
{
    NwfRpcIdentityArgs *a = obj;

    return nwf_xdr_vector(xdrs, (void **)&a->params, &a->count, NWF_RPC_IDENTITY_PARAMS_MAX,
                          sizeof(NwfRpcTypedParam), codec_typed_param) &&
           XDR_FLAGS(xdrs, a->flags);
}

#define CODEC(var, type, fn) \
    const NwfRpcCodec var = { #type, sizeof(type), fn }

const NwfRpcCodec nwf_rpc_codec_void = { "void", 0, NULL };
CODEC(nwf_rpc_codec_error, NwfRpcError, codec_error);
CODEC(nwf_rpc_codec_string, NwfRpcString, codec_string);
CODEC(nwf_rpc_codec_uuid, NwfRpcUuid, codec_uuid);
CODEC(nwf_rpc_codec_int, NwfRpcInt, codec_int_value);
CODEC(nwf_rpc_codec_hyper, NwfRpcHyper, codec_hyper_value);
CODEC(nwf_rpc_codec_nwfilter, NwfRpcNwfilter, codec_nwfilter);
CODEC(nwf_rpc_codec_binding, NwfRpcBinding, codec_binding);
CODEC(nwf_rpc_codec_nwfilter_flags, NwfRpcNwfilterFlags, codec_nwfilter_flags);
CODEC(nwf_rpc_codec_binding_flags, NwfRpcBindingFlags, codec_binding_flags);
CODEC(nwf_rpc_codec_xml_flags, NwfRpcXmlFlags, codec_xml_flags);
CODEC(nwf_rpc_codec_open_args, NwfRpcOpenArgs, codec_open_args);
CODEC(nwf_rpc_codec_list_all_args, NwfRpcListAllArgs, codec_list_all_args);
CODEC(nwf_rpc_codec_nwfilter_list, NwfRpcNwfilterList, codec_nwfilter_list);
CODEC(nwf_rpc_codec_binding_list, NwfRpcBindingList, codec_binding_list);
CODEC(nwf_rpc_codec_name_list, NwfRpcNameList, codec_name_list);
CODEC(nwf_rpc_codec_auth_list, NwfRpcAuthList, codec_auth_list);
CODEC(nwf_rpc_codec_identity_args, NwfRpcIdentityArgs, codec_identity_args);

#define VOID (&nwf_rpc_codec_void)
#define PROC(id, args, ret) { NWF_PROC_##id, #id, args, ret }

static const NwfRpcProcInfo procedures[] = {
    PROC(CONNECT_OPEN, &nwf_rpc_codec_open_args, VOID),
    PROC(CONNECT_CLOSE, VOID, VOID),
    PROC(CONNECT_GET_TYPE, VOID, &nwf_rpc_codec_string),
    PROC(CONNECT_GET_VERSION, VOID, &nwf_rpc_codec_hyper),
    PROC(CONNECT_GET_HOSTNAME, VOID, &nwf_rpc_codec_string),
    PROC(CONNECT_SUPPORTS_FEATURE, &nwf_rpc_codec_int, &nwf_rpc_codec_int),
    PROC(AUTH_LIST, VOID, &nwf_rpc_codec_auth_list),
    PROC(CONNECT_GET_URI, VOID, &nwf_rpc_codec_string),
    PROC(CONNECT_IS_SECURE, VOID, &nwf_rpc_codec_int),
    PROC(CONNECT_GET_LIB_VERSION, VOID, &nwf_rpc_codec_hyper),
    PROC(NWFILTER_LOOKUP_BY_NAME, &nwf_rpc_codec_string, &nwf_rpc_codec_nwfilter),
    PROC(NWFILTER_LOOKUP_BY_UUID, &nwf_rpc_codec_uuid, &nwf_rpc_codec_nwfilter),
    PROC(NWFILTER_GET_XML_DESC, &nwf_rpc_codec_nwfilter_flags, &nwf_rpc_codec_string),
    PROC(CONNECT_NUM_OF_NWFILTERS, VOID, &nwf_rpc_codec_int),
    PROC(CONNECT_LIST_NWFILTERS, &nwf_rpc_codec_int, &nwf_rpc_codec_name_list),
    PROC(NWFILTER_DEFINE_XML, &nwf_rpc_codec_string, &nwf_rpc_codec_nwfilter),
    PROC(NWFILTER_UNDEFINE, &nwf_rpc_codec_nwfilter, VOID),
    PROC(CONNECT_LIST_ALL_NWFILTERS, &nwf_rpc_codec_list_all_args, &nwf_rpc_codec_nwfilter_list),
    PROC(CONNECT_REGISTER_CLOSE_CALLBACK, VOID, VOID),
    PROC(CONNECT_UNREGISTER_CLOSE_CALLBACK, VOID, VOID),
    PROC(NWFILTER_BINDING_LOOKUP_BY_PORT_DEV, &nwf_rpc_codec_string, &nwf_rpc_codec_binding),
    PROC(NWFILTER_BINDING_GET_XML_DESC, &nwf_rpc_codec_binding_flags, &nwf_rpc_codec_string),
    PROC(NWFILTER_BINDING_CREATE_XML, &nwf_rpc_codec_xml_flags, &nwf_rpc_codec_binding),
    PROC(NWFILTER_BINDING_DELETE, &nwf_rpc_codec_binding, VOID),
    PROC(CONNECT_LIST_ALL_NWFILTER_BINDINGS, &nwf_rpc_codec_list_all_args, &nwf_rpc_codec_binding_list),
    PROC(CONNECT_SET_IDENTITY, &nwf_rpc_codec_identity_args, VOID),
    PROC(NWFILTER_DEFINE_XML_FLAGS, &nwf_rpc_codec_xml_flags, &nwf_rpc_codec_nwfilter),
};

const NwfRpcProcInfo *
nwf_rpc_proc_info(gint32 proc)
{
    for (gsize i = 0; i < G_N_ELEMENTS(procedures); i++) {
        if (procedures[i].proc == proc)
            return &procedures[i];
    }
    return NULL;
}
