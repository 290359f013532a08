/* The server over real Unix sockets with the fake driver: libvirt's
 * handshake replayed byte for byte from the captures, every procedure,
 * libvirt's errors, read-only refusals and keepalive. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "rpc_capture.h"
#include "rpc/rpc_procedures.h"
#include "rpc_harness.h"

#define FILTER_XML "<filter name='rp-test1' chain='root'>\n</filter>\n"
#define BINDING_XML \
    "<filterbinding><owner><name>vm1</name><uuid>d54df46f-1ab5-4a22-8618-4560ef5fac2c</uuid>" \
    "</owner><portdev name='vnet0'/><mac address='52:54:00:00:00:01'/>" \
    "<filterref filter='rp-test1'/></filterbinding>\n"

static void
assert_error(NwfRpcError *err, gint32 code, gint32 domain, const char *message)
{
    g_assert_cmpint(err->code, ==, code);
    g_assert_cmpint(err->domain, ==, domain);
    g_assert_cmpstr(err->message, ==, message);
    g_assert_cmpint(err->level, ==, 2);
    nwf_xdr_free(&nwf_rpc_codec_error, err);
}

/* Replay the client side of a libvirt capture and compare every reply the
 * driver has no say in (handshake, close, read-only refusals) byte for
 * byte with what libvirtd sent. */
static void
test_replay(gconstpointer data)
{
    const char *name = data;
    g_autofree char *dir = rpc_capture_dir();
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GPtrArray) msgs = rpc_capture_load(path);
    Harness *h = harness_start(NULL);
    /* e18/e19 went through libvirt's read-only socket. */
    gboolean ro = g_str_has_prefix(name, "e18") || g_str_has_prefix(name, "e19");
    int fd = -1;
    guint conn = 0;
    guint compared = 0;

    for (guint i = 0; i < msgs->len; i++) {
        RpcCaptureMessage *m = msgs->pdata[i];
        RpcCaptureMessage *reply = NULL;
        g_autoptr(GBytes) got = NULL;
        NwfRpcHeader hdr;
        const NwfRpcProcedure *proc;

        if (!m->from_client)
            continue;
        if (m->conn != conn) {
            if (fd >= 0)
                close(fd);
            fd = client_connect(ro ? h->ro_path : h->rw_path);
            conn = m->conn;
        }
        for (guint j = i + 1; j < msgs->len && !reply; j++) {
            RpcCaptureMessage *r = msgs->pdata[j];

            if (!r->from_client && r->conn == m->conn)
                reply = r;
        }
        g_assert_nonnull(reply);
        client_send_bytes(fd, g_bytes_get_data(m->bytes, NULL), g_bytes_get_size(m->bytes));
        got = client_recv(fd);
        g_assert_nonnull(got);
        nwf_rpc_header_decode(g_bytes_get_data(m->bytes, NULL), &hdr);
        proc = nwf_rpc_procedure_find(hdr.proc);
        g_assert_nonnull(proc);
        if (proc->local || (ro && proc->write_api)) {
            g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got),
                            g_bytes_get_data(reply->bytes, NULL),
                            g_bytes_get_size(reply->bytes));
            compared++;
        }
        if (hdr.proc == NWF_PROC_CONNECT_CLOSE)
            g_assert_true(client_wait_eof(fd));
    }
    g_assert_cmpuint(compared, >=, 3);
    if (fd >= 0)
        close(fd);
    harness_stop(h);
}

