/* The nwfilter driver: define/undefine/lookup of filters and create/delete of
 * bindings, keeping the config dir, the state dir and the kernel in line.
 *
 * Concurrency model. One mutex guards the whole driver (both stores and the
 * backend); every public call takes it for its full duration, so calls are
 * serialized and each sees and leaves a consistent state. That is cheap
 * because no call holds it for long: compile is pure and fast, and every
 * call does at most one backend transaction, which the backend applies as
 * one commit (one libnftables run, or one batch of *-restore runs). A
 * redefinition touching N bindings compiles N programs and commits them in
 * that single transaction, so a binding create (a VM start) queued behind it
 * waits for N compiles plus one commit, never for N separate kernel round
 * trips. Nothing here blocks on the network or on another process apart
 * from the backend's commit.
 *
 * Order of effects, chosen so that a crash at any point leaves a state the
 * next start repairs (the state dir is read back and every binding
 * re-applied):
 *   - binding create: status file first, then the kernel; a failed apply
 *     removes the status file again;
 *   - binding delete: kernel first, then the status file;
 *   - filter (re)define: compile every affected binding, commit them in one
 *     transaction, then write the config file; if the write fails the old
 *     programs are committed back;
 *   - undefine: refused while a binding on a present device reaches the
 *     filter, so only the config file changes.
 *
 * A binding whose port device does not exist is kept but nothing is applied
 * for it (libvirt does the same: the hypervisor may create the binding
 * before the tap device, or keep it across a device's absence). At start,
 * bindings whose device has gone are dropped with a log line. */
#include "config.h"

#include <net/if.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/binding_store.h"
#include "nwfilter/compile.h"
#include "nwfilter/driver.h"
#include "nwfilter/driver_learn.h"
#include "nwfilter/driver_schema.h"
#include "nwfilter/filter_store.h"
#include "util/nwf_error.h"

/* Hold the driver lock until the end of the enclosing scope. */
#define NWF_DRIVER_LOCK(driver) \
    g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new(&(driver)->lock)

struct _NwfDriver {
    GMutex lock;
    NwfFilterStore *filters;
    NwfBindingStore *bindings;
    NwfBackend *backend;
    NwfPortExistsFunc port_exists;
    gpointer port_exists_data;
    NwfDriverLearn *learn;      /* NULL: no IP address learning */
};

/* Filter resolution for compile: the store, with an optional pending
 * definition standing in for the stored one of the same name. */
typedef struct {
    const NwfFilterStore *store;
    const NwfFilterDef *override;
} NwfDriverResolver;

static const NwfFilterDef *
nwf_driver_resolve_filter(const char *name, gpointer data)
{
    const NwfDriverResolver *resolver = data;

    if (resolver->override && strcmp(resolver->override->name, name) == 0)
        return resolver->override;
    return nwf_filter_store_lookup(resolver->store, name);
}

static gboolean
nwf_driver_port_exists_default(const char *portdev, gpointer data)
{
    return if_nametoindex(portdev) != 0;
}

static gboolean
nwf_driver_port_exists(NwfDriver *driver, const char *portdev)
{
    return driver->port_exists(portdev, driver->port_exists_data);
}

/* Compile BINDING's tree, with OVERRIDE standing in for the stored filter of
 * its name. IP address learning does not exist here: a tree that needs a
 * learned IP fails with a message saying how to bind it instead, so a port
 * is never left silently unfiltered. */
static NwfRuleProgram *
nwf_driver_compile(NwfDriver *driver, const NwfBindingDef *binding,
                   const NwfFilterDef *override, GError **error)
{
    NwfDriverResolver resolver = { driver->filters, override };
    NwfCompileInfo info = { 0 };
    g_autoptr(GError) cause = NULL;
    NwfRuleProgram *program;

    /* IP address learning, when enabled, decides what a port that needs
     * IP/IPV6 runs (learning-phase rules or learned addresses). */
    if (driver->learn)
        return nwf_driver_learn_compile(driver->learn, binding, nwf_driver_resolve_filter,
                                        &resolver, error);
    program = nwf_compile_binding(binding, nwf_driver_resolve_filter, &resolver, NULL,
                                  &info, &cause);
    if (program)
        return program;
    if (info.needs_ip) {
        nwf_error_set(error, NWF_ERR_OPERATION_UNSUPPORTED,
                      _("the filter of port dev '%s' needs the variable IP and IP address "
                        "learning is not available; pass IP as a filter parameter (%s)"),
                      binding->portdev, cause->message);
        return NULL;
    }
    g_propagate_error(error, g_steal_pointer(&cause));
    return NULL;
}

