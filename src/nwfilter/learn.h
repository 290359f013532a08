/* learn: IP address learning for ports whose filters reference IP or IPV6
 * without a value (spec §7, and IPv6 beyond libvirt).
 *
 * Per port, a packet socket on the port device (or the binding's link
 * device) with a BPF filter (learn_bpf.h) feeds frames into the GLib main
 * context given at creation. What a frame teaches depends on the port's
 * CTRL_IP_LEARNING mode:
 *   any   IPv4: the first source address the VM uses (not 0.0.0.0, not
 *         224.0.0.0/3), or the yiaddr of a DHCP OFFER/ACK for its MAC; one
 *         address, kept. ARP teaches nothing (libvirt's behaviour).
 *         IPv6: DHCPv6 leases, and every address whose duplicate address
 *         detection completes (the VM's NS from :: for target T, then no
 *         NA or competing NS for T within the DAD interval).
 *   dhcp  IPv4: DHCP leases (ACK adds or renews, never shortening; RELEASE
 *         by ciaddr, else yiaddr; DECLINE from the VM by option 50, else
 *         ciaddr; NAK withdraws what the VM requested in that exchange;
 *         expiry removes). Only replies from DHCPSERVER count when it is
 *         given. IPv6: DHCPv6 leases only, from DHCPSERVERV6 when given.
 *   none  nothing is learned (the caller never starts learning).
 * Several addresses per port are kept; the addresses are exactly the live
 * lease set at all times.
 *
 * Each port costs at most a token bucket's worth of decoding: frames beyond
 * it are read and dropped undecoded, counted, and reported in a
 * rate-limited warning, so one flooding guest cannot starve other ports.
 *
 * Learned addresses are persisted (learn_lease_file.h) under the key
 * <owner-uuid>-<mac>, so a daemon restart, or a binding re-created for the
 * same VM and MAC, finds them again.
 *
 * Thread safety: every function may be called from any thread. Frames,
 * timers and the change callback run in the context's thread; the callback
 * is called without any learner lock held, so it may call back in. */
#pragma once

#include <glib.h>

#include "nwfilter/compile.h"

typedef struct _NwfLearner NwfLearner;

/* The learned addresses of PORTDEV changed (nwf_learner_get_addresses). */
typedef void (*NwfLearnChangedFunc)(const char *portdev, gpointer data);

typedef struct {
    const char *lease_file;     /* NULL: nothing is persisted */
    GMainContext *context;      /* NULL: the global default context */
    NwfLearnChangedFunc changed;
    gpointer changed_data;
    guint rate;                 /* frames decoded per second per port; 0: 100 */
    guint burst;                /* bucket size; 0: 200 */
    guint dad_ms;               /* DAD interval; 0: 1000 (RFC 4862 RetransTimer) */
} NwfLearnerConfig;

/* Loads the lease file (dropping expired leases). */
NwfLearner *nwf_learner_new(const NwfLearnerConfig *config, GError **error);
/* Stops every port; learned addresses stay on disk. */
void nwf_learner_free(NwfLearner *learner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NwfLearner, nwf_learner_free)

typedef struct {
    const char *portdev;
    const char *linkdev;        /* capture here instead (macvtap); may be NULL */
    guint8 mac[6];
    guint8 owner_uuid[16];
    NwfIpLearning mode;         /* ANY or DHCP */
    gboolean ipv4;              /* learn into IP */
    gboolean ipv6;              /* learn into IPV6 */
    const GPtrArray *dhcp_servers;     /* DHCPSERVER values (char*), may be NULL */
    const GPtrArray *dhcp_servers_v6;  /* DHCPSERVERV6 values (char*), may be NULL */
} NwfLearnRequest;

/* Start learning for REQUEST->portdev, with the addresses already known
 * for its key in force at once. Starting a port that runs with the same
 * request again does nothing; with another request it restarts. Fails
 * (NWF_ERR_SYSTEM_ERROR, or INVALID_ARG for a bad server address) when the
 * socket cannot be set up; nothing is left running then. */
gboolean nwf_learner_start(NwfLearner *learner, const NwfLearnRequest *request, GError **error);

/* Stop learning on PORTDEV (no-op when not running). FORGET: the VM is gone
 * (binding deleted), so addresses learned from its traffic are dropped;
 * DHCP leases stay until they expire, for a VM that comes back. */
void nwf_learner_stop(NwfLearner *learner, const char *portdev, gboolean forget);

/* The VM's NIC (OWNER_UUID, MAC) whose port was PORTDEV is gone: stop
 * PORTDEV when it runs, and drop what traffic taught the NIC even when no
 * port runs for it (the lease file keeps it otherwise). DHCP leases stay
 * until they expire. */
void nwf_learner_forget(NwfLearner *learner, const char *portdev, const guint8 owner_uuid[16],
                        const guint8 mac[6]);

/* Whether PORTDEV is being learned. */
gboolean nwf_learner_is_running(NwfLearner *learner, const char *portdev);

/* The addresses learned for a running PORTDEV, in learning order (char*,
 * both arrays always set). FALSE when PORTDEV is not running. */
gboolean nwf_learner_get_addresses(NwfLearner *learner, const char *portdev,
                                   GPtrArray **ipv4, GPtrArray **ipv6);

/* Frames decoded and dropped by the rate limit on PORTDEV (0 if unknown). */
void nwf_learner_get_counters(NwfLearner *learner, const char *portdev,
                              guint64 *decoded, guint64 *dropped);