static void
test_lifecycle(void)
{
    Harness *h = harness_start(NULL);
    int fd = client_connect(h->rw_path);
    guint32 s = client_handshake(fd, "nwfilter:///system", 0);
    NwfRpcString xml = { (char *)FILTER_XML };
    NwfRpcXmlFlags bxml = { (char *)BINDING_XML, 0 };
    NwfRpcNwfilter f, f2;
    NwfRpcBinding b;
    NwfRpcString str;
    NwfRpcUuid uuid;
    NwfRpcNwfilterFlags getxml = { { 0 }, 0 };
    NwfRpcListAllArgs all = { 1, 0 };
    NwfRpcNwfilterList flist;
    NwfRpcBindingList blist;
    NwfRpcInt num;
    NwfRpcNameList names;
    NwfRpcError err;

    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_DEFINE_XML, s++, &nwf_rpc_codec_string,
                                 &xml, &nwf_rpc_codec_nwfilter, &f, NULL), ==, 0);
    g_assert_cmpstr(f.name, ==, "rp-test1");

    str.str = (char *)"rp-test1";
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_LOOKUP_BY_NAME, s++,
                                 &nwf_rpc_codec_string, &str, &nwf_rpc_codec_nwfilter, &f2,
                                 NULL), ==, 0);
    g_assert_cmpmem(f2.uuid, 16, f.uuid, 16);
    nwf_xdr_free(&nwf_rpc_codec_nwfilter, &f2);

    memcpy(uuid.uuid, f.uuid, 16);
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_LOOKUP_BY_UUID, s++, &nwf_rpc_codec_uuid,
                                 &uuid, &nwf_rpc_codec_nwfilter, &f2, NULL), ==, 0);
    g_assert_cmpstr(f2.name, ==, "rp-test1");
    nwf_xdr_free(&nwf_rpc_codec_nwfilter, &f2);

    /* Filters are identified by uuid; the name in the handle is ignored. */
    getxml.nwfilter.name = (char *)"whatever";
    memcpy(getxml.nwfilter.uuid, f.uuid, 16);
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_GET_XML_DESC, s++,
                                 &nwf_rpc_codec_nwfilter_flags, &getxml, &nwf_rpc_codec_string,
                                 &str, NULL), ==, 0);
    g_assert_cmpstr(str.str, ==, FILTER_XML);
    nwf_xdr_free(&nwf_rpc_codec_string, &str);

    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_LIST_ALL_NWFILTERS, s++,
                                 &nwf_rpc_codec_list_all_args, &all,
                                 &nwf_rpc_codec_nwfilter_list, &flist, NULL), ==, 0);
    g_assert_cmpuint(flist.count, ==, 1);
    g_assert_cmpuint(flist.ret, ==, 1);
    g_assert_cmpstr(flist.items[0].name, ==, "rp-test1");
    nwf_xdr_free(&nwf_rpc_codec_nwfilter_list, &flist);
    all.need_results = 0;
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_LIST_ALL_NWFILTERS, s++,
                                 &nwf_rpc_codec_list_all_args, &all,
                                 &nwf_rpc_codec_nwfilter_list, &flist, NULL), ==, 0);
    g_assert_cmpuint(flist.count, ==, 0);
    g_assert_cmpuint(flist.ret, ==, 1);

    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_NUM_OF_NWFILTERS, s++, &nwf_rpc_codec_void,
                                 NULL, &nwf_rpc_codec_int, &num, NULL), ==, 0);
    g_assert_cmpint(num.value, ==, 1);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_LIST_NWFILTERS, s++, &nwf_rpc_codec_int,
                                 &num, &nwf_rpc_codec_name_list, &names, NULL), ==, 0);
    g_assert_cmpuint(names.count, ==, 1);
    g_assert_cmpstr(names.names[0], ==, "rp-test1");
    nwf_xdr_free(&nwf_rpc_codec_name_list, &names);

    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_CREATE_XML, s++,
                                 &nwf_rpc_codec_xml_flags, &bxml, &nwf_rpc_codec_binding, &b,
                                 NULL), ==, 0);
    g_assert_cmpstr(b.portdev, ==, "vnet0");
    g_assert_cmpstr(b.filtername, ==, "rp-test1");
    nwf_xdr_free(&nwf_rpc_codec_binding, &b);
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_CREATE_XML, s++,
                                 &nwf_rpc_codec_xml_flags, &bxml, &nwf_rpc_codec_binding, &b,
                                 &err), ==, 1);
    assert_error(&err, 9, 33, "operation failed: binding 'vnet0' already exists");

    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_UNDEFINE, s++, &nwf_rpc_codec_nwfilter,
                                 &f, &nwf_rpc_codec_void, NULL, &err), ==, 1);
    g_assert_cmpstr(err.str1, ==, "Requested operation is not valid: %s");
    g_assert_cmpstr(err.str2, ==, "nwfilter is in use");
    assert_error(&err, 55, 33, "Requested operation is not valid: nwfilter is in use");

    str.str = (char *)"vnet0";
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_LOOKUP_BY_PORT_DEV, s++,
                                 &nwf_rpc_codec_string, &str, &nwf_rpc_codec_binding, &b, NULL),
                     ==, 0);
    g_assert_cmpstr(b.filtername, ==, "rp-test1");
    {
        NwfRpcBindingFlags bx = { b, 0 };

        g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_GET_XML_DESC, s++,
                                     &nwf_rpc_codec_binding_flags, &bx, &nwf_rpc_codec_string,
                                     &str, NULL), ==, 0);
        g_assert_cmpstr(str.str, ==, BINDING_XML);
        nwf_xdr_free(&nwf_rpc_codec_string, &str);
    }
    all.need_results = 1;
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_LIST_ALL_NWFILTER_BINDINGS, s++,
                                 &nwf_rpc_codec_list_all_args, &all,
                                 &nwf_rpc_codec_binding_list, &blist, NULL), ==, 0);
    g_assert_cmpuint(blist.count, ==, 1);
    g_assert_cmpstr(blist.items[0].portdev, ==, "vnet0");
    nwf_xdr_free(&nwf_rpc_codec_binding_list, &blist);

    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_DELETE, s++,
                                 &nwf_rpc_codec_binding, &b, &nwf_rpc_codec_void, NULL, NULL),
                     ==, 0);
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_DELETE, s++,
                                 &nwf_rpc_codec_binding, &b, &nwf_rpc_codec_void, NULL, &err),
                     ==, 1);
    assert_error(&err, 101, 33,
                 "Network filter binding not found: no nwfilter binding for port dev 'vnet0'");
    nwf_xdr_free(&nwf_rpc_codec_binding, &b);

    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_UNDEFINE, s++, &nwf_rpc_codec_nwfilter,
                                 &f, &nwf_rpc_codec_void, NULL, NULL), ==, 0);
    str.str = (char *)"rp-test1";
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_LOOKUP_BY_NAME, s++,
                                 &nwf_rpc_codec_string, &str, &nwf_rpc_codec_nwfilter, &f2,
                                 &err), ==, 1);
    g_assert_cmpstr(err.str1, ==, "Network filter not found: %s");
    g_assert_cmpstr(err.str2, ==, "no nwfilter with matching name 'rp-test1'");
    g_assert_cmpint(err.int1, ==, -1);
    assert_error(&err, 62, 33,
                 "Network filter not found: no nwfilter with matching name 'rp-test1'");

    xml.str = (char *)"<foo/>";
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_DEFINE_XML, s++, &nwf_rpc_codec_string,
                                 &xml, &nwf_rpc_codec_nwfilter, &f2, &err), ==, 1);
    assert_error(&err, 27, 5, "XML error: expecting root element of 'filter', not 'foo/'");
    nwf_xdr_free(&nwf_rpc_codec_nwfilter, &f);

    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, s++,
                                 &nwf_rpc_codec_void, NULL, &nwf_rpc_codec_void, NULL, NULL),
                     ==, 0);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_CLOSE, s++, &nwf_rpc_codec_void, NULL,
                                 &nwf_rpc_codec_void, NULL, NULL), ==, 0);
    g_assert_true(client_wait_eof(fd));
    close(fd);
    harness_stop(h);
}

