/* Keeping bindings enforced across firewalld's start, reload and stop.
 *
 * firewalld with its iptables backend rebuilds the iptables, ip6tables and
 * ebtables tables it manages from scratch: every reload (and every start and
 * stop, with CleanupOnExit) flushes and deletes all chains of the filter and
 * nat tables, ours included, whatever hook they hang off. No placement of
 * our jumps survives that, so nwfilterd does not try: it restores them.
 * It subscribes on the system bus to firewalld's Reloaded signal
 * (interface org.fedoraproject.FirewallD1) and watches the bus name
 * org.fedoraproject.FirewallD1 appear and vanish. On each event it runs
 * nwf_driver_repair: every binding is compiled and checked against the
 * kernel (the backend's port_matches) and only the ones found missing or
 * different are re-applied, all in one backend transaction (one batch per
 * tool), so a reload costs one *-restore run per tool, not one process per
 * rule. firewalld owns its bus name before it has built its tables, and
 * answers no call until it has: so on appearance nwfilterd checks at once
 * (a stop may have left ports bare), asks firewalld for its state property
 * and checks again when the answer comes. After every event the check
 * runs again at RECHECK_MS, for rules firewalld writes after its signal; a
 * check that finds everything in place changes nothing.
 *
 * Timing: tests/firewalld bounds the repair at 1 s after firewalld's
 * command or stop finished (a TODO carrying the figure when the machine is
 * overloaded). Measured on the 2-CPU development machine at a load of 12 to
 * 15 per CPU, two bindings: 1.7 to 3.1 s after a reload or stop, 0.2 to
 * 0.6 s after a start (each port check runs the three *-save tools; the
 * apply three saves and two restore rounds). Between firewalld's flush and
 * the repair, ports of the ebiptables backend are unfiltered. The nftables
 * backend keeps its own tables, which firewalld never touches: its ports
 * are never unfiltered and its checks find nothing to do (the test sends
 * must-drop probes through every firewalld event and sees none delivered).
 *
 * firewalld with its nftables backend (Debian's default) only replaces its
 * own "firewalld" table, so it should not affect either backend; the tests
 * use firewalld's iptables backend, the one that wipes, and do not cover
 * this case.
 *
 * Without a system bus the daemon runs as usual and says so once at debug
 * level. Tests point both firewalld and nwfilterd at a private bus with
 * DBUS_SYSTEM_BUS_ADDRESS, which GDBus honours. */
#include "config.h"

#include <gio/gio.h>

#include "daemon/firewalld_watch.h"

#define FIREWALLD_NAME "org.fedoraproject.FirewallD1"
#define FIREWALLD_PATH "/org/fedoraproject/FirewallD1"

/* Follow-up checks after an event, in ms after it. */
static const guint RECHECK_MS[] = { 250, 750 };
/* How long firewalld's start may take before we stop waiting for it. */
#define START_TIMEOUT_MS (120 * 1000)

struct _NwfFirewalldWatch {
    NwfRpcServer *server;
    NwfDriver *driver;
    GCancellable *cancel;
    GDBusConnection *bus;
    guint name_watch;
    guint reloaded_sub;
    gboolean seen;              /* firewalld has owned its name since we watch */
    GSList *rechecks;           /* GSource* of pending follow-up checks */
};

/* What an asynchronous bus callback gets: the watch may be freed before
 * the call completes, and then the cancellable says so. */
typedef struct {
    GCancellable *cancel;
    NwfFirewalldWatch *watch;
} BusPending;

/* On the driver worker: the repair itself. */
static void
firewalld_repair(gpointer driver, gpointer unused)
{
    g_autoptr(GError) error = NULL;
    guint repaired = 0;

    if (!nwf_driver_repair(driver, &repaired, &error))
        g_warning("after a firewalld event, restoring filter rules failed: %s", error->message);
    else if (repaired > 0)
        g_info("after a firewalld event, the rules of %u binding(s) were missing or changed "
               "and are restored", repaired);
}

static gboolean
firewalld_recheck(gpointer data)
{
    NwfFirewalldWatch *watch = data;

    nwf_rpc_server_run_exclusive(watch->server, firewalld_repair, watch->driver);
    watch->rechecks = g_slist_remove(watch->rechecks, g_main_current_source());
    return G_SOURCE_REMOVE;
}