/* Replace the rules of every port in SET and remove those of every name in
 * REMOVE, all in one backend transaction. */
static gboolean
nwf_driver_commit(NwfDriver *driver, GPtrArray *set, GPtrArray *remove, GError **error)
{
    const NwfBackendOps *ops = driver->backend->ops;
    NwfBackendTxn *txn;

    if ((!set || set->len == 0) && (!remove || remove->len == 0))
        return TRUE;
    txn = ops->txn_begin(driver->backend);
    for (guint i = 0; set && i < set->len; i++) {
        if (!ops->txn_set_port(txn, g_ptr_array_index(set, i), error)) {
            ops->txn_abort(txn);
            return FALSE;
        }
    }
    for (guint i = 0; remove && i < remove->len; i++) {
        if (!ops->txn_remove_port(txn, g_ptr_array_index(remove, i), error)) {
            ops->txn_abort(txn);
            return FALSE;
        }
    }
    return ops->txn_commit(txn, error);
}

static gboolean
nwf_driver_commit_one(NwfDriver *driver, NwfRuleProgram *program, const char *remove,
                      GError **error)
{
    g_autoptr(GPtrArray) set = g_ptr_array_new();
    g_autoptr(GPtrArray) rm = g_ptr_array_new();

    if (program)
        g_ptr_array_add(set, program);
    if (remove)
        g_ptr_array_add(rm, (gpointer)remove);
    return nwf_driver_commit(driver, set, rm, error);
}

/* libvirt adds the binding's MAC as the MAC variable when it instantiates
 * the filter (unless the binding sets MAC itself); it then shows in dumpxml. */
static void
nwf_driver_binding_add_mac(NwfBindingDef *binding)
{
    g_autofree char *mac = NULL;

    if (nwf_params_has(binding->filterref.params, "MAC"))
        return;
    mac = nwf_mac_format(binding->mac);
    nwf_params_add(binding->filterref.params, "MAC", mac);
}

/* Whether a binding counts for filter FILTER (NULL: any filter): its device
 * is present and its tree, with OVERRIDE, reaches FILTER. */
static gboolean
nwf_driver_binding_reaches(NwfDriver *driver, const NwfBindingDef *binding,
                           const char *filter, const NwfFilterDef *override)
{
    if (!nwf_driver_port_exists(driver, binding->portdev))
        return FALSE;
    return !filter || nwf_filter_store_tree_contains(driver->filters, binding->filterref.filter,
                                                     filter, override);
}

/* BINDINGS (const NwfBindingDef*) compiled into PROGRAMS[i], OVERRIDE
 * standing in for the stored filter of its name. Each is first compiled on
 * its own, on every CPU at once (compiling is pure, and it is most of the
 * work when many bindings change together); then, in order, those that
 * need learned addresses go on where nwf_driver_learn_compile() would
 * after that first step, and those that failed otherwise are compiled
 * again by nwf_driver_compile() for their error (ERRORS[i]). With
 * STOP_AT_ERROR nothing after the first failure is looked at (no learning
 * starts or stops for it). Returns the number of failures. */