/* Every write procedure, with an argument that decodes. */
static void
send_write_calls(int fd, guint32 serial, gboolean expect_denied)
{
    static const struct {
        gint32 proc;
        const char *api;
    } writes[] = {
        { NWF_PROC_NWFILTER_DEFINE_XML, "virNWFilterDefineXML" },
        { NWF_PROC_NWFILTER_DEFINE_XML_FLAGS, "virNWFilterDefineXMLFlags" },
        { NWF_PROC_NWFILTER_UNDEFINE, "virNWFilterUndefine" },
        { NWF_PROC_NWFILTER_BINDING_CREATE_XML, "virNWFilterBindingCreateXML" },
        { NWF_PROC_NWFILTER_BINDING_DELETE, "virNWFilterBindingDelete" },
    };
    NwfRpcString xml = { (char *)FILTER_XML };
    NwfRpcXmlFlags xmlf = { (char *)BINDING_XML, 0 };
    NwfRpcNwfilter f = { (char *)"x", { 0 } };
    NwfRpcBinding b = { (char *)"nodev", (char *)"x" };

    for (gsize i = 0; i < G_N_ELEMENTS(writes); i++) {
        const NwfRpcProcInfo *info = nwf_rpc_proc_info(writes[i].proc);
        const void *args = info->args == &nwf_rpc_codec_string ? (const void *)&xml :
                           info->args == &nwf_rpc_codec_xml_flags ? (const void *)&xmlf :
                           info->args == &nwf_rpc_codec_nwfilter ? (const void *)&f :
                           (const void *)&b;
        g_autofree void *ret = g_malloc0(MAX(info->ret->size, 1));
        NwfRpcError err = { 0 };
        guint32 status = client_call(fd, writes[i].proc, serial++, info->args, args,
                                     info->ret, ret, &err);
        g_autofree char *msg = g_strdup_printf("operation forbidden: read only access prevents %s",
                                               writes[i].api);

        if (expect_denied) {
            g_assert_cmpuint(status, ==, 1);
            g_assert_cmpstr(err.str1, ==, "operation forbidden: %s");
            assert_error(&err, 29, 33, msg);
        } else if (status == 0) {
            nwf_xdr_free(info->ret, ret);
        } else {
            g_assert_cmpint(err.code, !=, 29);
            nwf_xdr_free(&nwf_rpc_codec_error, &err);
        }
    }
}

