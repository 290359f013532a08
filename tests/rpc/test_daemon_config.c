/* nwfilterd's config file: libvirtd.conf syntax, its keys, its errors. */
#include "config.h"

#include <glib/gstdio.h>

#include "daemon/nwfilterd_config.h"
#include "util/nwf_error.h"

static void
test_defaults(void)
{
    NwfDaemonConfig c;

    nwf_daemon_config_init(&c);
    g_assert_cmpstr(c.socket_dir, ==, "/run/libvirt");
    g_assert_cmpstr(c.config_dir, ==, "/etc/libvirt/nwfilter");
    g_assert_cmpstr(c.state_dir, ==, "/run/libvirt/nwfilter-binding");
    g_assert_null(c.backend);
    g_assert_cmpuint(c.log_level, ==, 3);
    nwf_daemon_config_clear(&c);
}

static void
test_full(void)
{
    static const char text[] =
        "# nwfilterd.conf\n"
        "firewall_backend = \"ebiptables\"\n"
        "  config_dir='/srv/filters'   # single quotes work too\n"
        "state_dir = \"/srv/state#1\"\n"
        "socket_dir = \"/srv/sock\"\n"
        "log_level = 1\n"
        "keepalive_interval = 0\n"
        "unix_sock_group = \"libvirt\"\n"
        "\n";
    NwfDaemonConfig c;
    g_autoptr(GError) error = NULL;

    nwf_daemon_config_init(&c);
    g_test_expect_message("nwfilter", G_LOG_LEVEL_WARNING,
                          "t.conf:8: ignoring unknown setting 'unix_sock_group'");
    g_assert_true(nwf_daemon_config_load_data(&c, "t.conf", text, &error));
    g_test_assert_expected_messages();
    g_assert_cmpstr(c.backend, ==, "ebiptables");
    g_assert_cmpstr(c.config_dir, ==, "/srv/filters");
    g_assert_cmpstr(c.state_dir, ==, "/srv/state#1");
    g_assert_cmpstr(c.socket_dir, ==, "/srv/sock");
    g_assert_cmpuint(c.log_level, ==, 1);
    g_assert_cmpuint(c.keepalive_interval, ==, 0);
    nwf_daemon_config_clear(&c);
}

static const struct {
    const char *text;
    const char *message;
} bad[] = {
    { "firewall_backend\n", "unsupported configuration: t.conf:1: expected 'key = value'" },
    { "\nlog_level = 7\n", "unsupported configuration: t.conf:2: 'log_level' must be a number from 1 to 4" },
    { "log_level = \"2\"\n", "unsupported configuration: t.conf:1: 'log_level' must be a number from 1 to 4" },
    { "config_dir = 5\n", "unsupported configuration: t.conf:1: 'config_dir' must be a non-empty quoted string" },
    { "config_dir = \"\"\n", "unsupported configuration: t.conf:1: 'config_dir' must be a non-empty quoted string" },
    { "state_dir = /tmp\n", "unsupported configuration: t.conf:1: value of 'state_dir' must be a quoted string or a number" },
    { "state_dir = \"a\"b\"\n", "unsupported configuration: t.conf:1: value of 'state_dir' must be a quoted string or a number" },
    { "max_clients = 12x\n", "unsupported configuration: t.conf:1: value of 'max_clients' must be a quoted string or a number" },
};

static void
test_bad(gconstpointer data)
{
    guint i = GPOINTER_TO_UINT(data);
    NwfDaemonConfig c;
    g_autoptr(GError) error = NULL;

    nwf_daemon_config_init(&c);
    g_assert_false(nwf_daemon_config_load_data(&c, "t.conf", bad[i].text, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpstr(error->message, ==, bad[i].message);
    nwf_daemon_config_clear(&c);
}

static void
test_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("nwf-conf-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "nwfilterd.conf", NULL);
    NwfDaemonConfig c;
    g_autoptr(GError) error = NULL;

    nwf_daemon_config_init(&c);
    g_assert_true(nwf_daemon_config_load_file(&c, path, FALSE, &error));
    g_assert_false(nwf_daemon_config_load_file(&c, path, TRUE, &error));
    g_assert_error(error, NWF_ERROR, NWF_ERR_CONFIG_UNSUPPORTED);
    g_clear_error(&error);
    g_assert_true(g_file_set_contents(path, "firewall_backend = \"nftables\"\n", -1, NULL));
    g_assert_true(nwf_daemon_config_load_file(&c, path, TRUE, &error));
    g_assert_cmpstr(c.backend, ==, "nftables");
    g_unlink(path);
    g_rmdir(dir);
    nwf_daemon_config_clear(&c);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon/config/defaults", test_defaults);
    g_test_add_func("/daemon/config/full", test_full);
    g_test_add_func("/daemon/config/files", test_files);
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/daemon/config/bad/%u", i);

        g_test_add_data_func(name, GUINT_TO_POINTER(i), test_bad);
    }
    return g_test_run();
}
