/* The driver against a fake backend: define/undefine semantics and messages,
 * bindings, redefinition in one transaction with full rollback, restart from
 * the config and state dirs, and crash safety under kill -9. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake_backend.h"
#include "nwfilter/driver.h"
#include "test_dirs.h"
#include "util/nwf_error.h"
#include "util/nwf_file.h"

#define UUID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define UUID_B "aaaaaaaa-0000-4000-8000-000000000002"
#define UUID_C "aaaaaaaa-0000-4000-8000-000000000003"
#define UUID_D "aaaaaaaa-0000-4000-8000-000000000004"
#define UUID_E "aaaaaaaa-0000-4000-8000-000000000005"
#define MAC_RULE "<rule action='accept' direction='out' priority='500'><mac srcmacaddr='$MAC'/></rule>"
#define DROP_RULE "<rule action='drop' direction='out' priority='500'><mac srcmacaddr='$MAC'/></rule>"
#define IP_RULE "<rule action='drop' direction='in' priority='600'><ip srcipaddr='10.0.0.1'/></rule>"

typedef struct {
    char *root;
    char *config_dir;
    char *state_dir;
    FakeKernel *kernel;
    GHashTable *present;       /* port devices that "exist" */
    gboolean all_present;
    gboolean with_matches;
    gboolean real_ports;       /* use the driver's own if_nametoindex test */
    NwfDriver *driver;
} Fixture;

static gboolean
fixture_port_exists(const char *portdev, gpointer data)
{
    Fixture *f = data;

    return f->all_present || g_hash_table_contains(f->present, portdev);
}

static void
fixture_start(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    NwfDriverConfig config = {
        .config_dir = f->config_dir,
        .state_dir = f->state_dir,
        .backend = fake_backend_new(f->kernel, f->with_matches),
        .port_exists = f->real_ports ? NULL : fixture_port_exists,
        .port_exists_data = f,
    };

    f->driver = nwf_driver_new(&config, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->driver);
}

static void
fixture_restart(Fixture *f)
{
    g_clear_pointer(&f->driver, nwf_driver_free);
    fixture_start(f);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->root = g_dir_make_tmp("nwf-driver-XXXXXX", &error);
    g_assert_no_error(error);
    f->config_dir = g_build_filename(f->root, "nwfilter", NULL);
    f->state_dir = g_build_filename(f->root, "nwfilter-binding", NULL);
    f->kernel = fake_kernel_new();
    f->present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(f->present, g_strdup("vnet0"));
    g_hash_table_add(f->present, g_strdup("vnet1"));
    g_hash_table_add(f->present, g_strdup("vnet2"));
    fixture_start(f);
    g_free(fake_kernel_take_log(f->kernel));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_clear_pointer(&f->driver, nwf_driver_free);
    test_dirs_remove_tree(f->root);
    g_hash_table_destroy(f->present);
    fake_kernel_free(f->kernel);
    g_free(f->state_dir);
    g_free(f->config_dir);
    g_free(f->root);
}

/* ---- helpers ---- */

static char *
filter_xml(const char *name, const char *uuid, const char *body)
{
    g_autofree char *uuid_elem = uuid ? g_strdup_printf("  <uuid>%s</uuid>\n", uuid) : g_strdup("");

    return g_strdup_printf("<filter name='%s' chain='root'>\n%s  %s\n</filter>\n",
                           name, uuid_elem, body);
}

static char *
ref_xml(const char *filter)
{
    return g_strdup_printf("<filterref filter='%s'/>", filter);
}

static char *
binding_xml(const char *portdev, const char *filter, const char *params)
{
    return g_strdup_printf(
        "<filterbinding>\n"
        "  <owner>\n"
        "    <name>vm1</name>\n"
        "    <uuid>11111111-2222-3333-4444-555555555555</uuid>\n"
        "  </owner>\n"
        "  <portdev name='%s'/>\n"
        "  <mac address='52:54:00:AA:BB:CC'/>\n"
        "  <filterref filter='%s'>%s</filterref>\n"
        "</filterbinding>\n", portdev, filter, params ? params : "");
}