static void
test_readonly(void)
{
    Harness *h = harness_start(NULL);
    int ro = client_connect(h->ro_path);
    int rwro = client_connect(h->rw_path);
    int rw = client_connect(h->rw_path);
    NwfRpcListAllArgs all = { 1, 0 };
    NwfRpcNwfilterList list;
    NwfRpcIdentityArgs ident = { 0 };
    guint calls;

    /* The -ro socket is read-only whatever OPEN's flags say. */
    send_write_calls(ro, client_handshake(ro, "nwfilter:///system", 0), TRUE);
    send_write_calls(rwro, client_handshake(rwro, "nwfilter:///system", NWF_RPC_CONNECT_RO), TRUE);
    g_assert_cmpuint(fake_driver_calls(h->fake), ==, 0);
    /* Reads and SET_IDENTITY stay allowed. */
    g_assert_cmpuint(client_call(ro, NWF_PROC_CONNECT_LIST_ALL_NWFILTERS, 100,
                                 &nwf_rpc_codec_list_all_args, &all,
                                 &nwf_rpc_codec_nwfilter_list, &list, NULL), ==, 0);
    g_assert_cmpuint(client_call(ro, NWF_PROC_CONNECT_SET_IDENTITY, 101,
                                 &nwf_rpc_codec_identity_args, &ident, &nwf_rpc_codec_void,
                                 NULL, NULL), ==, 0);
    calls = fake_driver_calls(h->fake);
    send_write_calls(rw, client_handshake(rw, "nwfilter:///system", 0), FALSE);
    g_assert_cmpuint(fake_driver_calls(h->fake), ==, calls + 5);
    close(ro);
    close(rwro);
    close(rw);
    harness_stop(h);
}

static void
test_flags(void)
{
    Harness *h = harness_start(NULL);
    int fd = client_connect(h->rw_path);
    guint32 s = client_handshake(fd, "nwfilter:///system", 0);
    NwfRpcListAllArgs all = { 1, 4 };
    NwfRpcXmlFlags xf = { (char *)FILTER_XML, 2 };
    NwfRpcNwfilterFlags nf = { { (char *)"x", { 0 } }, 1 };
    NwfRpcBindingFlags bf = { { (char *)"x", (char *)"y" }, 1 };
    NwfRpcError err;
    union {
        NwfRpcNwfilterList l;
        NwfRpcNwfilter f;
        NwfRpcString s;
        NwfRpcBinding b;
        NwfRpcBindingList bl;
    } ret;

    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_LIST_ALL_NWFILTERS, s++,
                                 &nwf_rpc_codec_list_all_args, &all,
                                 &nwf_rpc_codec_nwfilter_list, &ret, &err), ==, 1);
    g_assert_cmpstr(err.str1, ==, "nwfilterConnectListAllNWFilters");
    g_assert_cmpstr(err.str2, ==, "flags");
    g_assert_cmpint(err.int1, ==, 0);
    assert_error(&err, 8, 33, "unsupported flags (0x4) in function nwfilterConnectListAllNWFilters");
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_LIST_ALL_NWFILTER_BINDINGS, s++,
                                 &nwf_rpc_codec_list_all_args, &all,
                                 &nwf_rpc_codec_binding_list, &ret, &err), ==, 1);
    assert_error(&err, 8, 33,
                 "unsupported flags (0x4) in function nwfilterConnectListAllNWFilterBindings");
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_DEFINE_XML_FLAGS, s++,
                                 &nwf_rpc_codec_xml_flags, &xf, &nwf_rpc_codec_nwfilter, &ret,
                                 &err), ==, 1);
    assert_error(&err, 8, 33, "unsupported flags (0x2) in function nwfilterDefineXMLFlags");
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_CREATE_XML, s++,
                                 &nwf_rpc_codec_xml_flags, &xf, &nwf_rpc_codec_binding, &ret,
                                 &err), ==, 1);
    assert_error(&err, 8, 33, "unsupported flags (0x2) in function nwfilterBindingCreateXML");
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_GET_XML_DESC, s++,
                                 &nwf_rpc_codec_nwfilter_flags, &nf, &nwf_rpc_codec_string, &ret,
                                 &err), ==, 1);
    assert_error(&err, 8, 33, "unsupported flags (0x1) in function nwfilterGetXMLDesc");
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_GET_XML_DESC, s++,
                                 &nwf_rpc_codec_binding_flags, &bf, &nwf_rpc_codec_string, &ret,
                                 &err), ==, 1);
    assert_error(&err, 8, 33, "unsupported flags (0x1) in function nwfilterBindingGetXMLDesc");
    /* VALIDATE (1) is accepted by both. */
    xf.flags = 1;
    g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_DEFINE_XML_FLAGS, s++,
                                 &nwf_rpc_codec_xml_flags, &xf, &nwf_rpc_codec_nwfilter, &ret,
                                 NULL), ==, 0);
    nwf_xdr_free(&nwf_rpc_codec_nwfilter, &ret);
    g_assert_cmpuint(fake_driver_calls(h->fake), ==, 1);
    close(fd);
    harness_stop(h);
}