static guint
nwf_driver_compile_each(NwfDriver *driver, GPtrArray *bindings, const NwfFilterDef *override,
                        gboolean stop_at_error, NwfRuleProgram **programs, GError **errors)
{
    NwfDriverResolver resolver = { driver->filters, override };
    g_autofree NwfCompileInfo *infos = g_new0(NwfCompileInfo, bindings->len + 1);
    guint failed = 0;

    nwf_compile_bindings((const NwfBindingDef *const *)bindings->pdata, bindings->len,
                         nwf_driver_resolve_filter, &resolver, g_get_num_processors(), programs,
                         infos);
    for (guint i = 0; i < bindings->len; i++) {
        const NwfBindingDef *binding = g_ptr_array_index(bindings, i);

        if (failed && stop_at_error) {
            g_clear_pointer(&programs[i], nwf_rule_program_free);
            continue;
        }
        if (programs[i] && driver->learn)
            nwf_driver_learn_compiled(driver->learn, binding);
        else if (!programs[i] && driver->learn && (infos[i].needs_ip || infos[i].needs_ipv6))
            programs[i] = nwf_driver_learn_compile_learned(driver->learn, binding, &infos[i],
                                                           nwf_driver_resolve_filter,
                                                           &resolver, &errors[i]);
        else if (!programs[i])
            programs[i] = nwf_driver_compile(driver, binding, override, &errors[i]);
        failed += programs[i] == NULL;
    }
    return failed;
}

/* Compile every binding that counts for FILTER; NULL on the first error. */
static GPtrArray *
nwf_driver_compile_affected(NwfDriver *driver, const char *filter,
                            const NwfFilterDef *override, GError **error)
{
    g_autoptr(GPtrArray) bindings = nwf_binding_store_list(driver->bindings);
    g_autoptr(GPtrArray) affected = g_ptr_array_new();
    g_autoptr(GPtrArray) programs =
        g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rule_program_free);
    g_autofree NwfRuleProgram **compiled = NULL;
    g_autofree GError **errors = NULL;

    for (guint i = 0; i < bindings->len; i++) {
        const NwfBindingDef *binding = g_ptr_array_index(bindings, i);
        if (nwf_driver_binding_reaches(driver, binding, filter, override))
            g_ptr_array_add(affected, (gpointer)binding);
    }
    compiled = g_new0(NwfRuleProgram *, affected->len + 1);
    errors = g_new0(GError *, affected->len + 1);
    if (nwf_driver_compile_each(driver, affected, override, TRUE, compiled, errors) > 0) {
        for (guint i = 0; i < affected->len; i++) {
            nwf_rule_program_free(compiled[i]);
            if (errors[i])
                g_propagate_error(error, errors[i]);
        }
        return NULL;
    }
    for (guint i = 0; i < affected->len; i++)
        g_ptr_array_add(programs, compiled[i]);
    return g_steal_pointer(&programs);
}

/* ---- life cycle ---- */

/* Remove from PROGRAMS those the kernel already holds as compiled, checked
 * in one round (one reading of the kernel for all of them). When the
 * backend cannot check or the kernel cannot be read, all stay. */
static void
nwf_driver_drop_matching(NwfDriver *driver, GPtrArray *programs)
{
    const NwfBackendOps *ops = driver->backend->ops;
    g_autofree gboolean *matches = NULL;
    g_autoptr(GError) cause = NULL;

    if (programs->len == 0 || (!ops->ports_match && !ops->port_matches))
        return;
    matches = g_new0(gboolean, programs->len);
    if (!nwf_backend_ports_match(driver->backend, programs, matches, &cause)) {
        g_warning("cannot compare the rules in the kernel with the bindings (%s): "
                  "applying them all", cause->message);
        return;
    }
    for (guint i = programs->len; i-- > 0;) {
        if (matches[i])
            g_ptr_array_remove_index(programs, i);
    }
}

/* Bring the kernel in line with the bindings. DROP_GONE: forget bindings
 * whose device has gone (start-up). Programs the kernel already holds are
 * skipped when the backend can tell; *N_APPLIED (may be NULL) counts the
 * others. A binding that fails to compile or to
 * apply is logged and left out, so one bad binding never leaves the others
 * unfiltered. */