static void
define_ok(Fixture *f, const char *name, const char *uuid, const char *body)
{
    g_autofree char *xml = filter_xml(name, uuid, body);
    g_autoptr(GError) error = NULL;
    NwfFilterInfo *info = nwf_driver_filter_define(f->driver, xml, FALSE, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(info->name, ==, name);
    nwf_filter_info_free(info);
}

static void
define_fails(Fixture *f, const char *name, const char *uuid, const char *body,
             NwfErrorCode code, const char *message)
{
    g_autofree char *xml = filter_xml(name, uuid, body);
    g_autoptr(GError) error = NULL;
    NwfFilterInfo *info = nwf_driver_filter_define(f->driver, xml, FALSE, &error);

    g_assert_null(info);
    g_assert_error(error, NWF_ERROR, (gint)code);
    if (message)
        g_assert_cmpstr(error->message, ==, message);
}

static void
bind_ok(Fixture *f, const char *portdev, const char *filter, const char *params)
{
    g_autofree char *xml = binding_xml(portdev, filter, params);
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = nwf_driver_binding_create(f->driver, xml, FALSE, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(def->portdev, ==, portdev);
}

static void
unbind_ok(Fixture *f, const char *portdev)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(nwf_driver_binding_delete(f->driver, portdev, &error));
    g_assert_no_error(error);
}

static gboolean
undefine_by_name(Fixture *f, const char *name, GError **error)
{
    NwfFilterInfo *info = nwf_driver_filter_lookup_by_name(f->driver, name, error);
    gboolean ok;

    if (!info)
        return FALSE;
    ok = nwf_driver_filter_undefine(f->driver, info->uuid, error);
    nwf_filter_info_free(info);
    return ok;
}

static char *
filter_xml_now(Fixture *f, const char *name)
{
    g_autoptr(GError) error = NULL;
    NwfFilterInfo *info = nwf_driver_filter_lookup_by_name(f->driver, name, &error);
    char *xml;

    g_assert_no_error(error);
    xml = nwf_driver_filter_get_xml(f->driver, info->uuid, &error);
    g_assert_no_error(error);
    nwf_filter_info_free(info);
    return xml;
}

static char *
read_file(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

static guint
file_mode(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

static char *
take_log(Fixture *f)
{
    return fake_kernel_take_log(f->kernel);
}

static void
clear_log(Fixture *f)
{
    g_free(take_log(f));
}

static void
assert_log(Fixture *f, const char *expected)
{
    g_autofree char *log = take_log(f);

    g_assert_cmpstr(log, ==, expected);
}

/* Every entry of DIR is a visible "*.xml" file: no temp file left. */
static void
assert_only_xml(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_assert_true(g_str_has_suffix(name, ".xml"));
        g_assert_false(name[0] == '.');
    }
}

/* ---- filters ---- */

static void
test_filter_lifecycle(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *leaf = filter_xml("t-leaf", UUID_A, MAC_RULE);
    g_autofree char *ref = ref_xml("t-leaf");
    g_autoptr(NwfFilterDef) parsed = nwf_filter_def_parse_string(leaf, -1, NULL);
    g_autofree char *expected = nwf_filter_def_format(parsed);
    g_autofree char *got = NULL;
    g_autofree char *file = NULL;
    g_autofree char *path = g_build_filename(f->config_dir, "t-leaf.xml", NULL);
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(NwfFilterDef) from_file = NULL;
    NwfFilterInfo *info;
    guint8 uuid[16];

    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    define_ok(f, "t-a-top", UUID_B, ref);
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 2);

    list = nwf_driver_filter_list(f->driver);
    g_assert_cmpuint(list->len, ==, 2);
    g_assert_cmpstr(((NwfFilterInfo *)list->pdata[0])->name, ==, "t-a-top");
    g_assert_cmpstr(((NwfFilterInfo *)list->pdata[1])->name, ==, "t-leaf");

    g_assert_true(nwf_uuid_parse(UUID_A, uuid));
    info = nwf_driver_filter_lookup_by_uuid(f->driver, uuid, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(info->name, ==, "t-leaf");
    nwf_filter_info_free(info);

    got = nwf_driver_filter_get_xml(f->driver, uuid, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, expected);

    /* The config file: header, then the dumpxml form; 0600 in a 0700 dir. */
    file = read_file(f->config_dir, "t-leaf.xml");
    g_assert_true(g_str_has_prefix(file, "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE."));
    g_assert_nonnull(strstr(file, "virsh nwfilter-edit t-leaf\n"));
    g_assert_true(g_str_has_suffix(file, expected));
    g_assert_cmpuint(file_mode(path), ==, 0600);
    g_assert_cmpuint(file_mode(f->config_dir), ==, 0700);
    from_file = nwf_filter_def_parse_file(path, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(from_file->uuid, 16, uuid, 16);

    g_assert_true(undefine_by_name(f, "t-a-top", &error));
    g_assert_no_error(error);
    g_assert_true(nwf_driver_filter_undefine(f->driver, uuid, &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 0);

    g_assert_null(nwf_driver_filter_lookup_by_name(f->driver, "t-leaf", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER);
    g_assert_cmpstr(error->message, ==,
                    "Network filter not found: no nwfilter with matching name 't-leaf'");
    g_clear_error(&error);
    g_assert_null(nwf_driver_filter_lookup_by_uuid(f->driver, uuid, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER);
    g_assert_cmpstr(error->message, ==, "Network filter not found: no nwfilter with matching uuid '"
                    UUID_A "'");
    g_clear_error(&error);
    g_assert_false(nwf_driver_filter_undefine(f->driver, uuid, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER);
    g_clear_error(&error);
    g_assert_null(nwf_driver_filter_get_xml(f->driver, uuid, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER);
}

static void
test_filter_uuid_rules(Fixture *f, gconstpointer data)
{
    g_autofree char *xml = NULL;

    define_ok(f, "t-a", UUID_A, MAC_RULE);
    define_fails(f, "t-b", UUID_A, MAC_RULE, NWF_ERR_OPERATION_FAILED,
                 "operation failed: filter with same UUID but different name ('t-a') already exists");
    define_fails(f, "t-a", UUID_B, MAC_RULE, NWF_ERR_OPERATION_FAILED,
                 "operation failed: filter 't-a' already exists with uuid " UUID_A);
    /* Without a uuid the parser makes a fresh one: a redefinition fails. */
    define_fails(f, "t-a", NULL, DROP_RULE, NWF_ERR_OPERATION_FAILED,
                 "operation failed: filter 't-a' already exists with uuid " UUID_A);
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 1);
    xml = filter_xml_now(f, "t-a");
    g_assert_nonnull(strstr(xml, "action='accept'"));

    /* The same name with its uuid is an update. */
    define_ok(f, "t-a", UUID_A, DROP_RULE);
    g_clear_pointer(&xml, g_free);
    xml = filter_xml_now(f, "t-a");
    g_assert_nonnull(strstr(xml, "action='drop'"));
    define_ok(f, "t-b", NULL, MAC_RULE);
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 2);
}

static void
test_filter_loop(Fixture *f, gconstpointer data)
{
    g_autofree char *to_a = ref_xml("t-a");
    g_autofree char *to_b = ref_xml("t-b");
    g_autofree char *to_c = ref_xml("t-c");
    g_autofree char *to_self = ref_xml("t-self");
    g_autoptr(GError) error = NULL;
    const char *loop = "operation failed: filter would introduce a loop";

    define_ok(f, "t-a", UUID_A, to_b);   /* t-b missing: allowed */
    define_fails(f, "t-b", UUID_B, to_a, NWF_ERR_OPERATION_FAILED, loop);
    define_fails(f, "t-self", UUID_C, to_self, NWF_ERR_OPERATION_FAILED, loop);
    define_ok(f, "t-b", UUID_B, to_c);
    define_fails(f, "t-c", UUID_C, to_a, NWF_ERR_OPERATION_FAILED, loop);
    g_assert_null(nwf_driver_filter_lookup_by_name(f->driver, "t-c", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER);
    g_clear_error(&error);
    /* A redefinition that would close a loop is refused as well. */
    define_ok(f, "t-c", UUID_C, MAC_RULE);
    define_fails(f, "t-c", UUID_C, to_a, NWF_ERR_OPERATION_FAILED, loop);
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 3);
}

static void
test_undefine_in_use(Fixture *f, gconstpointer data)
{
    g_autofree char *to_leaf = ref_xml("t-leaf");
    g_autoptr(GError) error = NULL;

    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    define_ok(f, "t-top", UUID_B, to_leaf);
    define_ok(f, "t-other", UUID_C, MAC_RULE);
    bind_ok(f, "vnet0", "t-top", NULL);
    bind_ok(f, "vnet9", "t-other", NULL);   /* vnet9 does not exist */

    g_assert_false(undefine_by_name(f, "t-leaf", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_OPERATION_INVALID);
    g_assert_cmpstr(error->message, ==, "Requested operation is not valid: nwfilter is in use");
    g_clear_error(&error);
    g_assert_false(undefine_by_name(f, "t-top", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_OPERATION_INVALID);
    g_clear_error(&error);
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 3);

    /* Bindings on absent devices do not count. */
    g_assert_true(undefine_by_name(f, "t-other", &error));
    g_assert_no_error(error);

    unbind_ok(f, "vnet0");
    g_assert_true(undefine_by_name(f, "t-top", &error));
    g_assert_no_error(error);
    g_assert_true(undefine_by_name(f, "t-leaf", &error));
    g_assert_no_error(error);
}

/* The driver's own device test: "lo" exists in every network namespace. */
static void
test_real_port_presence(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->real_ports = TRUE;
    fixture_restart(f);
    clear_log(f);
    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    bind_ok(f, "lo", "t-leaf", NULL);
    assert_log(f, "begin, set lo, commit");
    bind_ok(f, "nwf-absent0", "t-leaf", NULL);
    assert_log(f, "");
    g_assert_false(undefine_by_name(f, "t-leaf", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_OPERATION_INVALID);
    g_clear_error(&error);
    unbind_ok(f, "lo");
    assert_log(f, "begin, remove lo, commit");
    g_assert_true(undefine_by_name(f, "t-leaf", &error));
    g_assert_no_error(error);
}

static void
test_validate(Fixture *f, gconstpointer data)
{
    g_autofree char *good = filter_xml("t-v", UUID_A, MAC_RULE);
    g_autofree char *bogus = filter_xml("t-v", UUID_A, "<bogus/>");
    g_autofree char *binding = binding_xml("vnet0", "t-v", NULL);
    g_autofree char *bad_binding = binding_xml("vnet1", "t-v", "<bogus/>");
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = NULL;
    NwfFilterInfo *info;

    g_assert_null(nwf_driver_filter_define(f->driver, bogus, TRUE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_XML_INVALID_SCHEMA);
    g_assert_true(g_str_has_prefix(error->message, "XML document failed to validate against "
                                   "schema: Unable to validate doc against "));
    g_assert_true(g_str_has_suffix(error->message,
                                   "/nwfilter.rng\nElement filter has extra content: bogus\n"));
    g_clear_error(&error);
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 0);

    info = nwf_driver_filter_define(f->driver, good, TRUE, &error);
    g_assert_no_error(error);
    nwf_filter_info_free(info);

    g_assert_null(nwf_driver_binding_create(f->driver, bad_binding, TRUE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_XML_INVALID_SCHEMA);
    g_assert_nonnull(strstr(error->message, "nwfilterbinding.rng\n"));
    g_clear_error(&error);
    def = nwf_driver_binding_create(f->driver, binding, TRUE, &error);
    g_assert_no_error(error);

    /* Not well-formed: the parser's error, not the schema's. */
    g_assert_null(nwf_driver_filter_define(f->driver, "<filter name='x'", TRUE, &error));
    g_assert_false(g_error_matches(error, NWF_ERROR, NWF_ERR_XML_INVALID_SCHEMA));
}

/* ---- redefinition ---- */

/* t-top-a -> t-mid -> t-leaf, t-top-c -> t-leaf, t-top-b alone; bound on
 * vnet0 (a), vnet1 (b), vnet2 (c) and the absent vnet7 (a). */
static void
redefine_setup(Fixture *f)
{
    g_autofree char *to_leaf = ref_xml("t-leaf");
    g_autofree char *to_mid = ref_xml("t-mid");

    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    define_ok(f, "t-mid", UUID_B, to_leaf);
    define_ok(f, "t-top-a", UUID_C, to_mid);
    define_ok(f, "t-top-b", UUID_D, IP_RULE);
    define_ok(f, "t-top-c", UUID_E, to_leaf);
    bind_ok(f, "vnet0", "t-top-a", NULL);
    bind_ok(f, "vnet1", "t-top-b", NULL);
    bind_ok(f, "vnet2", "t-top-c", NULL);
    bind_ok(f, "vnet7", "t-top-a", NULL);
    clear_log(f);
}

static char *
kernel_port(Fixture *f, const char *port)
{
    return g_strdup(g_hash_table_lookup(f->kernel->ports, port));
}

static void
test_redefine_affected(Fixture *f, gconstpointer data)
{
    g_autofree char *before0 = NULL, *before1 = NULL, *after0 = NULL, *after1 = NULL;
    g_autofree char *reformatted = NULL;

    redefine_setup(f);
    before0 = kernel_port(f, "vnet0");
    before1 = kernel_port(f, "vnet1");
    g_assert_nonnull(strstr(before0, "accept"));

    define_ok(f, "t-leaf", UUID_A, DROP_RULE);
    assert_log(f, "begin, set vnet0, set vnet2, commit");
    after0 = kernel_port(f, "vnet0");
    after1 = kernel_port(f, "vnet1");
    g_assert_cmpstr(after0, !=, before0);
    g_assert_nonnull(strstr(after0, "drop"));
    g_assert_cmpstr(after1, ==, before1);
    g_assert_null(g_hash_table_lookup(f->kernel->ports, "vnet7"));

    /* Unchanged (the same XML, or one that formats the same) touches
     * nothing in the kernel. */
    define_ok(f, "t-leaf", UUID_A, DROP_RULE);
    assert_log(f, "");
    reformatted = filter_xml_now(f, "t-leaf");
    g_assert_null(nwf_driver_filter_define(f->driver, "<filter", FALSE, NULL));
    nwf_filter_info_free(nwf_driver_filter_define(f->driver, reformatted, FALSE, NULL));
    assert_log(f, "");

    /* A middle filter: only the bindings reaching it. */
    define_ok(f, "t-mid", UUID_B, MAC_RULE);
    assert_log(f, "begin, set vnet0, commit");
}

static void
assert_redefine_rolled_back(Fixture *f, const char *old_xml, const char *old_file,
                            const char *old0, const char *old2)
{
    g_autofree char *xml = filter_xml_now(f, "t-leaf");
    g_autofree char *file = read_file(f->config_dir, "t-leaf.xml");
    g_autofree char *now0 = kernel_port(f, "vnet0");
    g_autofree char *now2 = kernel_port(f, "vnet2");

    g_assert_cmpstr(xml, ==, old_xml);
    g_assert_cmpstr(file, ==, old_file);
    g_assert_cmpstr(now0, ==, old0);
    g_assert_cmpstr(now2, ==, old2);
    assert_only_xml(f->config_dir);
}

static void
test_redefine_failure(Fixture *f, gconstpointer data)
{
    g_autofree char *old_xml = NULL, *old_file = NULL, *old0 = NULL, *old2 = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;

    redefine_setup(f);
    old_xml = filter_xml_now(f, "t-leaf");
    old_file = read_file(f->config_dir, "t-leaf.xml");
    old0 = kernel_port(f, "vnet0");
    old2 = kernel_port(f, "vnet2");

    /* The backend refuses the transaction. */
    f->kernel->fail_commit = TRUE;
    define_fails(f, "t-leaf", UUID_A, DROP_RULE, NWF_ERR_INTERNAL_ERROR,
                 "internal error: fake commit failure");
    assert_log(f, "begin, set vnet0, set vnet2, fail");
    assert_redefine_rolled_back(f, old_xml, old_file, old0, old2);
    f->kernel->fail_commit = FALSE;

    /* The new tree cannot be compiled: the kernel is not even asked. */
    xml = filter_xml("t-leaf", UUID_A,
                     "<rule action='drop' direction='out'><ip srcipaddr='$NOPE'/></rule>");
    g_assert_null(nwf_driver_filter_define(f->driver, xml, FALSE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(error->message, "unresolvable variables"));
    g_assert_nonnull(strstr(error->message, "NOPE"));
    g_clear_error(&error);
    assert_log(f, "");
    assert_redefine_rolled_back(f, old_xml, old_file, old0, old2);

    /* And after a restart the old definition is the one loaded. */
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*port dev 'vnet7'*");
    fixture_restart(f);
    g_test_assert_expected_messages();
    assert_redefine_rolled_back(f, old_xml, old_file, old0, old2);
}

/* The config file cannot be written after the kernel took the new rules:
 * the old rules are committed back and nothing else changes. */
static void
test_redefine_save_failure(Fixture *f, gconstpointer data)
{
    g_autofree char *old_xml = NULL, *old0 = NULL, *old2 = NULL, *now0 = NULL, *xml = NULL;
    g_autofree char *moved = g_strconcat(f->config_dir, ".moved", NULL);

    redefine_setup(f);
    old_xml = filter_xml_now(f, "t-leaf");
    old0 = kernel_port(f, "vnet0");
    old2 = kernel_port(f, "vnet2");

    g_assert_cmpint(g_rename(f->config_dir, moved), ==, 0);
    g_assert_true(g_file_set_contents(f->config_dir, "not a directory", -1, NULL));
    define_fails(f, "t-leaf", UUID_A, DROP_RULE, NWF_ERR_SYSTEM_ERROR, NULL);
    assert_log(f, "begin, set vnet0, set vnet2, commit, begin, set vnet0, set vnet2, commit");
    g_assert_cmpint(g_unlink(f->config_dir), ==, 0);
    g_assert_cmpint(g_rename(moved, f->config_dir), ==, 0);

    xml = filter_xml_now(f, "t-leaf");
    g_assert_cmpstr(xml, ==, old_xml);
    now0 = kernel_port(f, "vnet0");
    g_assert_cmpstr(now0, ==, old0);
    g_clear_pointer(&now0, g_free);
    now0 = kernel_port(f, "vnet2");
    g_assert_cmpstr(now0, ==, old2);
    assert_only_xml(f->config_dir);
}

/* Without IP learning a tree that needs $IP is refused, never applied
 * half-way; with IP given as a parameter it binds. */
static void
test_needs_ip(Fixture *f, gconstpointer data)
{
    g_autofree char *needs_ip = binding_xml("vnet0", "t-ip", NULL);
    g_autoptr(GError) error = NULL;

    define_ok(f, "t-ip", UUID_A, "<rule action='drop' direction='out'><ip srcipaddr='$IP'/></rule>");
    clear_log(f);
    g_assert_null(nwf_driver_binding_create(f->driver, needs_ip, FALSE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_OPERATION_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "port dev 'vnet0' needs the variable IP"));
    g_clear_error(&error);
    assert_log(f, "");
    g_assert_null(nwf_driver_binding_lookup(f->driver, "vnet0", &error));
    g_clear_error(&error);

    bind_ok(f, "vnet0", "t-ip", "<parameter name='IP' value='10.0.0.5'/>");
    assert_log(f, "begin, set vnet0, commit");
    g_assert_nonnull(strstr(g_hash_table_lookup(f->kernel->ports, "vnet0"), "10.0.0.5"));
}

/* "--" cannot go into the header comment; the file must still load. */
static void
test_dash_name(Fixture *f, gconstpointer data)
{
    g_autofree char *xml = NULL;

    define_ok(f, "t--dash", UUID_A, MAC_RULE);
    fixture_restart(f);
    xml = filter_xml_now(f, "t--dash");
    g_assert_nonnull(strstr(xml, "name='t--dash'"));
}

#define MANY_BINDINGS 500

/* One filter under many bindings: a redefinition is one transaction. */
static void
test_redefine_many(Fixture *f, gconstpointer data)
{
    g_autofree char *log = NULL;
    g_auto(GStrv) entries = NULL;
    guint commits;
    gint64 start;
    gint64 elapsed;

    f->all_present = TRUE;
    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    for (int i = 0; i < MANY_BINDINGS; i++) {
        g_autofree char *port = g_strdup_printf("m%d", i);

        bind_ok(f, port, "t-leaf", NULL);
    }
    clear_log(f);
    commits = f->kernel->commits;
    start = g_get_monotonic_time();
    define_ok(f, "t-leaf", UUID_A, DROP_RULE);
    elapsed = g_get_monotonic_time() - start;
    g_assert_cmpuint(f->kernel->commits, ==, commits + 1);
    log = take_log(f);
    entries = g_strsplit(log, ", ", -1);
    g_assert_cmpuint(g_strv_length(entries), ==, MANY_BINDINGS + 2);
    g_assert_cmpstr(entries[0], ==, "begin");
    for (int i = 1; i <= MANY_BINDINGS; i++)
        g_assert_true(g_str_has_prefix(entries[i], "set m"));
    g_assert_cmpstr(entries[MANY_BINDINGS + 1], ==, "commit");
    g_test_message("redefinition of a filter under %d bindings: %.1f ms (compile + one commit)",
                   MANY_BINDINGS, elapsed / 1000.0);
    start = g_get_monotonic_time();
    bind_ok(f, "m-new", "t-leaf", NULL);
    g_test_message("one binding create: %.2f ms",
                   (g_get_monotonic_time() - start) / 1000.0);

    /* A restart that finds every rule in place writes nothing. */
    f->with_matches = TRUE;
    clear_log(f);
    start = g_get_monotonic_time();
    fixture_restart(f);
    g_test_message("restart with %d bindings already in the kernel: %.1f ms",
                   MANY_BINDINGS + 1, (g_get_monotonic_time() - start) / 1000.0);
    assert_log(f, "");
}

#define RACE_THREADS 4
#define RACE_ROUNDS 25

typedef struct {
    Fixture *f;
    int id;
    gint64 worst_create;   /* microseconds */
} RaceWorker;

static gpointer
race_binder(gpointer data)
{
    RaceWorker *w = data;

    for (int i = 0; i < RACE_ROUNDS; i++) {
        g_autofree char *port = g_strdup_printf("r%d-%d", w->id, i);
        gint64 start = g_get_monotonic_time();

        bind_ok(w->f, port, "t-leaf", NULL);
        w->worst_create = MAX(w->worst_create, g_get_monotonic_time() - start);
        unbind_ok(w->f, port);
    }
    return NULL;
}

static gpointer
race_redefiner(gpointer data)
{
    RaceWorker *w = data;

    for (int i = 0; i < RACE_ROUNDS; i++)
        define_ok(w->f, "t-leaf", UUID_A, i % 2 ? DROP_RULE : MAC_RULE);
    return NULL;
}

/* Binding creates and deletes from several threads while another thread
 * keeps redefining their filter: every call succeeds and the end state is
 * exactly what the calls leave. */
static void
test_concurrent_calls(Fixture *f, gconstpointer data)
{
    RaceWorker workers[RACE_THREADS + 1] = { 0 };
    GThread *threads[RACE_THREADS + 1];
    g_autoptr(GPtrArray) left = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *action = NULL;
    const char *last;
    gint64 worst = 0;

    f->all_present = TRUE;
    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    bind_ok(f, "r-steady", "t-leaf", NULL);
    for (int i = 0; i <= RACE_THREADS; i++) {
        workers[i].f = f;
        workers[i].id = i;
        threads[i] = g_thread_new("race", i < RACE_THREADS ? race_binder : race_redefiner,
                                  &workers[i]);
    }
    for (int i = 0; i <= RACE_THREADS; i++) {
        g_thread_join(threads[i]);
        worst = MAX(worst, workers[i].worst_create);
    }
    left = nwf_driver_binding_list(f->driver);
    g_assert_cmpuint(left->len, ==, 1);
    g_assert_cmpuint(g_hash_table_size(f->kernel->ports), ==, 1);
    /* The last redefinition reached the steady port. */
    last = (RACE_ROUNDS - 1) % 2 ? "drop" : "accept";
    g_assert_nonnull(strstr(g_hash_table_lookup(f->kernel->ports, "r-steady"), last));
    xml = filter_xml_now(f, "t-leaf");
    action = g_strdup_printf("action='%s'", last);
    g_assert_nonnull(strstr(xml, action));
    assert_only_xml(f->config_dir);
    assert_only_xml(f->state_dir);
    g_test_message("slowest binding create among %d racing threads: %.2f ms",
                   RACE_THREADS, worst / 1000.0);
}

/* ---- bindings ---- */

static void
test_binding_lifecycle(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *dup = binding_xml("vnet0", "t-leaf", NULL);
    g_autofree char *status = g_build_filename(f->state_dir, "vnet0.xml", NULL);
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(NwfBindingDef) def = NULL;
    g_autoptr(NwfBindingDef) from_file = NULL;

    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    clear_log(f);
    bind_ok(f, "vnet1", "t-leaf", "<parameter name='IP' value='10.9.9.9'/>");
    bind_ok(f, "vnet0", "t-leaf", NULL);
    assert_log(f, "begin, set vnet1, commit, begin, set vnet0, commit");

    xml = nwf_driver_binding_get_xml(f->driver, "vnet1", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(xml, ==,
                    "<filterbinding>\n"
                    "  <owner>\n"
                    "    <name>vm1</name>\n"
                    "    <uuid>11111111-2222-3333-4444-555555555555</uuid>\n"
                    "  </owner>\n"
                    "  <portdev name='vnet1'/>\n"
                    "  <mac address='52:54:00:aa:bb:cc'/>\n"
                    "  <filterref filter='t-leaf'>\n"
                    "    <parameter name='IP' value='10.9.9.9'/>\n"
                    "    <parameter name='MAC' value='52:54:00:aa:bb:cc'/>\n"
                    "  </filterref>\n"
                    "</filterbinding>\n");

    list = nwf_driver_binding_list(f->driver);
    g_assert_cmpuint(list->len, ==, 2);
    g_assert_cmpstr(((NwfBindingDef *)list->pdata[0])->portdev, ==, "vnet0");
    g_assert_cmpstr(((NwfBindingDef *)list->pdata[1])->portdev, ==, "vnet1");
    def = nwf_driver_binding_lookup(f->driver, "vnet0", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->filterref.filter, ==, "t-leaf");

    g_assert_cmpuint(file_mode(status), ==, 0600);
    g_assert_cmpuint(file_mode(f->state_dir), ==, 0700);
    from_file = nwf_binding_def_parse_status_file(status, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(from_file->portdev, ==, "vnet0");
    g_assert_true(nwf_params_has(from_file->filterref.params, "MAC"));

    g_assert_null(nwf_driver_binding_create(f->driver, dup, FALSE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_OPERATION_FAILED);
    g_assert_cmpstr(error->message, ==, "operation failed: binding 'vnet0' already exists");
    g_clear_error(&error);
    assert_log(f, "");

    unbind_ok(f, "vnet0");
    assert_log(f, "begin, remove vnet0, commit");
    g_assert_null(g_hash_table_lookup(f->kernel->ports, "vnet0"));
    g_assert_false(g_file_test(status, G_FILE_TEST_EXISTS));
    g_assert_false(nwf_driver_binding_delete(f->driver, "vnet0", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER_BINDING);
    g_assert_cmpstr(error->message, ==,
                    "Network filter binding not found: no nwfilter binding for port dev 'vnet0'");
    g_clear_error(&error);
    g_assert_null(nwf_driver_binding_lookup(f->driver, "vnet0", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER_BINDING);
    g_clear_error(&error);
    g_assert_null(nwf_driver_binding_get_xml(f->driver, "vnet0", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER_BINDING);
}

static void
test_binding_absent_port(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    /* An absent device: accepted even with a missing filter, nothing applied,
     * no MAC parameter added. */
    bind_ok(f, "vnet9", "t-missing", NULL);
    assert_log(f, "");
    xml = nwf_driver_binding_get_xml(f->driver, "vnet9", &error);
    g_assert_no_error(error);
    g_assert_null(strstr(xml, "<parameter"));
    g_assert_nonnull(strstr(xml, "<filterref filter='t-missing'/>"));
    unbind_ok(f, "vnet9");

    /* The device appears while the daemon is down: the next start applies
     * the binding, and dumpxml then shows the MAC variable. */
    clear_log(f);
    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    bind_ok(f, "vnet9", "t-leaf", NULL);
    assert_log(f, "");
    g_hash_table_add(f->present, g_strdup("vnet9"));
    fixture_restart(f);
    assert_log(f, "begin, set vnet9, commit");
    g_clear_pointer(&xml, g_free);
    xml = nwf_driver_binding_get_xml(f->driver, "vnet9", &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(xml, "<parameter name='MAC' value='52:54:00:aa:bb:cc'/>"));
}

static void
test_binding_failures(Fixture *f, gconstpointer data)
{
    g_autofree char *missing = binding_xml("vnet0", "t-missing", NULL);
    g_autofree char *good = binding_xml("vnet0", "t-leaf", NULL);
    g_autofree char *status = g_build_filename(f->state_dir, "vnet0.xml", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_null(nwf_driver_binding_create(f->driver, missing, FALSE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_INTERNAL_ERROR);
    g_assert_cmpstr(error->message, ==, "internal error: referenced filter 't-missing' is missing");
    g_clear_error(&error);
    assert_log(f, "");

    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    f->kernel->fail_commit = TRUE;
    g_assert_null(nwf_driver_binding_create(f->driver, good, FALSE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_INTERNAL_ERROR);
    g_clear_error(&error);
    assert_log(f, "begin, set vnet0, fail");
    g_assert_false(g_file_test(status, G_FILE_TEST_EXISTS));
    g_assert_null(nwf_driver_binding_lookup(f->driver, "vnet0", &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_NO_NWFILTER_BINDING);
    assert_only_xml(f->state_dir);
}

/* ---- restart ---- */

static char *
describe_state(Fixture *f)
{
    g_autoptr(GPtrArray) filters = nwf_driver_filter_list(f->driver);
    g_autoptr(GPtrArray) bindings = nwf_driver_binding_list(f->driver);
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < filters->len; i++) {
        NwfFilterInfo *info = g_ptr_array_index(filters, i);
        g_autofree char *xml = nwf_driver_filter_get_xml(f->driver, info->uuid, NULL);

        g_string_append(out, xml);
    }
    for (guint i = 0; i < bindings->len; i++) {
        g_autofree char *xml = nwf_binding_def_format(g_ptr_array_index(bindings, i));

        g_string_append(out, xml);
    }
    return g_string_free(out, FALSE);
}

static void
test_restart(Fixture *f, gconstpointer data)
{
    g_autofree char *before = NULL, *after = NULL;
    g_autofree char *gone = g_build_filename(f->state_dir, "vnet7.xml", NULL);
    char *cut;

    redefine_setup(f);
    before = describe_state(f);

    /* Without a drift check every present binding is applied again, in one
     * transaction; the absent vnet7 is dropped. */
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*port dev 'vnet7'*");
    fixture_restart(f);
    g_test_assert_expected_messages();
    assert_log(f, "begin, set vnet0, set vnet1, set vnet2, remove vnet7, commit");
    g_assert_false(g_file_test(gone, G_FILE_TEST_EXISTS));
    after = describe_state(f);
    g_assert_nonnull(strstr(before, "<portdev name='vnet7'/>"));
    g_assert_null(strstr(after, "<portdev name='vnet7'/>"));
    /* Everything else came back unchanged. */
    cut = strstr(before, "<filterbinding>\n  <owner>\n    <name>vm1</name>\n"
                         "    <uuid>11111111-2222-3333-4444-555555555555</uuid>\n  </owner>\n"
                         "  <portdev name='vnet7'/>");
    g_assert_nonnull(cut);
    *cut = '\0';
    g_assert_cmpstr(after, ==, before);

    /* With a drift check, rules already in place are left alone ... */
    g_clear_pointer(&before, g_free);
    before = g_steal_pointer(&after);
    f->with_matches = TRUE;
    fixture_restart(f);
    assert_log(f, "");
    after = describe_state(f);
    g_assert_cmpstr(after, ==, before);

    /* ... and only what differs is rewritten. */
    g_hash_table_remove(f->kernel->ports, "vnet1");
    fixture_restart(f);
    assert_log(f, "begin, set vnet1, commit");
}

#define RESTART_BINDINGS 70

/* A restart with enough bindings for the batch compile to use threads,
 * where every tenth binding's filter has gone from the config dir: those
 * are logged and left out, every other one is applied, in one transaction
 * and as before the restart. */
static void
test_restart_skips_bad(Fixture *f, gconstpointer data)
{
    g_autofree char *gone = g_build_filename(f->config_dir, "t-gone.xml", NULL);
    g_autofree char *log = NULL;
    g_autoptr(GHashTable) before = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                         g_free);

    f->all_present = TRUE;
    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    define_ok(f, "t-gone", UUID_B, DROP_RULE);
    for (int i = 0; i < RESTART_BINDINGS; i++) {
        g_autofree char *port = g_strdup_printf("s%02d", i);
        bind_ok(f, port, i % 10 == 3 ? "t-gone" : "t-leaf", NULL);
        g_hash_table_insert(before, g_strdup(port),
                            g_strdup(g_hash_table_lookup(f->kernel->ports, port)));
    }
    g_assert_cmpint(g_unlink(gone), ==, 0);
    g_hash_table_remove_all(f->kernel->ports);
    clear_log(f);
    for (int i = 3; i < RESTART_BINDINGS; i += 10)
        g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                              "*cannot instantiate the filter of port dev 's?3'*t-gone*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                          "*7 binding(s) could not be instantiated*");
    fixture_restart(f);
    g_test_assert_expected_messages();
    log = take_log(f);
    g_assert_true(g_str_has_prefix(log, "begin, set s00, set s01, set s02, set s04"));
    g_assert_true(g_str_has_suffix(log, "set s69, commit"));
    for (int i = 0; i < RESTART_BINDINGS; i++) {
        g_autofree char *port = g_strdup_printf("s%02d", i);
        if (i % 10 == 3)
            g_assert_false(g_hash_table_contains(f->kernel->ports, port));
        else
            g_assert_cmpstr(g_hash_table_lookup(f->kernel->ports, port), ==,
                            g_hash_table_lookup(before, port));
    }
}

/* SIGHUP / firewall reload: everything present is applied again, bindings
 * on absent devices are kept. */
static void
test_reapply_all(Fixture *f, gconstpointer data)
{
    g_autofree char *top_b = g_build_filename(f->config_dir, "t-top-b.xml", NULL);
    g_autoptr(GError) error = NULL;

    redefine_setup(f);
    g_hash_table_remove_all(f->kernel->ports);
    g_assert_true(nwf_driver_reapply_all(f->driver, &error));
    g_assert_no_error(error);
    assert_log(f, "begin, set vnet0, set vnet1, set vnet2, commit");
    g_assert_cmpuint(g_hash_table_size(f->kernel->ports), ==, 3);
    g_free(nwf_driver_binding_get_xml(f->driver, "vnet7", &error));
    g_assert_no_error(error);

    /* A binding whose filter has gone is reported, the others applied. */
    g_hash_table_remove_all(f->kernel->ports);
    g_assert_cmpint(g_unlink(top_b), ==, 0);
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                          "*port dev 'vnet1'*referenced filter 't-top-b' is missing*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*port dev 'vnet7'*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*1 binding(s) could not*");
    fixture_restart(f);
    g_test_assert_expected_messages();
    assert_log(f, "begin, set vnet0, set vnet2, remove vnet7, commit");
    g_free(nwf_driver_binding_get_xml(f->driver, "vnet1", &error));
    g_assert_no_error(error);
}

static void
write_config_file(Fixture *f, const char *file, const char *text)
{
    g_autofree char *path = g_build_filename(f->config_dir, file, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
test_load_uuid_written_back(Fixture *f, gconstpointer data)
{
    g_autofree char *xml = filter_xml("t-nouuid", NULL, MAC_RULE);
    g_autofree char *file = NULL;
    g_autofree char *uuid_text = NULL;
    g_autoptr(GError) error = NULL;
    NwfFilterInfo *info;
    NwfFilterInfo *again;

    write_config_file(f, "t-nouuid.xml", xml);
    fixture_restart(f);
    info = nwf_driver_filter_lookup_by_name(f->driver, "t-nouuid", &error);
    g_assert_no_error(error);
    uuid_text = nwf_uuid_format(info->uuid);
    file = read_file(f->config_dir, "t-nouuid.xml");
    g_assert_nonnull(strstr(file, uuid_text));

    fixture_restart(f);
    again = nwf_driver_filter_lookup_by_name(f->driver, "t-nouuid", &error);
    g_assert_no_error(error);
    g_assert_cmpmem(again->uuid, 16, info->uuid, 16);
    nwf_filter_info_free(again);
    nwf_filter_info_free(info);
}

static void
test_load_skips_bad_files(Fixture *f, gconstpointer data)
{
    g_autofree char *wrong = filter_xml("t-right", UUID_A, MAC_RULE);
    g_autofree char *a = NULL, *b = NULL, *twin = NULL;
    g_autofree char *to_a = ref_xml("t-la");
    g_autofree char *to_b = ref_xml("t-lb");

    a = filter_xml("t-la", UUID_B, to_b);
    b = filter_xml("t-lb", UUID_C, to_a);
    twin = filter_xml("t-twin", UUID_B, MAC_RULE);
    write_config_file(f, "t-wrong.xml", wrong);
    write_config_file(f, "t-broken.xml", "<filter name='t-broken'");
    write_config_file(f, "t-la.xml", a);
    write_config_file(f, "t-lb.xml", b);
    write_config_file(f, "t-twin.xml", twin);
    write_config_file(f, "notes.txt", "not a filter");

    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*t-broken.xml*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*would introduce a loop*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*same UUID but different name*");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                          "*network filter config filename '*t-wrong.xml' does not match name 't-right'*");
    fixture_restart(f);
    g_test_assert_expected_messages();
    g_assert_cmpuint(nwf_driver_filter_count(f->driver), ==, 1);
    g_free(filter_xml_now(f, "t-la"));
}

/* libvirt's stock filters dropped into the config dir (as a package would
 * install them, without uuids) load, get uuids written back, keep them
 * across a restart, and clean-traffic binds. */
static void
test_load_stock_filters(Fixture *f, gconstpointer data)
{
    g_autoptr(GDir) dir = g_dir_open(NWF_SOURCE_STOCK_FILTER_DIR, 0, NULL);
    g_autoptr(GPtrArray) first = NULL;
    g_autoptr(GPtrArray) second = NULL;
    const char *entry;
    guint copied = 0;

    g_assert_nonnull(dir);
    while ((entry = g_dir_read_name(dir))) {
        g_autofree char *src = g_build_filename(NWF_SOURCE_STOCK_FILTER_DIR, entry, NULL);
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(src, &text, NULL, NULL));
        g_assert_null(strstr(text, "<uuid>"));
        write_config_file(f, entry, text);
        copied++;
    }
    g_assert_cmpuint(copied, ==, 24);
    fixture_restart(f);
    first = nwf_driver_filter_list(f->driver);
    g_assert_cmpuint(first->len, ==, copied);
    for (guint i = 0; i < first->len; i++) {
        NwfFilterInfo *info = g_ptr_array_index(first, i);
        g_autofree char *file = g_strconcat(info->name, ".xml", NULL);
        g_autofree char *text = read_file(f->config_dir, file);
        g_autofree char *uuid = nwf_uuid_format(info->uuid);

        g_assert_nonnull(strstr(text, uuid));
    }

    fixture_restart(f);
    second = nwf_driver_filter_list(f->driver);
    g_assert_cmpuint(second->len, ==, first->len);
    for (guint i = 0; i < first->len; i++) {
        NwfFilterInfo *a = g_ptr_array_index(first, i);
        NwfFilterInfo *b = g_ptr_array_index(second, i);

        g_assert_cmpstr(a->name, ==, b->name);
        g_assert_cmpmem(a->uuid, 16, b->uuid, 16);
    }
    clear_log(f);
    bind_ok(f, "vnet0", "clean-traffic", "<parameter name='IP' value='10.1.2.3'/>");
    assert_log(f, "begin, set vnet0, commit");
    g_assert_nonnull(strstr(g_hash_table_lookup(f->kernel->ports, "vnet0"), "10.1.2.3"));
}

static void
test_atomic_leaves_no_temp(Fixture *f, gconstpointer data)
{
    g_autofree char *stale = g_build_filename(f->config_dir, ".t-x.xml.nwf-tmp-AbC123", NULL);
    g_autofree char *stale_state = g_build_filename(f->state_dir, ".vnet0.xml.nwf-tmp-AbC123", NULL);

    redefine_setup(f);
    define_ok(f, "t-leaf", UUID_A, DROP_RULE);
    define_ok(f, "t-leaf", UUID_A, MAC_RULE);
    unbind_ok(f, "vnet1");
    assert_only_xml(f->config_dir);
    assert_only_xml(f->state_dir);

    /* Temp files a crash left behind are removed at start. */
    g_assert_true(g_file_set_contents(stale, "<filter", -1, NULL));
    g_assert_true(g_file_set_contents(stale_state, "<filterbinding", -1, NULL));
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*port dev 'vnet7'*");
    fixture_restart(f);
    g_test_assert_expected_messages();
    assert_only_xml(f->config_dir);
    assert_only_xml(f->state_dir);
}

static void
test_file_write_atomic(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *root = g_dir_make_tmp("nwf-file-XXXXXX", &error);
    g_autofree char *path = g_build_filename(root, "f.xml", NULL);
    g_autofree char *bad = g_build_filename(root, "missing", "f.xml", NULL);
    g_autofree char *text = NULL;
    mode_t old_umask = umask(0);

    g_assert_no_error(error);
    g_assert_true(nwf_file_write_atomic(path, "one", 3, 0600, &error));
    g_assert_no_error(error);
    g_assert_true(nwf_file_write_atomic(path, "two!", 4, 0600, &error));
    umask(old_umask);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "two!");
    g_assert_cmpuint(file_mode(path), ==, 0600);
    assert_only_xml(root);

    g_assert_false(nwf_file_write_atomic(bad, "x", 1, 0600, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(error->message, "Failed to create file"));
    g_clear_error(&error);

    g_assert_true(nwf_file_remove_durable(path, &error));
    g_assert_true(nwf_file_remove_durable(path, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_rmdir(root), ==, 0);
}

/* ---- crash safety ---- */

#define CRASH_CYCLES 50
#define CRASH_STEPS 60

/* The calls a crash child makes, in order: "F name" (define a new filter),
 * "S n" (redefine the cycle's shared filter to version n), "B port" (bind
 * it), "X port" (unbind). */
static GPtrArray *
crash_plan(int cycle)
{
    GPtrArray *ops = g_ptr_array_new_with_free_func(g_free);

    for (int i = 0; i < CRASH_STEPS; i++) {
        g_ptr_array_add(ops, g_strdup_printf("F t-c%d-%d", cycle, i));
        g_ptr_array_add(ops, g_strdup_printf("S %d", i));
        g_ptr_array_add(ops, g_strdup_printf("B c%dp%d", cycle, i));
        if (i > 0)
            g_ptr_array_add(ops, g_strdup_printf("X c%dp%d", cycle, i - 1));
    }
    return ops;
}

static char *
crash_shared_rule(int version)
{
    return g_strdup_printf("<rule action='accept' direction='out' priority='%d'>"
                           "<mac srcmacaddr='$MAC'/></rule>", version);
}

/* The child: run the plan until killed, writing each call's index to FD
 * once the call has returned. */
static void
crash_child(Fixture *f, int cycle, int fd)
{
    g_autoptr(GPtrArray) ops = crash_plan(cycle);
    g_autofree char *shared = g_strdup_printf("t-s%d", cycle);
    g_autofree char *uuid = g_strdup_printf("cccccccc-0000-4000-8000-%012d", cycle);

    /* A forked child inherits the parent's random state: without a new seed
     * every child would generate the same "random" uuids. */
    g_random_set_seed((guint32)getpid() ^ (guint32)g_get_real_time());
    f->all_present = TRUE;
    fixture_start(f);
    if (write(fd, "ready\n", 6) != 6)
        _exit(3);
    for (guint i = 0; i < ops->len; i++) {
        const char *op = g_ptr_array_index(ops, i);
        const char *arg = op + 2;
        g_autofree char *ack = g_strdup_printf("%u\n", i);

        switch (op[0]) {
        case 'F':
            define_ok(f, arg, NULL, MAC_RULE);
            break;
        case 'S': {
            g_autofree char *rule = crash_shared_rule(atoi(arg));

            define_ok(f, shared, uuid, rule);
            break;
        }
        case 'B':
            bind_ok(f, arg, shared, NULL);
            break;
        default:
            unbind_ok(f, arg);
            break;
        }
        if (write(fd, ack, strlen(ack)) != (ssize_t)strlen(ack))
            _exit(3);
    }
    _exit(0);
}

static void
crash_check_config_dir(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(f->config_dir, 0, &error);
    const char *entry;

    g_assert_no_error(error);
    while ((entry = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(f->config_dir, entry, NULL);
        g_autoptr(NwfFilterDef) def = NULL;
        g_autofree char *name = NULL;

        if (nwf_file_is_temp_name(entry))
            continue;
        def = nwf_filter_def_parse_file(path, &error);
        g_assert_no_error(error);
        name = g_strconcat(def->name, ".xml", NULL);
        g_assert_cmpstr(name, ==, entry);
    }
}

/* ACKED calls of the plan returned; the next one may or may not have taken
 * effect. Everything else must be exactly as the acknowledged calls left it. */
static void
crash_verify(Fixture *f, int cycle, guint acked)
{
    g_autoptr(GPtrArray) ops = crash_plan(cycle);
    g_autoptr(GHashTable) bound = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) bindings = NULL;
    g_autofree char *prefix = g_strdup_printf("c%dp", cycle);
    const char *in_flight = acked < ops->len ? g_ptr_array_index(ops, acked) : "";
    int shared_version = -1;
    guint seen = 0;

    crash_check_config_dir(f);
    f->all_present = TRUE;
    fixture_restart(f);
    assert_only_xml(f->config_dir);
    assert_only_xml(f->state_dir);

    for (guint i = 0; i < acked; i++) {
        const char *op = g_ptr_array_index(ops, i);

        if (op[0] == 'F')
            g_free(filter_xml_now(f, op + 2));
        else if (op[0] == 'S')
            shared_version = atoi(op + 2);
        else if (op[0] == 'B')
            g_hash_table_add(bound, (gpointer)(op + 2));
        else
            g_hash_table_remove(bound, op + 2);
    }
    if (shared_version >= 0) {
        g_autofree char *shared = g_strdup_printf("t-s%d", cycle);
        g_autofree char *xml = filter_xml_now(f, shared);
        g_autofree char *acked_rule = g_strdup_printf("priority='%d'", shared_version);
        g_autofree char *next_rule = g_strdup_printf("priority='%d'", shared_version + 1);

        g_assert_true(strstr(xml, acked_rule) ||
                      (in_flight[0] == 'S' && strstr(xml, next_rule)));
    }

    /* This cycle's bindings: the acknowledged set, give or take the call
     * in flight. */
    bindings = nwf_driver_binding_list(f->driver);
    for (guint i = 0; i < bindings->len; i++) {
        const NwfBindingDef *def = g_ptr_array_index(bindings, i);

        if (!g_str_has_prefix(def->portdev, prefix))
            continue;
        if (g_hash_table_contains(bound, def->portdev))
            seen++;
        else
            g_assert_true(in_flight[0] == 'B' && strcmp(in_flight + 2, def->portdev) == 0);
    }
    if (in_flight[0] == 'X' && g_hash_table_contains(bound, in_flight + 2))
        g_assert_cmpuint(seen + 1, >=, g_hash_table_size(bound));
    else
        g_assert_cmpuint(seen, ==, g_hash_table_size(bound));
    g_clear_pointer(&f->driver, nwf_driver_free);
}

/* The acknowledgements are the call indexes 0, 1, 2, ... in order. */
static guint
count_acks(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = 0;

    g_assert_cmpstr(lines[0], ==, "ready");
    for (; lines[n + 1] && lines[n + 1][0]; n++)
        g_assert_cmpuint(g_ascii_strtoull(lines[n + 1], NULL, 10), ==, n);
    return n;
}

static void
test_crash_safety(Fixture *f, gconstpointer data)
{
    GRand *rand = g_rand_new_with_seed(0x6e7766);
    guint total_acked = 0;
    gint64 start;
    guint killed = 0;

    g_clear_pointer(&f->driver, nwf_driver_free);
    for (int cycle = 0; cycle < CRASH_CYCLES; cycle++) {
        GString *acks = g_string_new(NULL);
        char buf[4096];
        int fds[2];
        int status;
        guint acked;
        ssize_t n;
        pid_t pid;

        g_assert_cmpint(pipe(fds), ==, 0);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(f, cycle, fds[1]);
        }
        close(fds[1]);
        /* Start the clock once the child has loaded the dirs: the kill
         * should land among the calls, not during start-up. */
        n = read(fds[0], buf, 6);
        g_assert_cmpint(n, ==, 6);
        g_string_append_len(acks, buf, n);
        g_usleep(g_rand_int_range(rand, 0, 150000));
        kill(pid, SIGKILL);
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        if (WIFSIGNALED(status)) {
            g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
            killed++;
        } else {
            g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        }
        while ((n = read(fds[0], buf, sizeof(buf))) > 0)
            g_string_append_len(acks, buf, n);
        close(fds[0]);
        acked = count_acks(acks->str);
        total_acked += acked;
        crash_verify(f, cycle, acked);
        g_string_free(acks, TRUE);
    }
    g_test_message("%u of %d children killed mid-run, %u calls acknowledged",
                   killed, CRASH_CYCLES, total_acked);
    g_assert_cmpuint(killed, >, CRASH_CYCLES / 2);
    g_rand_free(rand);
    start = g_get_monotonic_time();
    fixture_start(f);
    g_test_message("start with %u filters and %u bindings: %.1f ms",
                   nwf_driver_filter_count(f->driver), g_hash_table_size(f->kernel->ports),
                   (g_get_monotonic_time() - start) / 1000.0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/driver/filter/lifecycle", test_filter_lifecycle);
    ADD("/driver/filter/uuid-rules", test_filter_uuid_rules);
    ADD("/driver/filter/loop", test_filter_loop);
    ADD("/driver/filter/undefine-in-use", test_undefine_in_use);
    ADD("/driver/filter/real-port-presence", test_real_port_presence);
    ADD("/driver/filter/validate", test_validate);
    ADD("/driver/redefine/affected", test_redefine_affected);
    ADD("/driver/redefine/failure", test_redefine_failure);
    ADD("/driver/redefine/save-failure", test_redefine_save_failure);
    ADD("/driver/redefine/many-bindings", test_redefine_many);
    ADD("/driver/binding/concurrent", test_concurrent_calls);
    ADD("/driver/binding/needs-ip", test_needs_ip);
    ADD("/driver/filter/dash-name", test_dash_name);
    ADD("/driver/binding/lifecycle", test_binding_lifecycle);
    ADD("/driver/binding/absent-port", test_binding_absent_port);
    ADD("/driver/binding/failures", test_binding_failures);
    ADD("/driver/restart/reapply", test_restart);
    ADD("/driver/restart/skips-bad-bindings", test_restart_skips_bad);
    ADD("/driver/restart/reapply-all", test_reapply_all);
    ADD("/driver/restart/uuid-written-back", test_load_uuid_written_back);
    ADD("/driver/restart/stock-filters", test_load_stock_filters);
    ADD("/driver/restart/skips-bad-files", test_load_skips_bad_files);
    ADD("/driver/persist/no-temp-files", test_atomic_leaves_no_temp);
    ADD("/driver/persist/crash-safety", test_crash_safety);
#undef ADD
    g_test_add_func("/driver/file/write-atomic", test_file_write_atomic);
    return g_test_run();
}
