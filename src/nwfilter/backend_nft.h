/* The nftables backend's extras beyond the generic vtable (backend.h):
 * per-rule counters, reading them back, and what the kernel supports. */
#pragma once

#include <glib.h>

#include "nwfilter/backend.h"

/* Kernel features found by the probe. The layout needs only the first two;
 * the others are reported (stock distribution kernels have them as modules). */
typedef struct {
    gboolean bridge_family;       /* nf_tables bridge family with payload matches */
    gboolean inet_conntrack;      /* ct state/direction and reject in the inet family */
    gboolean br_netfilter;        /* /proc/sys/net/bridge exists: IP hooks see bridged traffic */
    gboolean br_call_iptables;    /* bridge-nf-call-iptables is 1 */
    gboolean br_call_ip6tables;   /* bridge-nf-call-ip6tables is 1 */
    gboolean bridge_conntrack;    /* nf_conntrack_bridge: ct in the bridge family */
    gboolean bridge_meta;         /* nft_meta_bridge: meta ibrname */
    gboolean bridge_reject;       /* nft_reject_bridge: reject in the bridge family */
    gboolean bridge_extras_probed;    /* the three bridge_* fields are filled */
} NwfNftFeatures;

/* Add a counter to every rule installed from now on (default off). */
void nwf_backend_nft_set_counters(NwfBackend *backend, gboolean counters);

/* The features the last successful probe found (the bridge extras are
 * probed on the first call); NULL before any probe. */
const NwfNftFeatures *nwf_backend_nft_features(NwfBackend *backend);

/* One line per feature, "name: yes|no", for status output and logs. */
char *nwf_nft_features_describe(const NwfNftFeatures *features);

/* Counters of one installed rule. */
typedef struct {
    char *chain;                  /* nft chain name, e.g. "vnet0/from4" */
    char *filter;                 /* filter the rule came from */
    int priority;                 /* the rule's priority */
    guint64 packets;
    guint64 bytes;
    char *rule;                   /* the rule as nft lists it */
} NwfNftRuleStats;

void nwf_nft_rule_stats_free(NwfNftRuleStats *stats);

/* Counters of every rule of IFNAME's chains (rules installed without
 * counters are left out). Empty array when the port has no rules. */
GPtrArray *nwf_backend_nft_port_stats(NwfBackend *backend, const char *ifname, GError **error);