static gboolean
nwf_driver_apply_all(NwfDriver *driver, gboolean drop_gone, guint *n_applied, GError **error)
{
    g_autoptr(GPtrArray) bindings = nwf_binding_store_list(driver->bindings);
    g_autoptr(GPtrArray) programs =
        g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rule_program_free);
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) present = g_ptr_array_new();
    g_autofree NwfRuleProgram **compiled = NULL;
    g_autofree GError **errors = NULL;
    g_autoptr(GError) cause = NULL;
    guint failed = 0;

    for (guint i = 0; i < bindings->len; i++) {
        const NwfBindingDef *binding = g_ptr_array_index(bindings, i);

        if (!nwf_driver_port_exists(driver, binding->portdev)) {
            if (drop_gone)
                g_ptr_array_add(gone, g_strdup(binding->portdev));
            continue;
        }
        /* As at create, instantiating shows the MAC variable in dumpxml;
         * like libvirt, only in memory (the status file stays as created). */
        nwf_driver_binding_add_mac(nwf_binding_store_lookup_for_update(driver->bindings,
                                                                       binding->portdev));
        g_ptr_array_add(present, (gpointer)binding);
    }
    compiled = g_new0(NwfRuleProgram *, present->len + 1);
    errors = g_new0(GError *, present->len + 1);
    failed = nwf_driver_compile_each(driver, present, NULL, FALSE, compiled, errors);
    for (guint i = 0; i < present->len; i++) {
        const NwfBindingDef *binding = g_ptr_array_index(present, i);

        if (compiled[i]) {
            g_ptr_array_add(programs, compiled[i]);
            continue;
        }
        g_warning("cannot instantiate the filter of port dev '%s': %s",
                  binding->portdev, errors[i] ? errors[i]->message : "?");
        g_clear_error(&errors[i]);
    }
    nwf_driver_drop_matching(driver, programs);

    if (n_applied)
        *n_applied = programs->len;
    /* The binding list is not used past this point: the store may change. */
    g_clear_pointer(&bindings, g_ptr_array_unref);
    if (!nwf_driver_commit(driver, programs, gone, &cause)) {
        g_warning("applying all bindings at once failed (%s); applying them one by one",
                  cause->message);
        g_clear_error(&cause);
        for (guint i = 0; i < programs->len; i++) {
            NwfRuleProgram *program = g_ptr_array_index(programs, i);

            if (!nwf_driver_commit_one(driver, program, NULL, &cause)) {
                g_warning("cannot apply the rules of port dev '%s': %s",
                          program->ifname, cause->message);
                g_clear_error(&cause);
                failed++;
            }
        }
        for (guint i = 0; i < gone->len; i++)
            nwf_driver_commit_one(driver, NULL, g_ptr_array_index(gone, i), NULL);
    }
    for (guint i = 0; i < gone->len; i++) {
        const char *portdev = g_ptr_array_index(gone, i);

        if (driver->learn)
            nwf_driver_learn_drop_binding(driver->learn,
                                          nwf_binding_store_lookup(driver->bindings, portdev));
        if (nwf_binding_store_delete(driver->bindings, portdev, &cause)) {
            g_message("dropped the binding of port dev '%s': the device no longer exists",
                      portdev);
        } else {
            g_warning("cannot drop the binding of the gone port dev '%s': %s",
                      portdev, cause->message);
            g_clear_error(&cause);
        }
    }
    if (failed) {
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED,
                      _("%u binding(s) could not be instantiated (see the log)"), failed);
        return FALSE;
    }
    return TRUE;
}

NwfDriver *
nwf_driver_new(const NwfDriverConfig *config, GError **error)
{
    g_autoptr(NwfDriver) driver = NULL;
    g_autoptr(GError) cause = NULL;

    g_return_val_if_fail(config->backend != NULL, NULL);
    driver = g_new0(NwfDriver, 1);
    g_mutex_init(&driver->lock);
    driver->backend = config->backend;
    driver->filters = nwf_filter_store_new(config->config_dir);
    driver->bindings = nwf_binding_store_new(config->state_dir);
    driver->port_exists = config->port_exists ? config->port_exists
                                              : nwf_driver_port_exists_default;
    driver->port_exists_data = config->port_exists_data;

    if (!nwf_filter_store_load(driver->filters, error) ||
        !nwf_binding_store_load(driver->bindings, error))
        return NULL;
    if (config->lease_dir) {
        driver->learn = nwf_driver_learn_new(driver, config->lease_dir, error);
        if (!driver->learn)
            return NULL;
    }
    /* A binding that cannot be applied must not keep the daemon (and so
     * every other VM's filtering) down: it is logged and left out. */
    if (!nwf_driver_apply_all(driver, TRUE, NULL, &cause))
        g_warning("%s", cause->message);
    return g_steal_pointer(&driver);
}

