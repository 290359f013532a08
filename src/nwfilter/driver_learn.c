#include "config.h"

#include <string.h>

#include "nwfilter/driver_learn.h"
#include "nwfilter/learn.h"
#include "nwfilter/learn_rules.h"

#define LEASE_FILE_NAME "nwfilter.leases"

struct _NwfDriverLearn {
    NwfLearner *learner;
    NwfDriver *driver;          /* not owned */
    /* One thread re-applies bindings: waiting for the driver lock (held
     * by a long redefinition, say) must not stall the main loop, which
     * also serves the daemon's clients. */
    GThreadPool *reapply;
};

static void
nwf_driver_learn_reapply(gpointer portdev, gpointer data)
{
    NwfDriverLearn *learn = data;
    g_autoptr(GError) error = NULL;

    if (!nwf_driver_binding_reapply(learn->driver, portdev, &error))
        g_warning("cannot apply the addresses learned on port dev '%s': %s",
                  (const char *)portdev, error->message);
    g_free(portdev);
}

/* Runs on the main context, no learner lock held. */
static void
nwf_driver_learn_changed(const char *portdev, gpointer data)
{
    NwfDriverLearn *learn = data;

    g_thread_pool_push(learn->reapply, g_strdup(portdev), NULL);
}

NwfDriverLearn *
nwf_driver_learn_new(NwfDriver *driver, const char *lease_dir, GError **error)
{
    g_autofree char *lease_file = g_build_filename(lease_dir, LEASE_FILE_NAME, NULL);
    NwfDriverLearn *learn = g_new0(NwfDriverLearn, 1);
    NwfLearnerConfig config = {
        .lease_file = lease_file,
        .changed = nwf_driver_learn_changed,
        .changed_data = learn,
    };

    learn->driver = driver;
    learn->reapply = g_thread_pool_new(nwf_driver_learn_reapply, learn, 1, FALSE, NULL);
    learn->learner = nwf_learner_new(&config, error);
    if (!learn->learner) {
        nwf_driver_learn_free(learn);
        return NULL;
    }
    return learn;
}

void
nwf_driver_learn_free(NwfDriverLearn *learn)
{
    if (!learn)
        return;
    /* Re-applies already queued still run: the driver is still whole. */
    g_thread_pool_free(learn->reapply, FALSE, TRUE);
    nwf_learner_free(learn->learner);
    g_free(learn);
}

/* ADDRS as the values of NAME in EXTRA, then UNSPECIFIED when ALWAYS or
 * when there are no addresses. */
static void
nwf_driver_learn_set_var(NwfParams *extra, const char *name, const GPtrArray *addrs,
                         const char *unspecified, gboolean always)
{
    for (guint i = 0; i < addrs->len; i++)
        nwf_params_add(extra, name, g_ptr_array_index(addrs, i));
    if (always || addrs->len == 0)
        nwf_params_add(extra, name, unspecified);
}

static NwfRuleProgram *
nwf_driver_learn_phase(const NwfBindingDef *binding, const NwfCompileInfo *info,
                       NwfLearnRulesKind kind, GError **error)
{
    const NwfParams *params = binding->filterref.params;

    return nwf_learn_rules_build(binding->portdev, binding->mac, kind, info->needs_ipv6,
                                 nwf_params_get(params, "DHCPSERVER"),
                                 nwf_params_get(params, "DHCPSERVERV6"), error);
}

NwfRuleProgram *
nwf_driver_learn_compile(NwfDriverLearn *learn, const NwfBindingDef *binding,
                         NwfFilterLookupFunc lookup, gpointer lookup_data, GError **error)
{
    NwfCompileInfo info = { 0 };
    g_autoptr(GError) cause = NULL;
    NwfRuleProgram *program;

    /* First without learned values: which variables the tree itself lacks. */
    program = nwf_compile_binding(binding, lookup, lookup_data, NULL, &info, &cause);
    if (program) {
        nwf_driver_learn_compiled(learn, binding);
        return program;
    }
    if (!info.needs_ip && !info.needs_ipv6) {
        g_propagate_error(error, g_steal_pointer(&cause));
        return NULL;
    }
    return nwf_driver_learn_compile_learned(learn, binding, &info, lookup, lookup_data, error);
}

NwfRuleProgram *
nwf_driver_learn_compile_learned(NwfDriverLearn *learn, const NwfBindingDef *binding,
                                 const NwfCompileInfo *info, NwfFilterLookupFunc lookup,
                                 gpointer lookup_data, GError **error)
{
    const NwfParams *params = binding->filterref.params;
    g_autoptr(GError) start_error = NULL;
    g_autoptr(GPtrArray) v4 = NULL;
    g_autoptr(GPtrArray) v6 = NULL;
    g_autoptr(NwfParams) extra = NULL;
    NwfLearnRequest request = { 0 };

    request.portdev = binding->portdev;
    request.linkdev = binding->linkdev;
    memcpy(request.mac, binding->mac, 6);
    memcpy(request.owner_uuid, binding->owner_uuid, 16);
    request.mode = info->learning;
    request.ipv4 = info->needs_ip;
    request.ipv6 = info->needs_ipv6;
    request.dhcp_servers = nwf_params_get(params, "DHCPSERVER");
    request.dhcp_servers_v6 = nwf_params_get(params, "DHCPSERVERV6");
    if (!nwf_learner_start(learn->learner, &request, &start_error)) {
        /* libvirt's answer to a learning failure: the port passes nothing. */
        g_warning("cannot learn the IP address of port dev '%s', dropping its traffic: %s",
                  binding->portdev, start_error->message);
        return nwf_driver_learn_phase(binding, info, NWF_LEARN_RULES_DROP_ALL, error);
    }

    nwf_learner_get_addresses(learn->learner, binding->portdev, &v4, &v6);
    if ((!info->needs_ip || v4->len == 0) && (!info->needs_ipv6 || v6->len == 0))
        return nwf_driver_learn_phase(binding, info,
                                      info->learning == NWF_IP_LEARNING_DHCP
                                          ? NWF_LEARN_RULES_DHCP : NWF_LEARN_RULES_BASIC,
                                      error);
    extra = nwf_params_new();
    if (info->needs_ip)
        nwf_driver_learn_set_var(extra, "IP", v4, "0.0.0.0", FALSE);
    /* :: stays while IPv6 is learned: a guest's DAD probe for a new
     * address must reach the other nodes, or a guest could claim an
     * address in use (the owner would never see the probe to object). */
    if (info->needs_ipv6)
        nwf_driver_learn_set_var(extra, "IPV6", v6, "::", TRUE);
    return nwf_compile_binding(binding, lookup, lookup_data, extra, NULL, error);
}

void
nwf_driver_learn_compiled(NwfDriverLearn *learn, const NwfBindingDef *binding)
{
    nwf_learner_stop(learn->learner, binding->portdev, FALSE);
}

void
nwf_driver_learn_forget(NwfDriverLearn *learn, const char *portdev)
{
    nwf_learner_stop(learn->learner, portdev, TRUE);
}

gboolean
nwf_driver_learn_running(NwfDriverLearn *learn, const char *portdev)
{
    return nwf_learner_is_running(learn->learner, portdev);
}

void
nwf_driver_learn_drop_binding(NwfDriverLearn *learn, const NwfBindingDef *binding)
{
    nwf_learner_forget(learn->learner, binding->portdev, binding->owner_uuid, binding->mac);
}
