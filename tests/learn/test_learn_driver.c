/* The driver with IP address learning enabled (driver_learn.c) on the fake
 * backend of tests/driver: what a port that needs IP or IPV6 gets applied.
 * A device that cannot be snooped gets drop-all; a snoopable one (lo, which
 * every namespace has; needs CAP_NET_RAW, and runs in a network namespace
 * of its own) gets the learning-phase rules, or at once the addresses the
 * lease file holds for its VM and MAC. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "../driver/fake_backend.h"
#include "nwfilter/compile.h"
#include "nwfilter/driver.h"
#include "nwfilter/learn_rules.h"
#include "util/nwf_error.h"

#define OWNER "0b7c3a52-5f4e-4d8e-9a1c-00000000abcd"
#define MAC_TEXT "52:54:00:12:34:56"
static const guint8 MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

#define FILTER_IP "<filter name='t-ip' chain='root'><rule action='accept' direction='out'>" \
                  "<ip srcipaddr='$IP'/></rule></filter>"
#define FILTER_IPV6 "<filter name='t-ipv6' chain='root'><rule action='accept' direction='out'>" \
                    "<ipv6 srcipaddr='$IPV6'/></rule></filter>"

typedef struct {
    char *root, *config_dir, *state_dir, *lease_dir;
    FakeKernel *kernel;
    NwfDriver *driver;
} Fixture;

static gboolean
all_present(const char *portdev, gpointer data)
{
    return TRUE;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    NwfDriverConfig config = { 0 };
    const char *lease_text = data;
    const char *filters[] = { FILTER_IP, FILTER_IPV6 };

    f->root = g_dir_make_tmp("nwf-learn-driver-XXXXXX", &error);
    g_assert_no_error(error);
    f->config_dir = g_build_filename(f->root, "nwfilter", NULL);
    f->state_dir = g_build_filename(f->root, "nwfilter-binding", NULL);
    f->lease_dir = g_build_filename(f->root, "network", NULL);
    if (lease_text) {
        g_autofree char *path = g_build_filename(f->lease_dir, "nwfilter.leases", NULL);

        g_assert_cmpint(g_mkdir_with_parents(f->lease_dir, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, lease_text, -1, NULL));
    }
    f->kernel = fake_kernel_new();
    config.config_dir = f->config_dir;
    config.state_dir = f->state_dir;
    config.lease_dir = f->lease_dir;
    config.backend = fake_backend_new(f->kernel, FALSE);
    config.port_exists = all_present;
    f->driver = nwf_driver_new(&config, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < G_N_ELEMENTS(filters); i++) {
        nwf_filter_info_free(nwf_driver_filter_define(f->driver, filters[i], FALSE, &error));
        g_assert_no_error(error);
    }
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    nwf_driver_free(f->driver);
    fake_kernel_free(f->kernel);
    for (const char *const *d = (const char *const[]){ f->config_dir, f->state_dir, f->lease_dir, NULL };
         *d; d++) {
        g_autoptr(GDir) dir = g_dir_open(*d, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *path = g_build_filename(*d, name, NULL);
            g_unlink(path);
        }
        g_rmdir(*d);
    }
    g_rmdir(f->root);
    g_free(f->root);
    g_free(f->config_dir);
    g_free(f->state_dir);
    g_free(f->lease_dir);
}

static char *
binding_xml(const char *portdev, const char *filter, const char *params)
{
    return g_strdup_printf("<filterbinding><owner><name>vm</name><uuid>" OWNER "</uuid></owner>"
                           "<portdev name='%s'/><mac address='" MAC_TEXT "'/>"
                           "<filterref filter='%s'>%s</filterref></filterbinding>",
                           portdev, filter, params);
}

static void
assert_applied(Fixture *f, const char *portdev, NwfRuleProgram *want)
{
    g_autofree char *fp = fake_program_fingerprint(want);

    g_assert_cmpstr(g_hash_table_lookup(f->kernel->ports, portdev), ==, fp);
    nwf_rule_program_free(want);
}

static NwfRuleProgram *
learning_rules(const char *portdev, NwfLearnRulesKind kind, gboolean ipv6)
{
    g_autoptr(GError) error = NULL;
    NwfRuleProgram *p = nwf_learn_rules_build(portdev, MAC, kind, ipv6, NULL, NULL, &error);

    g_assert_no_error(error);
    return p;
}

static void
create_ok(Fixture *f, const char *portdev, const char *filter, const char *params)
{
    g_autofree char *xml = binding_xml(portdev, filter, params);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = nwf_driver_binding_create(f->driver, xml, FALSE, &error);

    g_assert_no_error(error);
    g_assert_nonnull(def);
}

/* A device learning cannot open: drop-all, as libvirt does. */
static void
test_unsnoopable_drops_all(Fixture *f, gconstpointer data)
{
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*nwfl-absent0*dropping its traffic*");
    create_ok(f, "nwfl-absent0", "t-ip", "");
    g_test_assert_expected_messages();
    assert_applied(f, "nwfl-absent0", learning_rules("nwfl-absent0", NWF_LEARN_RULES_DROP_ALL, FALSE));

    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*nwfl-absent1*dropping its traffic*");
    create_ok(f, "nwfl-absent1", "t-ipv6", "");
    g_test_assert_expected_messages();
    assert_applied(f, "nwfl-absent1", learning_rules("nwfl-absent1", NWF_LEARN_RULES_DROP_ALL, TRUE));
}