void
nwf_driver_free(NwfDriver *driver)
{
    if (!driver)
        return;
    /* The rules stay in the kernel: VMs remain filtered while the daemon is
     * down, and the next start finds them in place. */
    nwf_driver_learn_free(driver->learn);
    if (driver->backend)
        driver->backend->ops->free(driver->backend);
    nwf_binding_store_free(driver->bindings);
    nwf_filter_store_free(driver->filters);
    g_mutex_clear(&driver->lock);
    g_free(driver);
}

gboolean
nwf_driver_reapply_all(NwfDriver *driver, GError **error)
{
    NWF_DRIVER_LOCK(driver);

    return nwf_driver_apply_all(driver, FALSE, NULL, error);
}

gboolean
nwf_driver_repair(NwfDriver *driver, guint *n_repaired, GError **error)
{
    NWF_DRIVER_LOCK(driver);

    return nwf_driver_apply_all(driver, FALSE, n_repaired, error);
}

/* ---- filters ---- */

void
nwf_filter_info_free(NwfFilterInfo *info)
{
    if (!info)
        return;
    g_free(info->name);
    g_free(info);
}

static NwfFilterInfo *
nwf_filter_info_new(const NwfFilterDef *def)
{
    NwfFilterInfo *info = g_new0(NwfFilterInfo, 1);

    info->name = g_strdup(def->name);
    memcpy(info->uuid, def->uuid, 16);
    return info;
}

guint
nwf_driver_filter_count(NwfDriver *driver)
{
    NWF_DRIVER_LOCK(driver);

    return nwf_filter_store_count(driver->filters);
}

GPtrArray *
nwf_driver_filter_list(NwfDriver *driver)
{
    NWF_DRIVER_LOCK(driver);
    g_autoptr(GPtrArray) defs = nwf_filter_store_list(driver->filters);
    GPtrArray *list = g_ptr_array_new_full(defs->len, (GDestroyNotify)nwf_filter_info_free);

    for (guint i = 0; i < defs->len; i++)
        g_ptr_array_add(list, nwf_filter_info_new(g_ptr_array_index(defs, i)));
    return list;
}

static const NwfFilterDef *
nwf_driver_find_name(NwfDriver *driver, const char *name, GError **error)
{
    const NwfFilterDef *def = nwf_filter_store_lookup(driver->filters, name);

    if (!def)
        nwf_error_set(error, NWF_ERR_NO_NWFILTER, _("no nwfilter with matching name '%s'"), name);
    return def;
}

static const NwfFilterDef *
nwf_driver_find_uuid(NwfDriver *driver, const guint8 uuid[16], GError **error)
{
    const NwfFilterDef *def = nwf_filter_store_lookup_uuid(driver->filters, uuid);

    if (!def) {
        g_autofree char *text = nwf_uuid_format(uuid);

        nwf_error_set(error, NWF_ERR_NO_NWFILTER, _("no nwfilter with matching uuid '%s'"), text);
    }
    return def;
}

NwfFilterInfo *
nwf_driver_filter_lookup_by_name(NwfDriver *driver, const char *name, GError **error)
{
    NWF_DRIVER_LOCK(driver);
    const NwfFilterDef *def = nwf_driver_find_name(driver, name, error);

    return def ? nwf_filter_info_new(def) : NULL;
}

NwfFilterInfo *
nwf_driver_filter_lookup_by_uuid(NwfDriver *driver, const guint8 uuid[16], GError **error)
{
    NWF_DRIVER_LOCK(driver);
    const NwfFilterDef *def = nwf_driver_find_uuid(driver, uuid, error);

    return def ? nwf_filter_info_new(def) : NULL;
}

char *
nwf_driver_filter_get_xml(NwfDriver *driver, const guint8 uuid[16], GError **error)
{
    NWF_DRIVER_LOCK(driver);
    const NwfFilterDef *def = nwf_driver_find_uuid(driver, uuid, error);

    return def ? nwf_filter_def_format(def) : NULL;
}

/* The kernel side of a redefinition: every binding on a present device whose
 * tree reaches DEF's name gets its program from the tree with DEF, all in one
 * transaction. Compile errors (a missing filter, an unresolvable variable)
 * stop everything before the kernel is touched. */
