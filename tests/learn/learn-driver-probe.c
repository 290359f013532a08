/* learn-driver-probe: the nwfilter driver with IP address learning on a
 * real backend, in this network namespace, without the RPC layer. Loads
 * the filters of --config-dir and the bindings of --state-dir (as a daemon
 * restart does), creates each --binding FILE that is not there yet, prints
 * "ready" and serves learning on the main loop until SIGTERM/SIGINT.
 * Bindings are deleted on exit only with --delete-on-exit. */
#include "config.h"

#include <stdio.h>

#include <glib-unix.h>

#include "nwfilter/driver.h"
#include "util/nwf_error.h"

static gboolean
on_signal(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
    g_autofree char *config_dir = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *lease_dir = NULL;
    g_autofree char *backend_name = NULL;
    g_auto(GStrv) bindings = NULL;
    gboolean delete_on_exit = FALSE;
    GOptionEntry entries[] = {
        { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir, "filters", NULL },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "bindings", NULL },
        { "lease-dir", 0, 0, G_OPTION_ARG_FILENAME, &lease_dir, "learned addresses", NULL },
        { "backend", 0, 0, G_OPTION_ARG_STRING, &backend_name, "nftables or ebiptables", NULL },
        { "binding", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &bindings, "binding XML file", NULL },
        { "delete-on-exit", 0, 0, G_OPTION_ARG_NONE, &delete_on_exit, "delete bindings", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) octx = g_option_context_new("- driver with IP learning");
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func(g_free);
    NwfDriverConfig config = { 0 };
    NwfDriver *driver;

    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error) || !config_dir || !state_dir ||
        !lease_dir) {
        fprintf(stderr, "learn-driver-probe: %s\n",
                error ? error->message : "--config-dir, --state-dir and --lease-dir are needed");
        return 2;
    }
    config.config_dir = config_dir;
    config.state_dir = state_dir;
    config.lease_dir = lease_dir;
    config.backend = nwf_backend_new_by_name(backend_name, &error);
    if (!config.backend) {
        fprintf(stderr, "learn-driver-probe: %s\n", error->message);
        return 1;
    }
    driver = nwf_driver_new(&config, &error);
    if (!driver) {
        fprintf(stderr, "learn-driver-probe: %s\n", error->message);
        return 1;
    }
    for (guint i = 0; bindings && bindings[i]; i++) {
        g_autofree char *xml = NULL;
        g_autoptr(NwfBindingDef) def = NULL;
        g_autoptr(NwfBindingDef) parsed = NULL;

        if (!g_file_get_contents(bindings[i], &xml, NULL, &error) ||
            !(parsed = nwf_binding_def_parse_string(xml, -1, &error))) {
            fprintf(stderr, "learn-driver-probe: %s\n", error->message);
            return 1;
        }
        g_ptr_array_add(created, g_strdup(parsed->portdev));
        def = nwf_driver_binding_lookup(driver, parsed->portdev, NULL);
        if (def)
            continue;
        def = nwf_driver_binding_create(driver, xml, FALSE, &error);
        if (!def) {
            fprintf(stderr, "learn-driver-probe: %s\n", error->message);
            return 1;
        }
    }
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_unix_signal_add(SIGINT, on_signal, loop);
    printf("ready\n");
    fflush(stdout);
    g_main_loop_run(loop);

    for (guint i = 0; delete_on_exit && i < created->len; i++) {
        if (!nwf_driver_binding_delete(driver, g_ptr_array_index(created, i), &error)) {
            fprintf(stderr, "learn-driver-probe: %s\n", error->message);
            g_clear_error(&error);
        }
    }
    nwf_driver_free(driver);
    return 0;
}
