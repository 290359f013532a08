/* Kernel feature detection. Each check is a dry-run transaction: the kernel
 * validates it (loading modules on demand) and then discards it, so probing
 * never changes the ruleset. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend_nft_private.h"
#include "util/nwf_error.h"

#define PROBE_TABLE "nwfilter_probe"

static gboolean
probe_rule(struct nft_ctx *ctx, const char *family, const char *hook, const char *rule,
           GError **error)
{
    g_autofree char *cmds = g_strdup_printf(
        "add table %s " PROBE_TABLE "\n"
        "add chain %s " PROBE_TABLE " c { type filter hook %s priority 0; policy accept; }\n"
        "add rule %s " PROBE_TABLE " c %s\n",
        family, family, hook, family, rule);
    gboolean ok;

    nft_ctx_set_dry_run(ctx, true);
    ok = nwf_nft_run(ctx, cmds, "validate a feature probe", NULL, error);
    nft_ctx_set_dry_run(ctx, false);
    return ok;
}

static gboolean
sysctl_is_one(const char *path)
{
    g_autofree char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) && g_strstrip(text)[0] == '1';
}

gboolean
nwf_nft_probe_kernel(struct nft_ctx *ctx, NwfNftFeatures *f, GError **error)
{
    g_autoptr(GError) local = NULL;

    memset(f, 0, sizeof(*f));
    f->bridge_family = probe_rule(ctx, "bridge", "prerouting",
                                  "ether type arp @nh,48,16 1 meta mark set 1 counter drop",
                                  &local);
    if (!f->bridge_family) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                      _("the nftables backend needs nf_tables with the bridge family: %s"),
                      local->message);
        return FALSE;
    }
    g_clear_error(&local);
    f->inet_conntrack = probe_rule(ctx, "inet", "forward",
                                   "meta mark & 0xffff == 1 ct state new ct direction original "
                                   "meta l4proto udp reject", &local);
    if (!f->inet_conntrack) {
        nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                      _("the nftables backend needs conntrack and reject in the inet family: %s"),
                      local->message);
        return FALSE;
    }
    f->br_netfilter = g_file_test("/proc/sys/net/bridge", G_FILE_TEST_IS_DIR);
    f->br_call_iptables = sysctl_is_one("/proc/sys/net/bridge/bridge-nf-call-iptables");
    f->br_call_ip6tables = sysctl_is_one("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
    return TRUE;
}

/* Each of these makes the kernel try to load a module, which is slow when
 * it is missing; they are only reported, so they are probed on request. */
void
nwf_nft_probe_bridge_extras(struct nft_ctx *ctx, NwfNftFeatures *f)
{
    f->bridge_conntrack = probe_rule(ctx, "bridge", "prerouting", "ct state new", NULL);
    f->bridge_meta = probe_rule(ctx, "bridge", "prerouting", "meta ibrname \"br0\"", NULL);
    f->bridge_reject = probe_rule(ctx, "bridge", "prerouting", "reject", NULL);
    f->bridge_extras_probed = TRUE;
}

char *
nwf_nft_features_describe(const NwfNftFeatures *f)
{
    static const char *const yes_no[2] = { "no", "yes" };

    return g_strdup_printf("nft bridge family: %s\n"
                           "nft inet conntrack and reject: %s\n"
                           "br_netfilter: %s\n"
                           "bridge-nf-call-iptables: %s\n"
                           "bridge-nf-call-ip6tables: %s\n"
                           "bridge conntrack (nf_conntrack_bridge): %s\n"
                           "bridge meta (nft_meta_bridge): %s\n"
                           "bridge reject (nft_reject_bridge): %s\n",
                           yes_no[!!f->bridge_family], yes_no[!!f->inet_conntrack],
                           yes_no[!!f->br_netfilter], yes_no[!!f->br_call_iptables],
                           yes_no[!!f->br_call_ip6tables], yes_no[!!f->bridge_conntrack],
                           yes_no[!!f->bridge_meta], yes_no[!!f->bridge_reject]);
}