/* CONNECT_OPEN and the procedures around it, as libvirtd answers them. */
static void
test_open(void)
{
    Harness *h = harness_start(NULL);
    int fd = client_connect(h->rw_path);
    NwfRpcOpenArgs open = { (char *)"nwfilter:///session", 0 };
    NwfRpcListAllArgs all = { 1, 0 };
    NwfRpcInt feature = { NWF_RPC_FEATURE_REMOTE_CLOSE_CALLBACK };
    NwfRpcString str;
    NwfRpcInt num;
    NwfRpcHyper ver;
    NwfRpcError err;
    NwfRpcNwfilterList list;

    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_LIST_ALL_NWFILTERS, 1,
                                 &nwf_rpc_codec_list_all_args, &all,
                                 &nwf_rpc_codec_nwfilter_list, &list, &err), ==, 1);
    assert_error(&err, 1, 7, "internal error: connection not open");
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_SUPPORTS_FEATURE, 2, &nwf_rpc_codec_int,
                                 &feature, &nwf_rpc_codec_int, &num, &err), ==, 1);
    assert_error(&err, 1, 7, "internal error: hypervisor connection not open");
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_GET_URI, 3, &nwf_rpc_codec_void, NULL,
                                 &nwf_rpc_codec_string, &str, &err), ==, 1);
    assert_error(&err, 1, 7, "internal error: hypervisor connection not open");
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_OPEN, 4, &nwf_rpc_codec_open_args, &open,
                                 &nwf_rpc_codec_void, NULL, &err), ==, 1);
    assert_error(&err, 1, 33,
                 "internal error: unexpected nwfilter URI path '/session', try nwfilter:///system");
    open.name = (char *)"foo:///system";
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_OPEN, 5, &nwf_rpc_codec_open_args, &open,
                                 &nwf_rpc_codec_void, NULL, &err), ==, 1);
    g_assert_cmpstr(err.str1, ==, "no connection driver available for %s");
    assert_error(&err, 5, 0, "no connection driver available for foo:///system");
    open.name = NULL;
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_OPEN, 6, &nwf_rpc_codec_open_args, &open,
                                 &nwf_rpc_codec_void, NULL, &err), ==, 1);
    assert_error(&err, 1, 7, "internal error: connection not open");
    open.name = (char *)"nwfilter:///system?foo=bar";
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_OPEN, 7, &nwf_rpc_codec_open_args, &open,
                                 &nwf_rpc_codec_void, NULL, NULL), ==, 0);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_OPEN, 8, &nwf_rpc_codec_open_args, &open,
                                 &nwf_rpc_codec_void, NULL, &err), ==, 1);
    assert_error(&err, 1, 7, "internal error: connection already open");
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_GET_URI, 9, &nwf_rpc_codec_void, NULL,
                                 &nwf_rpc_codec_string, &str, NULL), ==, 0);
    g_assert_cmpstr(str.str, ==, "nwfilter:///system?foo=bar");
    nwf_xdr_free(&nwf_rpc_codec_string, &str);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_GET_TYPE, 10, &nwf_rpc_codec_void, NULL,
                                 &nwf_rpc_codec_string, &str, NULL), ==, 0);
    g_assert_cmpstr(str.str, ==, "nwfilter");
    nwf_xdr_free(&nwf_rpc_codec_string, &str);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_IS_SECURE, 11, &nwf_rpc_codec_void, NULL,
                                 &nwf_rpc_codec_int, &num, NULL), ==, 0);
    g_assert_cmpint(num.value, ==, 1);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_GET_LIB_VERSION, 12, &nwf_rpc_codec_void,
                                 NULL, &nwf_rpc_codec_hyper, &ver, NULL), ==, 0);
    g_assert_cmpuint(ver.value, ==, 9000000);
    g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_GET_VERSION, 13, &nwf_rpc_codec_void,
                                 NULL, &nwf_rpc_codec_hyper, &ver, &err), ==, 1);
    assert_error(&err, 3, 20,
                 "this function is not supported by the connection driver: virConnectGetVersion");
    for (gint32 f = 0; f < 20; f++) {
        feature.value = f;
        g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_SUPPORTS_FEATURE, 14 + f,
                                     &nwf_rpc_codec_int, &feature, &nwf_rpc_codec_int, &num,
                                     NULL), ==, 0);
        g_assert_cmpint(num.value, ==, f == 10 || f == 14 || f == 15);
    }
    close(fd);
    harness_stop(h);
}

