/* learn-probe: runs the learning engine on one or more ports in this
 * network namespace and prints each port's learned addresses whenever they
 * change, one line each:
 *
 *   <monotonic-us> <portdev> ipv4=<a,b|-> ipv6=<c,d|->
 *
 * Ports: --port DEV,MAC,MODE,FAMILIES[,LINKDEV] with MODE any|dhcp and
 * FAMILIES 4, 6 or 46. --dhcp-server / --dhcp-server6 (repeatable) apply to
 * every port. "ready" is printed once every port runs. On SIGTERM or
 * SIGINT each port's counters are printed ("counters DEV decoded=N
 * dropped=N") and the probe exits 0. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "nwfilter/learn.h"
#include "util/nwf_error.h"

#define OWNER "6a2c6c2e-8d8b-4a6b-9d5e-0123456789ab"

static void
print_port(NwfLearner *learner, const char *portdev)
{
    g_autoptr(GPtrArray) v4 = NULL;
    g_autoptr(GPtrArray) v6 = NULL;
    g_autofree char *j4 = NULL;
    g_autofree char *j6 = NULL;

    nwf_learner_get_addresses(learner, portdev, &v4, &v6);
    g_ptr_array_add(v4, NULL);
    g_ptr_array_add(v6, NULL);
    j4 = g_strjoinv(",", (char **)v4->pdata);
    j6 = g_strjoinv(",", (char **)v6->pdata);
    printf("%" G_GINT64_FORMAT " %s ipv4=%s ipv6=%s\n", g_get_monotonic_time(), portdev,
           *j4 ? j4 : "-", *j6 ? j6 : "-");
    fflush(stdout);
}

static NwfLearner *the_learner;

static void
on_changed(const char *portdev, gpointer data)
{
    print_port(the_learner, portdev);
}

static gboolean
on_signal(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static gboolean
parse_mac(const char *text, guint8 mac[6])
{
    unsigned int b[6];

    if (sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        return FALSE;
    for (guint i = 0; i < 6; i++)
        mac[i] = (guint8)b[i];
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_auto(GStrv) ports = NULL;
    g_auto(GStrv) servers = NULL;
    g_auto(GStrv) servers6 = NULL;
    g_autofree char *lease_file = NULL;
    gint rate = 0, burst = 0, dad_ms = 0;
    GOptionEntry entries[] = {
        { "port", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ports, "DEV,MAC,MODE,FAMILIES[,LINKDEV]", NULL },
        { "dhcp-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &servers, "DHCPSERVER value", NULL },
        { "dhcp-server6", 0, 0, G_OPTION_ARG_STRING_ARRAY, &servers6, "DHCPSERVERV6 value", NULL },
        { "lease-file", 0, 0, G_OPTION_ARG_FILENAME, &lease_file, "lease file", NULL },
        { "rate", 0, 0, G_OPTION_ARG_INT, &rate, "frames/s per port", NULL },
        { "burst", 0, 0, G_OPTION_ARG_INT, &burst, "bucket size", NULL },
        { "dad-ms", 0, 0, G_OPTION_ARG_INT, &dad_ms, "DAD interval", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) octx = g_option_context_new("- run IP address learning on ports");
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(GPtrArray) srv = g_ptr_array_new();
    g_autoptr(GPtrArray) srv6 = g_ptr_array_new();
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    NwfLearnerConfig config = { 0 };

    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error) || !ports) {
        fprintf(stderr, "learn-probe: %s\n", error ? error->message : "no --port given");
        return 2;
    }
    for (guint i = 0; servers && servers[i]; i++)
        g_ptr_array_add(srv, servers[i]);
    for (guint i = 0; servers6 && servers6[i]; i++)
        g_ptr_array_add(srv6, servers6[i]);

    config.lease_file = lease_file;
    config.changed = on_changed;
    config.rate = (guint)rate;
    config.burst = (guint)burst;
    config.dad_ms = (guint)dad_ms;
    the_learner = nwf_learner_new(&config, &error);
    if (!the_learner) {
        fprintf(stderr, "learn-probe: %s\n", error->message);
        return 1;
    }
    for (guint i = 0; ports[i]; i++) {
        g_auto(GStrv) f = g_strsplit(ports[i], ",", -1);
        NwfLearnRequest req = { 0 };

        if (g_strv_length(f) < 4 || !parse_mac(f[1], req.mac) ||
            !nwf_ip_learning_parse(f[2], &req.mode) || req.mode == NWF_IP_LEARNING_NONE) {
            fprintf(stderr, "learn-probe: bad --port '%s'\n", ports[i]);
            return 2;
        }
        req.portdev = f[0];
        req.linkdev = f[4];
        req.ipv4 = strchr(f[3], '4') != NULL;
        req.ipv6 = strchr(f[3], '6') != NULL;
        req.dhcp_servers = srv;
        req.dhcp_servers_v6 = srv6;
        nwf_uuid_parse(OWNER, req.owner_uuid);
        if (!nwf_learner_start(the_learner, &req, &error)) {
            fprintf(stderr, "learn-probe: %s\n", error->message);
            return 1;
        }
        g_ptr_array_add(names, g_strdup(f[0]));
        print_port(the_learner, f[0]);
    }
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_unix_signal_add(SIGINT, on_signal, loop);
    printf("ready\n");
    fflush(stdout);
    g_main_loop_run(loop);

    for (guint i = 0; i < names->len; i++) {
        guint64 decoded, dropped;

        nwf_learner_get_counters(the_learner, g_ptr_array_index(names, i), &decoded, &dropped);
        printf("counters %s decoded=%" G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT "\n",
               (const char *)g_ptr_array_index(names, i), decoded, dropped);
    }
    fflush(stdout);
    nwf_learner_free(the_learner);
    return 0;
}