/* EVENT names what happened, for the log. */
static void
firewalld_event(NwfFirewalldWatch *watch, const char *event)
{
    g_debug("firewalld %s: checking every binding's rules", event);
    nwf_rpc_server_run_exclusive(watch->server, firewalld_repair, watch->driver);
    for (guint i = 0; i < G_N_ELEMENTS(RECHECK_MS); i++) {
        GSource *source = g_timeout_source_new(RECHECK_MS[i]);

        g_source_set_callback(source, firewalld_recheck, watch, NULL);
        g_source_attach(source, NULL);
        watch->rechecks = g_slist_prepend(watch->rechecks, source);
        g_source_unref(source);
    }
}

static void
on_reloaded(GDBusConnection *bus, const char *sender, const char *path, const char *iface,
            const char *signal, GVariant *params, gpointer data)
{
    firewalld_event(data, "reload");
}

/* firewalld answers calls only once its start-up (which flushes and
 * rebuilds the tables) is over: the reply marks the end of the start. */
static void
on_started(GObject *source, GAsyncResult *result, gpointer data)
{
    BusPending *pending = data;
    g_autoptr(GCancellable) cancel = pending->cancel;
    NwfFirewalldWatch *watch = pending->watch;
    g_autoptr(GVariant) reply G_GNUC_UNUSED =
        g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, NULL);

    g_free(pending);
    if (!g_cancellable_is_cancelled(cancel))
        firewalld_event(watch, "start finished");
}

static void
on_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
    NwfFirewalldWatch *watch = data;
    BusPending *pending = g_new0(BusPending, 1);

    watch->seen = TRUE;
    /* ports its previous stop left bare are restored at once */
    firewalld_event(watch, "start");
    pending->cancel = g_object_ref(watch->cancel);
    pending->watch = watch;
    g_dbus_connection_call(bus, FIREWALLD_NAME, FIREWALLD_PATH, "org.freedesktop.DBus.Properties",
                           "Get", g_variant_new("(ss)", FIREWALLD_NAME, "state"), NULL,
                           G_DBUS_CALL_FLAGS_NONE, START_TIMEOUT_MS, watch->cancel, on_started,
                           pending);
}

static void
on_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
    NwfFirewalldWatch *watch = data;

    if (!watch->seen) {
        g_debug("firewalld is not running: nothing to watch until it starts");
        /* later vanish calls follow a real appearance */
        watch->seen = TRUE;
        return;
    }
    firewalld_event(watch, "stop");
}

static void
on_bus(GObject *source, GAsyncResult *result, gpointer data)
{
    BusPending *pending = data;
    g_autoptr(GCancellable) cancel = pending->cancel;
    NwfFirewalldWatch *watch = pending->watch;
    g_autoptr(GError) error = NULL;
    GDBusConnection *bus = g_bus_get_finish(result, &error);

    g_free(pending);
    if (g_cancellable_is_cancelled(cancel)) {
        g_clear_object(&bus);
        return;
    }
    if (!bus) {
        g_debug("no system bus (%s): not watching firewalld", error->message);
        return;
    }
    watch->bus = bus;
    /* a vanished bus must not end the daemon */
    g_dbus_connection_set_exit_on_close(bus, FALSE);
    watch->reloaded_sub = g_dbus_connection_signal_subscribe(
        bus, FIREWALLD_NAME, FIREWALLD_NAME, "Reloaded", FIREWALLD_PATH, NULL,
        G_DBUS_SIGNAL_FLAGS_NONE, on_reloaded, watch, NULL);
    watch->name_watch = g_bus_watch_name_on_connection(bus, FIREWALLD_NAME,
                                                       G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                       on_appeared, on_vanished, watch, NULL);
}

NwfFirewalldWatch *
nwf_firewalld_watch_new(NwfRpcServer *server, NwfDriver *driver)
{
    NwfFirewalldWatch *watch = g_new0(NwfFirewalldWatch, 1);
    BusPending *pending = g_new0(BusPending, 1);

    watch->server = server;
    watch->driver = driver;
    watch->cancel = g_cancellable_new();
    pending->cancel = g_object_ref(watch->cancel);
    pending->watch = watch;
    g_bus_get(G_BUS_TYPE_SYSTEM, watch->cancel, on_bus, pending);
    return watch;
}

void
nwf_firewalld_watch_free(NwfFirewalldWatch *watch)
{
    if (!watch)
        return;
    g_cancellable_cancel(watch->cancel);
    g_clear_object(&watch->cancel);
    for (GSList *l = watch->rechecks; l; l = l->next)
        g_source_destroy(l->data);
    g_slist_free(watch->rechecks);
    if (watch->name_watch)
        g_bus_unwatch_name(watch->name_watch);
    if (watch->bus && watch->reloaded_sub)
        g_dbus_connection_signal_unsubscribe(watch->bus, watch->reloaded_sub);
    g_clear_object(&watch->bus);
    g_free(watch);
}