/* Headers libvirtd answers with an RPC error and keeps the connection. */
static void
test_bad_calls(void)
{
    Harness *h = harness_start(NULL);
    int fd = client_connect(h->rw_path);
    guint32 s = client_handshake(fd, "nwfilter:///system", 0);
    static const guint8 truncated[] = {
        0x00, 0x00, 0x00, 0x24, 0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 175,
        0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 9, 'a', 'b', 'c', 'd',
    };
    struct {
        guint32 prog, vers;
        gint32 proc;
        guint32 type, status;
        const char *message;
    } cases[] = {
        { NWF_RPC_PROGRAM_REMOTE, 1, 9999, 0, 0, "unknown procedure: 9999" },
        { NWF_RPC_PROGRAM_REMOTE, 1, -5, 0, 0, "unknown procedure: -5" },
        { NWF_RPC_PROGRAM_REMOTE, 2, 66, 0, 0, "Cannot find program 536903814 version 2" },
        { 0x12345678, 1, 1, 0, 0, "Cannot find program 305419896 version 1" },
        { NWF_RPC_PROGRAM_KEEPALIVE, 1, 1, 0, 0, "Cannot find program 1801807216 version 1" },
        { NWF_RPC_PROGRAM_REMOTE, 1, 175, 0, 1, "Unexpected message status 1" },
        { NWF_RPC_PROGRAM_REMOTE, 1, 175, 4, 0, "Unexpected message type 4" },
        { NWF_RPC_PROGRAM_REMOTE, 1, 175, 0, 0, "Unable to decode message payload" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        NwfRpcHeader hdr = { cases[i].prog, cases[i].vers, cases[i].proc, cases[i].type,
                             1000 + i, cases[i].status };
        g_autoptr(GBytes) msg = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_void, NULL);
        g_autoptr(GBytes) reply = NULL;
        NwfRpcHeader rh;
        NwfRpcError err;
        const guint8 *data;
        gsize len;

        client_send_bytes(fd, g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
        reply = client_recv(fd);
        g_assert_nonnull(reply);
        data = g_bytes_get_data(reply, &len);
        nwf_rpc_header_decode(data, &rh);
        g_assert_cmpuint(rh.prog, ==, cases[i].prog);
        g_assert_cmpuint(rh.vers, ==, cases[i].vers);
        g_assert_cmpint(rh.proc, ==, cases[i].proc);
        g_assert_cmpuint(rh.serial, ==, 1000 + i);
        g_assert_cmpuint(rh.type, ==, NWF_RPC_TYPE_REPLY);
        g_assert_cmpuint(rh.status, ==, NWF_RPC_STATUS_ERROR);
        g_assert_true(nwf_xdr_decode(&nwf_rpc_codec_error, data + 28, len - 28, &err));
        g_assert_cmpstr(err.str1, ==, "%s");
        assert_error(&err, 39, 7, cases[i].message);
    }
    /* A string length running past the end of the payload. */
    {
        g_autoptr(GBytes) reply = NULL;
        NwfRpcError err;

        client_send_bytes(fd, truncated, sizeof(truncated));
        reply = client_recv(fd);
        g_assert_nonnull(reply);
        g_assert_true(nwf_xdr_decode(&nwf_rpc_codec_error,
                                     (const guint8 *)g_bytes_get_data(reply, NULL) + 28,
                                     g_bytes_get_size(reply) - 28, &err));
        assert_error(&err, 39, 7, "Unable to decode message payload");
    }
    /* Replies and streams from a client are dropped without an answer; the
     * connection still works afterwards. */
    {
        NwfRpcHeader hdr = { NWF_RPC_PROGRAM_REMOTE, 1, 175, NWF_RPC_TYPE_REPLY, 5, 0 };
        g_autoptr(GBytes) msg = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_void, NULL);
        NwfRpcInt num;

        client_send_bytes(fd, g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
        g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_NUM_OF_NWFILTERS, s++,
                                     &nwf_rpc_codec_void, NULL, &nwf_rpc_codec_int, &num, NULL),
                         ==, 0);
    }
    close(fd);
    harness_stop(h);
}