static gboolean
nwf_driver_filter_reinstantiate(NwfDriver *driver, const NwfFilterDef *def, GError **error)
{
    g_autoptr(GPtrArray) programs = nwf_driver_compile_affected(driver, def->name, def, error);

    if (!programs)
        return FALSE;
    return nwf_driver_commit(driver, programs, NULL, error);
}

/* Put the programs of the current definitions back after a redefinition
 * reached the kernel but could not be saved. */
static void
nwf_driver_filter_restore(NwfDriver *driver, const char *name)
{
    g_autoptr(GError) cause = NULL;
    g_autoptr(GPtrArray) programs = nwf_driver_compile_affected(driver, name, NULL, &cause);

    if (!programs || !nwf_driver_commit(driver, programs, NULL, &cause))
        g_warning("cannot restore the rules of the bindings using filter '%s': %s",
                  name, cause->message);
}

NwfFilterInfo *
nwf_driver_filter_define(NwfDriver *driver, const char *xml, gboolean validate, GError **error)
{
    g_autoptr(GMutexLocker) locker = NULL;
    g_autoptr(NwfFilterDef) def = NULL;
    const NwfFilterDef *old;
    gboolean rebuilt = FALSE;
    NwfFilterInfo *info;

    if (validate && !nwf_driver_schema_validate("nwfilter.rng", xml, error))
        return NULL;
    def = nwf_filter_def_parse_string(xml, -1, error);
    if (!def)
        return NULL;

    locker = g_mutex_locker_new(&driver->lock);
    if (!nwf_filter_store_check_define(driver->filters, def, error))
        return NULL;
    old = nwf_filter_store_lookup(driver->filters, def->name);
    if (!old || !nwf_filter_def_equal_ignoring_uuid(old, def)) {
        if (!nwf_driver_filter_reinstantiate(driver, def, error))
            return NULL;
        rebuilt = TRUE;
    }
    info = nwf_filter_info_new(def);
    if (!nwf_filter_store_save(driver->filters, g_steal_pointer(&def), error)) {
        if (rebuilt)
            nwf_driver_filter_restore(driver, info->name);
        nwf_filter_info_free(info);
        return NULL;
    }
    return info;
}

gboolean
nwf_driver_filter_undefine(NwfDriver *driver, const guint8 uuid[16], GError **error)
{
    NWF_DRIVER_LOCK(driver);
    g_autoptr(GPtrArray) bindings = NULL;
    const NwfFilterDef *def = nwf_driver_find_uuid(driver, uuid, error);

    if (!def)
        return FALSE;
    bindings = nwf_binding_store_list(driver->bindings);
    for (guint i = 0; i < bindings->len; i++) {
        if (nwf_driver_binding_reaches(driver, g_ptr_array_index(bindings, i), def->name, NULL)) {
            nwf_error_set(error, NWF_ERR_OPERATION_INVALID, _("nwfilter is in use"));
            return FALSE;
        }
    }
    return nwf_filter_store_delete(driver->filters, def->name, error);
}

/* ---- bindings ---- */

static const NwfBindingDef *
nwf_driver_find_binding(NwfDriver *driver, const char *portdev, GError **error)
{
    const NwfBindingDef *def = nwf_binding_store_lookup(driver->bindings, portdev);

    if (!def)
        nwf_error_set(error, NWF_ERR_NO_NWFILTER_BINDING,
                      _("no nwfilter binding for port dev '%s'"), portdev);
    return def;
}

GPtrArray *
nwf_driver_binding_list(NwfDriver *driver)
{
    NWF_DRIVER_LOCK(driver);
    g_autoptr(GPtrArray) defs = nwf_binding_store_list(driver->bindings);
    GPtrArray *list = g_ptr_array_new_full(defs->len, (GDestroyNotify)nwf_binding_def_free);

    for (guint i = 0; i < defs->len; i++)
        g_ptr_array_add(list, nwf_binding_def_copy(g_ptr_array_index(defs, i)));
    return list;
}