/* CTRL_IP_LEARNING=none: libvirt's error, nothing applied. */
static void
test_none_refused(Fixture *f, gconstpointer data)
{
    g_autofree char *xml = binding_xml("nwfl-absent0", "t-ip",
                                       "<parameter name='CTRL_IP_LEARNING' value='none'/>");
    g_autoptr(GError) error = NULL;

    g_assert_null(nwf_driver_binding_create(f->driver, xml, FALSE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(error->message, ==,
                    "internal error: Cannot instantiate filter due to unresolvable variables "
                    "or unavailable list elements: IP");
    g_assert_false(g_hash_table_contains(f->kernel->ports, "nwfl-absent0"));
}

/* A tree that has its IP needs no learning. */
static void
test_given_ip_compiles(Fixture *f, gconstpointer data)
{
    create_ok(f, "nwfl-absent0", "t-ip", "<parameter name='IP' value='10.0.0.7'/>");
    g_assert_nonnull(strstr(g_hash_table_lookup(f->kernel->ports, "nwfl-absent0"), "10.0.0.7"));
}

static gboolean
have_net_raw(void)
{
    return geteuid() == 0;
}

/* On lo (snoopable): the learning-phase rules, basic or DHCP-only. */
static void
test_snoopable_learning_rules(Fixture *f, gconstpointer data)
{
    if (!have_net_raw() && g_strcmp0(g_getenv("CI"), "true") != 0) {
        g_test_skip("needs CAP_NET_RAW for a packet socket");
        return;
    }
    create_ok(f, "lo", "t-ip", "<parameter name='CTRL_IP_LEARNING' value='dhcp'/>");
    assert_applied(f, "lo", learning_rules("lo", NWF_LEARN_RULES_DHCP, FALSE));
    g_assert_true(nwf_driver_binding_delete(f->driver, "lo", NULL));
    create_ok(f, "lo", "t-ip", "");
    assert_applied(f, "lo", learning_rules("lo", NWF_LEARN_RULES_BASIC, FALSE));
}

/* A create the backend refuses leaves no packet socket behind; the next
 * create learns again. */
static void
test_failed_create_stops_learning(Fixture *f, gconstpointer data)
{
    g_autofree char *xml = binding_xml("lo", "t-ip", "");
    g_autoptr(NwfBindingDef) def = NULL;
    g_autoptr(GError) error = NULL;

    if (!have_net_raw() && g_strcmp0(g_getenv("CI"), "true") != 0) {
        g_test_skip("needs CAP_NET_RAW for a packet socket");
        return;
    }
    f->kernel->fail_commit = TRUE;
    def = nwf_driver_binding_create(f->driver, xml, FALSE, &error);
    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_false(nwf_driver_port_learning(f->driver, "lo"));
    g_assert_null(nwf_driver_binding_lookup(f->driver, "lo", NULL));
    f->kernel->fail_commit = FALSE;
    create_ok(f, "lo", "t-ip", "");
    g_assert_true(nwf_driver_port_learning(f->driver, "lo"));
    assert_applied(f, "lo", learning_rules("lo", NWF_LEARN_RULES_BASIC, FALSE));
}

static const NwfFilterDef *
lookup_one(const char *name, gpointer data)
{
    return data;
}

/* Addresses the lease file holds for the VM's key are in force at once. */
static void
test_lease_file_restores(Fixture *f, gconstpointer data)
{
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(FILTER_IP, -1, NULL);
    g_autofree char *xml = binding_xml("lo", "t-ip", "");
    g_autoptr(NwfBindingDef) binding = nwf_binding_def_parse_string(xml, -1, NULL);
    g_autoptr(NwfParams) extra = nwf_params_new();
    g_autoptr(GError) error = NULL;
    NwfRuleProgram *want;

    if (!have_net_raw() && g_strcmp0(g_getenv("CI"), "true") != 0) {
        g_test_skip("needs CAP_NET_RAW for a packet socket");
        return;
    }
    create_ok(f, "lo", "t-ip", "");
    nwf_params_add(extra, "IP", "10.0.0.9");
    nwf_params_add(extra, "IP", "10.0.0.10");
    want = nwf_compile_binding(binding, lookup_one, def, extra, NULL, &error);
    g_assert_no_error(error);
    assert_applied(f, "lo", want);
}

#define REDEFINE_OTHERS 70

/* A redefinition of the filter of a learning port among enough other
 * bindings for the batch compile to use threads: the learning port keeps
 * learning and gets what learning gives it (the learning-phase rules, or
 * with a lease the new filter with the leased address), the others the
 * new filter with their own IP. */
static void
test_redefine_keeps_learning(Fixture *f, gconstpointer data)
{
    const char *lease_text = data;
    g_autoptr(GError) error = NULL;
    NwfFilterInfo *info;
    g_autofree char *uuid = NULL, *xml = NULL;
    g_autoptr(NwfFilterDef) def = NULL;
    const char *other;

    if (!have_net_raw() && g_strcmp0(g_getenv("CI"), "true") != 0) {
        g_test_skip("needs CAP_NET_RAW for a packet socket");
        return;
    }
    create_ok(f, "lo", "t-ip", "");
    for (guint i = 0; i < REDEFINE_OTHERS; i++) {
        g_autofree char *port = g_strdup_printf("nwfl-other%u", i);
        g_autofree char *ip = g_strdup_printf("<parameter name='IP' value='10.1.0.%u'/>", i + 1);
        create_ok(f, port, "t-ip", ip);
    }
    info = nwf_driver_filter_lookup_by_name(f->driver, "t-ip", &error);
    g_assert_no_error(error);
    uuid = nwf_uuid_format(info->uuid);
    nwf_filter_info_free(info);
    xml = g_strdup_printf("<filter name='t-ip' chain='root'><uuid>%s</uuid>"
                          "<rule action='accept' direction='out'><ip srcipaddr='$IP'/></rule>"
                          "<rule action='drop' direction='out' priority='600'>"
                          "<mac protocolid='0x88cc'/></rule></filter>", uuid);
    nwf_filter_info_free(nwf_driver_filter_define(f->driver, xml, FALSE, &error));
    g_assert_no_error(error);

    g_assert_true(nwf_driver_port_learning(f->driver, "lo"));
    if (lease_text) {
        g_autofree char *binding_text = binding_xml("lo", "t-ip", "");
        g_autoptr(NwfBindingDef) binding = nwf_binding_def_parse_string(binding_text, -1, NULL);
        g_autoptr(NwfParams) extra = nwf_params_new();
        NwfRuleProgram *want;

        def = nwf_filter_def_parse_string(xml, -1, &error);
        g_assert_no_error(error);
        nwf_params_add(extra, "IP", "10.0.0.9");
        want = nwf_compile_binding(binding, lookup_one, def, extra, NULL, &error);
        g_assert_no_error(error);
        assert_applied(f, "lo", want);
    } else {
        assert_applied(f, "lo", learning_rules("lo", NWF_LEARN_RULES_BASIC, FALSE));
    }
    for (guint i = 0; i < REDEFINE_OTHERS; i += 23) {
        g_autofree char *port = g_strdup_printf("nwfl-other%u", i);
        g_autofree char *ip = g_strdup_printf("10.1.0.%u", i + 1);
        other = g_hash_table_lookup(f->kernel->ports, port);
        g_assert_nonnull(strstr(other, ip));
        g_assert_nonnull(strstr(other, "0x88cc"));
    }
}

/* A binding whose port was never learned since the daemon started (here:
 * a device that cannot be snooped) is deleted: what its VM's traffic
 * taught leaves the lease file, so its next binding learns afresh; DHCP
 * leases and other VMs' addresses stay. */
static void
test_delete_forgets_unlearned(Fixture *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(f->lease_dir, "nwfilter.leases", NULL);
    g_autofree char *text = NULL;

    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*nwfl-absent0*dropping its traffic*");
    create_ok(f, "nwfl-absent0", "t-ip", "");
    g_test_assert_expected_messages();
    g_assert_true(nwf_driver_binding_delete(f->driver, "nwfl-absent0", NULL));
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_null(strstr(text, "10.0.0.9 "));
    g_assert_nonnull(strstr(text, "10.0.0.10 "));
    g_assert_nonnull(strstr(text, "10.0.0.12 "));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* The packet sockets on lo belong to a namespace of this test's own. */
    if (have_net_raw() && unshare(CLONE_NEWNET) != 0)
        g_error("cannot create a network namespace: %s", g_strerror(errno));
#define ADD(path, fn, data) \
    g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown)
    ADD("/learn/driver/unsnoopable-drops-all", test_unsnoopable_drops_all, NULL);
    ADD("/learn/driver/none-refused", test_none_refused, NULL);
    ADD("/learn/driver/given-ip-compiles", test_given_ip_compiles, NULL);
    ADD("/learn/driver/snoopable-learning-rules", test_snoopable_learning_rules, NULL);
    ADD("/learn/driver/failed-create-stops-learning", test_failed_create_stops_learning, NULL);
    ADD("/learn/driver/lease-file-restores", test_lease_file_restores,
        "9223372036854775807 " OWNER "-" MAC_TEXT " 10.0.0.9 0.0.0.0\n"
        "4000000000 " OWNER "-" MAC_TEXT " 10.0.0.10 10.0.0.1\n"
        "1000 " OWNER "-" MAC_TEXT " 10.0.0.11 10.0.0.1\n"
        "9223372036854775807 " OWNER "-52:54:00:99:99:99 10.0.0.12 0.0.0.0\n");
    ADD("/learn/driver/redefine-keeps-learning", test_redefine_keeps_learning, NULL);
    ADD("/learn/driver/redefine-keeps-leased", test_redefine_keeps_learning,
        "9223372036854775807 " OWNER "-" MAC_TEXT " 10.0.0.9 0.0.0.0\n");
    ADD("/learn/driver/delete-forgets-unlearned", test_delete_forgets_unlearned,
        "9223372036854775807 " OWNER "-" MAC_TEXT " 10.0.0.9 0.0.0.0\n"
        "4000000000 " OWNER "-" MAC_TEXT " 10.0.0.10 10.0.0.1\n"
        "9223372036854775807 " OWNER "-52:54:00:99:99:99 10.0.0.12 0.0.0.0\n");
    return g_test_run();
}