static void
send_keepalive(int fd, gint32 proc)
{
    NwfRpcHeader hdr = { NWF_RPC_PROGRAM_KEEPALIVE, 1, proc, NWF_RPC_TYPE_MESSAGE, 0, 0 };
    g_autoptr(GBytes) msg = nwf_rpc_message_encode(&hdr, &nwf_rpc_codec_void, NULL);

    client_send_bytes(fd, g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
}

static void
assert_keepalive(GBytes *msg, gint32 proc)
{
    static const guint8 ping[] = {
        0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 1,
        0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    guint8 want[sizeof(ping)];

    memcpy(want, ping, sizeof(ping));
    want[15] = proc;
    g_assert_nonnull(msg);
    g_assert_cmpmem(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg), want, sizeof(want));
}

/* PING is answered at once, also while a slow call is running. */
static void
test_keepalive_pong(void)
{
    Harness *h = harness_start(NULL);
    int fd = client_connect(h->rw_path);
    guint32 s = client_handshake(fd, "nwfilter:///system", 0);
    NwfRpcString xml = { (char *)FILTER_XML };
    g_autoptr(GBytes) pong = NULL;
    g_autoptr(GBytes) reply = NULL;
    NwfRpcHeader hdr;

    send_keepalive(fd, NWF_RPC_KEEPALIVE_PING);
    pong = client_recv(fd);
    assert_keepalive(pong, NWF_RPC_KEEPALIVE_PONG);
    g_clear_pointer(&pong, g_bytes_unref);

    fake_driver_set_define_delay(h->fake, 1500);
    client_send_call(fd, NWF_RPC_PROGRAM_REMOTE, 1, NWF_PROC_NWFILTER_DEFINE_XML, s,
                     &nwf_rpc_codec_string, &xml);
    g_usleep(200000);
    send_keepalive(fd, NWF_RPC_KEEPALIVE_PING);
    pong = client_recv(fd);
    assert_keepalive(pong, NWF_RPC_KEEPALIVE_PONG);
    reply = client_recv(fd);
    g_assert_nonnull(reply);
    nwf_rpc_header_decode(g_bytes_get_data(reply, NULL), &hdr);
    g_assert_cmpuint(hdr.serial, ==, s);
    g_assert_cmpuint(hdr.status, ==, 0);
    close(fd);
    harness_stop(h);
}

/* After feature 10 the server probes a silent client and hangs up when the
 * probes go unanswered; a client that never asked is never probed. */
static void
test_keepalive_ping(void)
{
    NwfRpcServerConfig cfg;
    Harness *h;
    int fd, quiet;
    g_autoptr(GBytes) ping = NULL;
    gint64 start;

    nwf_rpc_server_config_init(&cfg);
    cfg.keepalive_interval = 1;
    cfg.keepalive_count = 2;
    h = harness_start(&cfg);
    fd = client_connect(h->rw_path);
    quiet = client_connect(h->rw_path);
    client_handshake(fd, "nwfilter:///system", 0);
    ping = client_recv(fd);
    assert_keepalive(ping, NWF_RPC_KEEPALIVE_PING);
    send_keepalive(fd, NWF_RPC_KEEPALIVE_PONG);
    g_clear_pointer(&ping, g_bytes_unref);
    ping = client_recv(fd);
    assert_keepalive(ping, NWF_RPC_KEEPALIVE_PING);
    g_clear_pointer(&ping, g_bytes_unref);
    /* Now stay silent: one more probe, then the hang-up. */
    start = g_get_monotonic_time();
    ping = client_recv(fd);
    assert_keepalive(ping, NWF_RPC_KEEPALIVE_PING);
    g_assert_true(client_wait_eof(fd));
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    g_assert_cmpuint(harness_client_count(h), ==, 1);
    close(fd);
    close(quiet);
    harness_stop(h);
}

/* What virtqemud sends before a binding create (spec 3.1): every field
 * type it uses, accepted on both sockets, then the call goes through. */
static void
test_set_identity(void)
{
    Harness *h = harness_start(NULL);
    NwfRpcTypedParam params[] = {
        { .field = (char *)"user-name", .type = NWF_RPC_PARAM_STRING, .value.s = (char *)"root" },
        { .field = (char *)"unix-user-id", .type = NWF_RPC_PARAM_ULLONG, .value.ul = 0 },
        { .field = (char *)"group-name", .type = NWF_RPC_PARAM_STRING, .value.s = (char *)"root" },
        { .field = (char *)"unix-group-id", .type = NWF_RPC_PARAM_ULLONG, .value.ul = 0 },
        { .field = (char *)"process-id", .type = NWF_RPC_PARAM_LLONG, .value.l = 4321 },
        { .field = (char *)"process-time", .type = NWF_RPC_PARAM_ULLONG, .value.ul = 987654 },
        { .field = (char *)"selinux-context", .type = NWF_RPC_PARAM_STRING,
          .value.s = (char *)"system_u:system_r:virtd_t:s0-s0:c0.c1023" },
        { .field = (char *)"system.token", .type = NWF_RPC_PARAM_STRING,
          .value.s = (char *)"4f2a9c1e0b7d46e1a3c58d2f6b9e0a71" },
    };
    NwfRpcIdentityArgs ident = { G_N_ELEMENTS(params), params, 0 };
    const char *paths[] = { h->rw_path, h->ro_path };

    for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
        int fd = client_connect(paths[i]);
        NwfRpcAuthList auth;
        NwfRpcInt feature = { NWF_RPC_FEATURE_PROGRAM_KEEPALIVE };
        NwfRpcInt num;
        NwfRpcOpenArgs open = { (char *)"nwfilter:///system", 0 };
        NwfRpcXmlFlags create = { (char *)BINDING_XML, 0 };
        NwfRpcBinding b;
        NwfRpcError err;

        /* virtqemud's order: no close-callback calls, SET_IDENTITY after
         * the feature queries. */
        g_assert_cmpuint(client_call(fd, NWF_PROC_AUTH_LIST, 0, &nwf_rpc_codec_void, NULL,
                                     &nwf_rpc_codec_auth_list, &auth, NULL), ==, 0);
        nwf_xdr_free(&nwf_rpc_codec_auth_list, &auth);
        g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_SUPPORTS_FEATURE, 1, &nwf_rpc_codec_int,
                                     &feature, &nwf_rpc_codec_int, &num, NULL), ==, 0);
        g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_OPEN, 2, &nwf_rpc_codec_open_args,
                                     &open, &nwf_rpc_codec_void, NULL, NULL), ==, 0);
        g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_SET_IDENTITY, 3,
                                     &nwf_rpc_codec_identity_args, &ident, &nwf_rpc_codec_void,
                                     NULL, NULL), ==, 0);
        if (i == 0) {
            g_assert_cmpuint(client_call(fd, NWF_PROC_NWFILTER_BINDING_CREATE_XML, 4,
                                         &nwf_rpc_codec_xml_flags, &create,
                                         &nwf_rpc_codec_binding, &b, &err), ==, 1);
            /* The fake has no filter rp-test1: the driver was reached. */
            assert_error(&err, 1, 33, "internal error: referenced filter 'rp-test1' is missing");
        }
        g_assert_cmpuint(client_call(fd, NWF_PROC_CONNECT_CLOSE, 5, &nwf_rpc_codec_void, NULL,
                                     &nwf_rpc_codec_void, NULL, NULL), ==, 0);
        g_assert_true(client_wait_eof(fd));
        close(fd);
    }
    harness_stop(h);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) hexlogs = NULL;

    g_test_init(&argc, &argv, NULL);
    hexlogs = rpc_capture_list(".hexlog");
    for (guint i = 0; i < hexlogs->len; i++) {
        const char *f = hexlogs->pdata[i];
        g_autofree char *name = NULL;

        /* f*: a fake server's answers, not libvirtd's. */
        if (f[0] == 'f')
            continue;
        name = g_strdup_printf("/rpc/server/replay/%s", f);
        g_test_add_data_func(name, f, test_replay);
    }
    g_test_add_func("/rpc/server/lifecycle", test_lifecycle);
    g_test_add_func("/rpc/server/readonly", test_readonly);
    g_test_add_func("/rpc/server/flags", test_flags);
    g_test_add_func("/rpc/server/open", test_open);
    g_test_add_func("/rpc/server/bad-calls", test_bad_calls);
    g_test_add_func("/rpc/server/keepalive-pong", test_keepalive_pong);
    g_test_add_func("/rpc/server/keepalive-ping", test_keepalive_ping);
    g_test_add_func("/rpc/server/set-identity", test_set_identity);
    return g_test_run();
}
