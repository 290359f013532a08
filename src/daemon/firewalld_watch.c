/* Keeping bindings enforced across firewalld's start, reload and stop.
 *
 * firewalld rebuilds the iptables, ip6tables and ebtables tables on every
 * start, reload and (with CleanupOnExit) stop: with its iptables backend
 * because it manages them, and with its nftables backend (firewalld 1.3,
 * Debian 12's default) because it keeps them for its direct interface and
 * flushes them all the same. A flush deletes every chain of the filter and
 * nat tables, ours included, whatever hook they hang off. No placement of
 * our jumps survives that, so nwfilterd does not try: it restores them.
 *
 * It subscribes on the system bus to firewalld's Reloaded signal
 * (interface org.fedoraproject.FirewallD1) and watches the bus name
 * org.fedoraproject.FirewallD1 appear and vanish. On each event it runs
 * nwf_driver_repair on the driver worker: every binding is compiled, all
 * are compared with one reading of the kernel (the backend's ports_match:
 * each *-save tool once, or one nftables state load) and only the ones
 * found missing or different are re-applied, in one backend transaction
 * (one batch per tool). Nothing on that path waits for a timer. firewalld
 * owns its bus name before it has built its tables, and answers no call
 * until it has: so on appearance nwfilterd checks at once (a stop may have
 * left ports bare), asks firewalld for its state property and checks again
 * when the answer comes. After every event the check runs again at
 * RECHECK_MS, for rules firewalld changes after its signal; a check that
 * finds everything in place changes nothing. The repair's log line says
 * how long after the event it ended.
 *
 * Repair rounds are coalesced: while one waits in the worker's queue, a
 * new event queues nothing, since that round reads the kernel later anyway.
 *
 * Timing: tests/firewalld streams probes through every event, for each of
 * our backends next to each of firewalld's, and requires that no probe
 * that must be dropped gets through when sent more than 1 s after
 * firewalld's signal (the Reloaded signal, its name leaving the bus, its
 * first answer after a start). Measured on the 2-CPU development machine
 * at a load of 6 to 10 (other builds running), ebiptables backend, the
 * last such probe got through 0.22 to 0.71 s after a reload, 0.23 to
 * 0.54 s after a stop and up to 0.70 s after a start (0.78 s in the
 * sanitizer build); nwfilterd acts on a signal within 5 ms of it crossing
 * the bus, the rest is the save and restore tools competing for the CPUs.
 * Between firewalld's flush and the repair, ports of the ebiptables
 * backend are unfiltered. The nftables backend keeps its own tables, which
 * firewalld never touches: its ports are never unfiltered and its checks
 * find nothing to do.
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
    gint *queued;               /* repair jobs queued and not started (atomic rc box) */
};

/* What an asynchronous bus callback gets: the watch may be freed before
 * the call completes, and then the cancellable says so. */
typedef struct {
    GCancellable *cancel;
    NwfFirewalldWatch *watch;
} BusPending;

/* One check-and-repair round, queued on the driver worker. */
typedef struct {
    NwfDriver *driver;
    gint *queued;               /* the watch's count (a reference of its own) */
    const char *event;          /* what firewalld did, for the log */
    gint64 at;                  /* when we learnt of it (monotonic, us) */
} RepairJob;

/* On the driver worker: the repair itself. The log line carries the time
 * from the event to the end of the repair (tests/firewalld reads it). */
static void
firewalld_repair(gpointer data, gpointer unused)
{
    g_autofree RepairJob *job = data;
    g_autoptr(GError) error = NULL;
    guint repaired = 0;

    /* from here on, a new event needs a round of its own */
    g_atomic_int_add(job->queued, -1);
    g_atomic_rc_box_release(job->queued);
    if (!nwf_driver_repair(job->driver, &repaired, &error))
        g_warning("after firewalld's %s, restoring filter rules failed: %s", job->event,
                  error->message);
    else if (repaired > 0)
        g_info("after firewalld's %s, the rules of %u binding(s) were missing or changed "
               "and are restored (%.3f s after the event)", job->event, repaired,
               (g_get_monotonic_time() - job->at) / (double)G_USEC_PER_SEC);
}

/* A round still waiting in the queue will read the kernel after this
 * event, so it covers it: then nothing more is queued (its log line counts
 * the time from the earlier event). */
static void
firewalld_repair_queue(NwfFirewalldWatch *watch, const char *event, gint64 at)
{
    RepairJob *job;

    if (g_atomic_int_get(watch->queued) > 0)
        return;
    g_atomic_int_inc(watch->queued);
    job = g_new0(RepairJob, 1);
    job->queued = g_atomic_rc_box_acquire(watch->queued);
    job->driver = watch->driver;
    job->event = event;
    job->at = at;
    nwf_rpc_server_run_exclusive(watch->server, firewalld_repair, job);
}

/* A follow-up check, for rules firewalld changes after its signal. */
typedef struct {
    NwfFirewalldWatch *watch;
    const char *event;
    gint64 at;
} Recheck;

static gboolean
firewalld_recheck(gpointer data)
{
    Recheck *recheck = data;
    NwfFirewalldWatch *watch = recheck->watch;

    firewalld_repair_queue(watch, recheck->event, recheck->at);
    watch->rechecks = g_slist_remove(watch->rechecks, g_main_current_source());
    return G_SOURCE_REMOVE;
}

/* EVENT names what happened, for the log (a static string). */
static void
firewalld_event(NwfFirewalldWatch *watch, const char *event)
{
    gint64 at = g_get_monotonic_time();

    g_debug("firewalld's %s: checking every binding's rules", event);
    firewalld_repair_queue(watch, event, at);
    for (guint i = 0; i < G_N_ELEMENTS(RECHECK_MS); i++) {
        GSource *source = g_timeout_source_new(RECHECK_MS[i]);
        Recheck *recheck = g_new0(Recheck, 1);

        recheck->watch = watch;
        recheck->event = event;
        recheck->at = at;
        g_source_set_callback(source, firewalld_recheck, recheck, g_free);
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
        firewalld_event(watch, "start");
}

static void
on_appeared(GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
    NwfFirewalldWatch *watch = data;
    BusPending *pending = g_new0(BusPending, 1);

    watch->seen = TRUE;
    /* ports its previous stop left bare are restored at once */
    firewalld_event(watch, "appearance on the bus");
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
    watch->queued = g_atomic_rc_box_new0(gint);
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
    g_atomic_rc_box_release(watch->queued);
    g_free(watch);
}