NwfBindingDef *
nwf_driver_binding_lookup(NwfDriver *driver, const char *portdev, GError **error)
{
    NWF_DRIVER_LOCK(driver);
    const NwfBindingDef *def = nwf_driver_find_binding(driver, portdev, error);

    return def ? nwf_binding_def_copy(def) : NULL;
}

char *
nwf_driver_binding_get_xml(NwfDriver *driver, const char *portdev, GError **error)
{
    NWF_DRIVER_LOCK(driver);
    const NwfBindingDef *def = nwf_driver_find_binding(driver, portdev, error);

    return def ? nwf_binding_def_format(def) : NULL;
}

/* A binding that could not be created leaves no learning behind: compiling
 * it may have opened its port's packet socket. */
static void
binding_create_undo_learning(NwfDriver *driver, const NwfBindingDef *binding)
{
    if (driver->learn)
        nwf_driver_learn_drop_binding(driver->learn, binding);
}

NwfBindingDef *
nwf_driver_binding_create(NwfDriver *driver, const char *xml, gboolean validate, GError **error)
{
    g_autoptr(GMutexLocker) locker = NULL;
    g_autoptr(NwfBindingDef) def = NULL;
    g_autoptr(NwfRuleProgram) program = NULL;
    g_autoptr(GError) cause = NULL;
    NwfBindingDef *result;
    char *portdev;

    if (validate && !nwf_driver_schema_validate("nwfilterbinding.rng", xml, error))
        return NULL;
    def = nwf_binding_def_parse_string(xml, -1, error);
    if (!def)
        return NULL;

    locker = g_mutex_locker_new(&driver->lock);
    if (nwf_binding_store_lookup(driver->bindings, def->portdev)) {
        nwf_error_set(error, NWF_ERR_OPERATION_FAILED, _("binding '%s' already exists"),
                      def->portdev);
        return NULL;
    }
    if (nwf_driver_port_exists(driver, def->portdev)) {
        nwf_driver_binding_add_mac(def);
        program = nwf_driver_compile(driver, def, NULL, error);
        if (!program)
            return NULL;
    }
    result = nwf_binding_def_copy(def);
    portdev = result->portdev;
    if (!nwf_binding_store_save(driver->bindings, g_steal_pointer(&def), error)) {
        binding_create_undo_learning(driver, result);
        nwf_binding_def_free(result);
        return NULL;
    }
    if (program && !nwf_driver_commit_one(driver, program, NULL, error)) {
        if (!nwf_binding_store_delete(driver->bindings, portdev, &cause))
            g_warning("cannot remove the status file of the failed binding '%s': %s",
                      portdev, cause->message);
        binding_create_undo_learning(driver, result);
        nwf_binding_def_free(result);
        return NULL;
    }
    return result;
}

gboolean
nwf_driver_port_learning(NwfDriver *driver, const char *portdev)
{
    NWF_DRIVER_LOCK(driver);

    return driver->learn && nwf_driver_learn_running(driver->learn, portdev);
}

gboolean
nwf_driver_binding_delete(NwfDriver *driver, const char *portdev, GError **error)
{
    NWF_DRIVER_LOCK(driver);
    const NwfBindingDef *def = nwf_driver_find_binding(driver, portdev, error);

    if (!def)
        return FALSE;
    /* Removal is unconditional: the device may have gone since create, and
     * removing what is absent is no error for a backend. */
    if (!nwf_driver_commit_one(driver, NULL, portdev, error))
        return FALSE;
    if (driver->learn)
        nwf_driver_learn_drop_binding(driver->learn, def);
    return nwf_binding_store_delete(driver->bindings, portdev, error);
}

gboolean
nwf_driver_binding_reapply(NwfDriver *driver, const char *portdev, GError **error)
{
    NWF_DRIVER_LOCK(driver);
    const NwfBindingDef *def = nwf_binding_store_lookup(driver->bindings, portdev);
    g_autoptr(NwfRuleProgram) program = NULL;

    if (!def) {
        if (driver->learn)
            nwf_driver_learn_forget(driver->learn, portdev);
        return TRUE;
    }
    if (!nwf_driver_port_exists(driver, portdev))
        return TRUE;
    program = nwf_driver_compile(driver, def, NULL, error);
    return program && nwf_driver_commit_one(driver, program, NULL, error);
}
