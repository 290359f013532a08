#include "config.h"

#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend.h"
#include "nwfilter/binding_store.h"
#include "nwfilter/compile.h"
#include "nwfilter/filter_store.h"
#include "nwfilter_cmds.h"
#include "tool_program.h"

/* Drift detection: does the kernel of the current network namespace hold
 * each binding's rules as they compile now? Works from binding files
 * (--binding, as `apply` takes them) or from a daemon's directories
 * (--state-dir and --config-dir, read as the driver reads them). Nothing in
 * the kernel or on disk is changed. One line per binding:
 *   PORTDEV present    the rules are in place as compiled
 *   PORTDEV drift      missing or different (flushed, edited, never applied)
 *   PORTDEV absent     the device does not exist: nothing is applied for it
 *   PORTDEV error: ... it could not be compiled or the kernel not read */

typedef struct {
    guint drift;
    guint errors;
} StatusCount;

static void
status_check(NwfBackend *backend, const char *portdev, NwfRuleProgram *program,
             const GError *compile_error, StatusCount *count)
{
    g_autoptr(GError) error = NULL;
    gboolean matches = FALSE;

    if (!program) {
        printf("%s error: %s\n", portdev, compile_error->message);
        count->errors++;
    } else if (!backend->ops->port_matches(backend, program, &matches, &error)) {
        printf("%s error: %s\n", portdev, error->message);
        count->errors++;
    } else if (!matches) {
        printf("%s drift\n", portdev);
        count->drift++;
    } else {
        printf("%s present\n", portdev);
    }
}

static const NwfFilterDef *
status_lookup(const char *name, gpointer store)
{
    return nwf_filter_store_lookup(store, name);
}

/* The daemon's view: every binding of STATE_DIR with the filters of
 * CONFIG_DIR. FALSE when the directories cannot be read. */
static gboolean
status_daemon_dirs(NwfBackend *backend, const char *config_dir, const char *state_dir,
                   StatusCount *count)
{
    g_autoptr(NwfFilterStore) filters = nwf_filter_store_new(config_dir);
    g_autoptr(NwfBindingStore) bindings = nwf_binding_store_new(state_dir);
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GError) error = NULL;

    if (!nwf_filter_store_load(filters, &error) || !nwf_binding_store_load(bindings, &error)) {
        fprintf(stderr, _("error: %s\n"), error->message);
        return FALSE;
    }
    list = nwf_binding_store_list(bindings);
    for (guint i = 0; i < list->len; i++) {
        const NwfBindingDef *binding = g_ptr_array_index(list, i);
        g_autoptr(NwfRuleProgram) program = NULL;
        g_autoptr(GError) cause = NULL;

        if (if_nametoindex(binding->portdev) == 0) {
            printf("%s absent\n", binding->portdev);
            continue;
        }
        program = nwf_compile_binding(binding, status_lookup, filters, NULL, NULL, &cause);
        status_check(backend, binding->portdev, program, cause, count);
    }
    return TRUE;
}

int
nwf_cmd_status(int argc, char **argv)
{
    NwfToolProgramOptions opts = { 0 };
    g_autofree char *backend_name = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *config_dir = NULL;
    const GOptionEntry entries[] = {
        { "backend", 0, 0, G_OPTION_ARG_STRING, &backend_name,
          N_("nftables or ebiptables: the backend that applied the rules"), N_("NAME") },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
          N_("Check every binding of this nwfilterd state directory"), N_("DIR") },
        { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir,
          N_("The filters for --state-dir (nwfilterd's config directory)"), N_("DIR") },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new(N_("[BINDING.xml...] - whether bindings' rules are in the kernel as "
                                "compiled"));
    g_autoptr(GError) error = NULL;
    NwfBackend *backend = NULL;
    StatusCount count = { 0 };
    gboolean ok = TRUE;

    g_option_context_set_translation_domain(ctx, GETTEXT_PACKAGE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, nwf_tool_program_entries(&opts), NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, _("error: %s\n"), error->message);
        nwf_tool_program_options_clear(&opts);
        return 2;
    }
    if (!backend_name || (!state_dir && !opts.binding && !opts.filter) ||
        (!state_dir != !config_dir) || (argc > 1 && !opts.binding)) {
        fprintf(stderr, _("error: give --backend and either --binding FILE... or --state-dir DIR "
                          "with --config-dir DIR\n"));
        nwf_tool_program_options_clear(&opts);
        return 2;
    }
    backend = nwf_backend_new_by_name(backend_name, &error);
    if (backend && !backend->ops->port_matches) {
        fprintf(stderr, _("error: the %s backend cannot compare its rules with the kernel\n"),
                backend->ops->name);
        ok = FALSE;
    } else if (!backend) {
        fprintf(stderr, _("error: %s\n"), error->message);
        ok = FALSE;
    }
    if (ok && state_dir)
        ok = status_daemon_dirs(backend, config_dir, state_dir, &count);
    for (int i = 0; ok && (opts.binding || opts.filter) && i < argc; i++) {
        NwfToolProgramOptions one = opts;
        g_autoptr(NwfRuleProgram) program = NULL;
        g_autoptr(GError) cause = NULL;

        if (i > 0)
            one.binding = argv[i];
        program = nwf_tool_program_compile(&one, NULL, &cause);
        status_check(backend, program ? program->ifname : one.binding, program, cause, &count);
    }
    if (backend)
        backend->ops->free(backend);
    nwf_tool_program_options_clear(&opts);
    if (!ok || count.errors)
        return 2;
    return count.drift ? 1 : 0;
}
