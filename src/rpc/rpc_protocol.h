/* The subset of libvirt's remote protocol an nwfilter daemon speaks
 * (spec/libvirt-rpc.md): numbers, message header, payload types and the
 * table that says which payload each procedure carries. */
#pragma once

#include <glib.h>

#include "rpc/rpc_xdr.h"

#define NWF_RPC_PROGRAM_REMOTE 0x20008086u
#define NWF_RPC_PROGRAM_KEEPALIVE 0x6b656570u
#define NWF_RPC_PROTOCOL_VERSION 1u

#define NWF_RPC_KEEPALIVE_PING 1
#define NWF_RPC_KEEPALIVE_PONG 2

/* List limits of the protocol (REMOTE_*_MAX). */
#define NWF_RPC_NWFILTER_LIST_MAX 16384u
#define NWF_RPC_AUTH_TYPE_LIST_MAX 20u
#define NWF_RPC_IDENTITY_PARAMS_MAX 20u

typedef enum {
    NWF_RPC_TYPE_CALL = 0,
    NWF_RPC_TYPE_REPLY = 1,
    NWF_RPC_TYPE_MESSAGE = 2,
    NWF_RPC_TYPE_STREAM = 3,
    NWF_RPC_TYPE_CALL_WITH_FDS = 4,
    NWF_RPC_TYPE_REPLY_WITH_FDS = 5,
    NWF_RPC_TYPE_STREAM_HOLE = 6,
} NwfRpcType;

typedef enum {
    NWF_RPC_STATUS_OK = 0,
    NWF_RPC_STATUS_ERROR = 1,
    NWF_RPC_STATUS_CONTINUE = 2,
} NwfRpcStatus;

/* REMOTE program procedures used by nwfilter clients. */
typedef enum {
    NWF_PROC_CONNECT_OPEN = 1,
    NWF_PROC_CONNECT_CLOSE = 2,
    NWF_PROC_CONNECT_GET_TYPE = 3,
    NWF_PROC_CONNECT_GET_VERSION = 4,
    NWF_PROC_CONNECT_GET_HOSTNAME = 59,
    NWF_PROC_CONNECT_SUPPORTS_FEATURE = 60,
    NWF_PROC_AUTH_LIST = 66,
    NWF_PROC_CONNECT_GET_URI = 110,
    NWF_PROC_CONNECT_IS_SECURE = 149,
    NWF_PROC_CONNECT_GET_LIB_VERSION = 157,
    NWF_PROC_NWFILTER_LOOKUP_BY_NAME = 175,
    NWF_PROC_NWFILTER_LOOKUP_BY_UUID = 176,
    NWF_PROC_NWFILTER_GET_XML_DESC = 177,
    NWF_PROC_CONNECT_NUM_OF_NWFILTERS = 178,
    NWF_PROC_CONNECT_LIST_NWFILTERS = 179,
    NWF_PROC_NWFILTER_DEFINE_XML = 180,
    NWF_PROC_NWFILTER_UNDEFINE = 181,
    NWF_PROC_CONNECT_LIST_ALL_NWFILTERS = 286,
    NWF_PROC_CONNECT_REGISTER_CLOSE_CALLBACK = 360,
    NWF_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK = 361,
    NWF_PROC_NWFILTER_BINDING_LOOKUP_BY_PORT_DEV = 397,
    NWF_PROC_NWFILTER_BINDING_GET_XML_DESC = 398,
    NWF_PROC_NWFILTER_BINDING_CREATE_XML = 399,
    NWF_PROC_NWFILTER_BINDING_DELETE = 400,
    NWF_PROC_CONNECT_LIST_ALL_NWFILTER_BINDINGS = 401,
    NWF_PROC_CONNECT_SET_IDENTITY = 419,
    NWF_PROC_NWFILTER_DEFINE_XML_FLAGS = 431,
} NwfRpcProc;

/* CONNECT_SUPPORTS_FEATURE feature numbers this server knows of. */
#define NWF_RPC_FEATURE_PROGRAM_KEEPALIVE 10
#define NWF_RPC_FEATURE_REMOTE_EVENT_CALLBACK 14
#define NWF_RPC_FEATURE_REMOTE_CLOSE_CALLBACK 15

/* CONNECT_OPEN flag: read-only connection (VIR_CONNECT_RO). */
#define NWF_RPC_CONNECT_RO 1u

typedef struct {
    guint32 prog;
    guint32 vers;
    gint32 proc;
    guint32 type;
    guint32 serial;
    guint32 status;
} NwfRpcHeader;

