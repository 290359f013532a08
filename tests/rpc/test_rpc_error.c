/* The libvirt error domain our errors go out under. Every error reply
 * libvirtd sent in the captures is turned back into a GError of its code
 * and message, sent through nwf_rpc_error_set_gerror(), and must come out
 * with libvirtd's code, domain, message and level; one test case per
 * capture. Firewall failures, absent from the captures, follow the spec
 * (libvirt-rpc.md section 5: INTERNAL_ERROR under the FIREWALL domain). */
#include "config.h"

#include <gio/gio.h>

#include "rpc/rpc_error.h"
#include "rpc/rpc_message.h"
#include "rpc_capture.h"

static void
test_capture(gconstpointer data)
{
    g_autofree char *dir = rpc_capture_dir();
    g_autofree char *path = g_build_filename(dir, (const char *)data, NULL);
    g_autoptr(GPtrArray) msgs = rpc_capture_load(path);
    guint errors = 0;

    for (guint i = 0; i < msgs->len; i++) {
        RpcCaptureMessage *m = msgs->pdata[i];
        gsize len;
        const guint8 *bytes = g_bytes_get_data(m->bytes, &len);
        NwfRpcHeader hdr;
        NwfRpcError sent = { 0 };
        NwfRpcError ours = { 0 };
        g_autoptr(GError) error = NULL;

        nwf_rpc_header_decode(bytes, &hdr);
        if (m->from_client || hdr.type != NWF_RPC_TYPE_REPLY ||
            hdr.status != NWF_RPC_STATUS_ERROR)
            continue;
        g_assert_true(nwf_xdr_decode(&nwf_rpc_codec_error, bytes + NWF_RPC_HEADER_SIZE,
                                     len - NWF_RPC_HEADER_SIZE, &sent));
        nwf_error_set_literal(&error, (NwfErrorCode)sent.code, sent.message);
        nwf_rpc_error_set_gerror(&ours, error);
        g_test_message("code %d domain %d: %s", sent.code, sent.domain, sent.message);
        g_assert_cmpint(ours.code, ==, sent.code);
        g_assert_cmpint(ours.domain, ==, sent.domain);
        g_assert_cmpint(nwf_error_domain_of(error), ==, sent.domain);
        g_assert_cmpstr(ours.message, ==, sent.message);
        g_assert_cmpint(ours.level, ==, sent.level);
        nwf_rpc_error_clear(&ours);
        nwf_xdr_free(&nwf_rpc_codec_error, &sent);
        errors++;
    }
    g_assert_cmpuint(errors, >, 0);
}

/* libvirt raises "Failed to apply firewall rules" in its firewall layer:
 * code 1, domain 59 (FIREWALL), never the NWFILTER domain 33. */
static void
test_firewall(void)
{
    static const char cmd[] = "/usr/sbin/iptables -w -N FI-vnet0";
    static const char why[] = "iptables: Chain already exists.\n";
    g_autoptr(GError) error = NULL;
    NwfRpcError ours = { 0 };

    nwf_error_set_firewall(&error, NWF_ERR_INTERNAL_ERROR, "Failed to apply firewall rules %s: %s",
                           cmd, why);
    g_assert_error(error, NWF_FIREWALL_ERROR, NWF_ERR_INTERNAL_ERROR);
    g_assert_true(nwf_error_is_ours(error));
    g_assert_cmpint(nwf_error_code(error), ==, NWF_ERR_INTERNAL_ERROR);
    g_assert_cmpint(nwf_error_domain_of(error), ==, NWF_DOMAIN_FIREWALL);
    g_assert_cmpint(NWF_DOMAIN_FIREWALL, ==, 59);

    nwf_rpc_error_set_gerror(&ours, error);
    g_assert_cmpint(ours.code, ==, 1);
    g_assert_cmpint(ours.domain, ==, 59);
    g_assert_cmpint(ours.level, ==, 2);
    g_assert_cmpstr(ours.message, ==,
                    "internal error: Failed to apply firewall rules /usr/sbin/iptables -w "
                    "-N FI-vnet0: iptables: Chain already exists.\n");
    g_assert_cmpstr(ours.str1, ==, "internal error: %s");
    g_assert_cmpstr(ours.str2, ==, "Failed to apply firewall rules /usr/sbin/iptables -w "
                                   "-N FI-vnet0: iptables: Chain already exists.\n");
    g_assert_cmpint(ours.int1, ==, -1);
    nwf_rpc_error_clear(&ours);
}

/* The same code from the nwfilter driver stays in domain 33; errors of
 * other GLib domains become internal errors there. */
static void
test_nwfilter(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) foreign = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, "boom");
    NwfRpcError ours = { 0 };

    nwf_error_set(&error, NWF_ERR_INTERNAL_ERROR, "referenced filter '%s' is missing", "x");
    g_assert_cmpint(nwf_error_domain_of(error), ==, NWF_DOMAIN_NWFILTER);
    nwf_rpc_error_set_gerror(&ours, error);
    g_assert_cmpint(ours.code, ==, 1);
    g_assert_cmpint(ours.domain, ==, 33);
    nwf_rpc_error_clear(&ours);

    g_assert_false(nwf_error_is_ours(foreign));
    g_assert_cmpint(nwf_error_code(foreign), ==, NWF_ERR_INTERNAL_ERROR);
    g_assert_cmpint(nwf_error_domain_of(foreign), ==, NWF_DOMAIN_NWFILTER);
    nwf_rpc_error_set_gerror(&ours, foreign);
    g_assert_cmpint(ours.domain, ==, 33);
    g_assert_cmpstr(ours.message, ==, "internal error: boom");
    nwf_rpc_error_clear(&ours);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) files = NULL;

    g_test_init(&argc, &argv, NULL);
    files = rpc_capture_list(".hexlog");
    for (guint i = 0; i < files->len; i++) {
        const char *name = g_ptr_array_index(files, i);
        g_autofree char *test = NULL;

        /* e01-e20: libvirtd's error replies (e21 never reaches it) */
        if (name[0] != 'e' || g_str_has_prefix(name, "e21-"))
            continue;
        test = g_strdup_printf("/rpc/error/capture/%s", name);
        g_test_add_data_func(test, name, test_capture);
    }
    g_test_add_func("/rpc/error/firewall", test_firewall);
    g_test_add_func("/rpc/error/nwfilter", test_nwfilter);
    return g_test_run();
}