/* remote_nonnull_nwfilter */
typedef struct {
    char *name;
    guint8 uuid[16];
} NwfRpcNwfilter;

/* remote_nonnull_nwfilter_binding */
typedef struct {
    char *portdev;
    char *filtername;
} NwfRpcBinding;

/* remote_error; dom and net are always NULL here. */
typedef struct {
    gint32 code;
    gint32 domain;
    char *message;
    gint32 level;
    char *str1;
    char *str2;
    char *str3;
    gint32 int1;
    gint32 int2;
} NwfRpcError;

/* A lone string (names, xml, uri, type). */
typedef struct {
    char *str;
} NwfRpcString;

typedef struct {
    guint8 uuid[16];
} NwfRpcUuid;

/* A lone int (feature, supported, num, maxnames, secure). */
typedef struct {
    gint32 value;
} NwfRpcInt;

typedef struct {
    guint64 value;
} NwfRpcHyper;

typedef struct {
    NwfRpcNwfilter nwfilter;
    guint32 flags;
} NwfRpcNwfilterFlags;

typedef struct {
    NwfRpcBinding binding;
    guint32 flags;
} NwfRpcBindingFlags;

typedef struct {
    char *xml;
    guint32 flags;
} NwfRpcXmlFlags;

typedef struct {
    char *name;           /* NULL allowed */
    guint32 flags;
} NwfRpcOpenArgs;

typedef struct {
    gint32 need_results;
    guint32 flags;
} NwfRpcListAllArgs;

typedef struct {
    guint count;
    NwfRpcNwfilter *items;
    guint32 ret;
} NwfRpcNwfilterList;

typedef struct {
    guint count;
    NwfRpcBinding *items;
    guint32 ret;
} NwfRpcBindingList;

typedef struct {
    guint count;
    char **names;
} NwfRpcNameList;

typedef struct {
    guint count;
    gint32 *types;
} NwfRpcAuthList;

/* remote_typed_param value types */
typedef enum {
    NWF_RPC_PARAM_INT = 1,
    NWF_RPC_PARAM_UINT = 2,
    NWF_RPC_PARAM_LLONG = 3,
    NWF_RPC_PARAM_ULLONG = 4,
    NWF_RPC_PARAM_DOUBLE = 5,
    NWF_RPC_PARAM_BOOLEAN = 6,
    NWF_RPC_PARAM_STRING = 7,
} NwfRpcParamType;

typedef struct {
    char *field;
    gint32 type;
    union {
        gint32 i;
        guint32 ui;
        gint64 l;
        guint64 ul;
        double d;
        char *s;
    } value;
} NwfRpcTypedParam;

typedef struct {
    guint count;
    NwfRpcTypedParam *params;
    guint32 flags;
} NwfRpcIdentityArgs;

extern const NwfRpcCodec nwf_rpc_codec_void;
extern const NwfRpcCodec nwf_rpc_codec_error;
extern const NwfRpcCodec nwf_rpc_codec_string;
extern const NwfRpcCodec nwf_rpc_codec_uuid;
extern const NwfRpcCodec nwf_rpc_codec_int;
extern const NwfRpcCodec nwf_rpc_codec_hyper;
extern const NwfRpcCodec nwf_rpc_codec_nwfilter;
extern const NwfRpcCodec nwf_rpc_codec_binding;
extern const NwfRpcCodec nwf_rpc_codec_nwfilter_flags;
extern const NwfRpcCodec nwf_rpc_codec_binding_flags;
extern const NwfRpcCodec nwf_rpc_codec_xml_flags;
extern const NwfRpcCodec nwf_rpc_codec_open_args;
extern const NwfRpcCodec nwf_rpc_codec_list_all_args;
extern const NwfRpcCodec nwf_rpc_codec_nwfilter_list;
extern const NwfRpcCodec nwf_rpc_codec_binding_list;
extern const NwfRpcCodec nwf_rpc_codec_name_list;
extern const NwfRpcCodec nwf_rpc_codec_auth_list;
extern const NwfRpcCodec nwf_rpc_codec_identity_args;

/* What a REMOTE procedure carries. */
typedef struct {
    gint32 proc;
    const char *name;          /* e.g. "NWFILTER_DEFINE_XML" */
    const NwfRpcCodec *args;
    const NwfRpcCodec *ret;
} NwfRpcProcInfo;

/* NULL for a procedure outside the subset. */
const NwfRpcProcInfo *nwf_rpc_proc_info(gint32 proc);
