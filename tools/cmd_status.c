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

/* One binding of a run: compiled (ERROR NULL, not ABSENT), or why not. */
typedef struct {
    char *portdev;
    char *error;
    gboolean absent;
} StatusEntry;

/* The bindings of one run, in output order; their compiled programs are
 * checked together, against one reading of the kernel. */
typedef struct {
    GArray *entries;            /* StatusEntry */
    GPtrArray *programs;        /* NwfRuleProgram*, of the compiled entries in order */
} StatusRound;

static void
status_entry_clear(gpointer data)
{
    StatusEntry *entry = data;

    g_free(entry->portdev);
    g_free(entry->error);
}

static void
status_round_init(StatusRound *round)
{
    round->entries = g_array_new(FALSE, TRUE, sizeof(StatusEntry));
    g_array_set_clear_func(round->entries, status_entry_clear);
    round->programs = g_ptr_array_new_with_free_func((GDestroyNotify)nwf_rule_program_free);
}

static void
status_round_clear(StatusRound *round)
{
    g_array_unref(round->entries);
    g_ptr_array_unref(round->programs);
}

/* Queue PORTDEV: its PROGRAM (owned), or COMPILE_ERROR, or neither when
 * the device is absent. */
static void
status_round_add(StatusRound *round, const char *portdev, NwfRuleProgram *program,
                 const GError *compile_error)
{
    StatusEntry entry = { g_strdup(portdev), NULL, !program && !compile_error };

    if (program)
        g_ptr_array_add(round->programs, program);
    else if (compile_error)
        entry.error = g_strdup(compile_error->message);
    g_array_append_val(round->entries, entry);
}

/* One line per queued binding; the kernel is read once for all of them. */
static void
status_round_report(NwfBackend *backend, StatusRound *round, StatusCount *count)
{
    g_autofree gboolean *matches = g_new0(gboolean, round->programs->len + 1);
    g_autoptr(GError) error = NULL;
    gboolean read = nwf_backend_ports_match(backend, round->programs, matches, &error);
    guint p = 0;

    for (guint i = 0; i < round->entries->len; i++) {
        const StatusEntry *entry = &g_array_index(round->entries, StatusEntry, i);
        gboolean compiled = !entry->absent && !entry->error;

        if (entry->absent) {
            printf("%s absent\n", entry->portdev);
        } else if (!compiled || !read) {
            printf("%s error: %s\n", entry->portdev, compiled ? error->message : entry->error);
            count->errors++;
        } else if (!matches[p]) {
            printf("%s drift\n", entry->portdev);
            count->drift++;
        } else {
            printf("%s present\n", entry->portdev);
        }
        p += compiled;
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
status_daemon_dirs(const char *config_dir, const char *state_dir, StatusRound *round)
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
        NwfRuleProgram *program;
        g_autoptr(GError) cause = NULL;

        if (if_nametoindex(binding->portdev) == 0) {
            status_round_add(round, binding->portdev, NULL, NULL);
            continue;
        }
        program = nwf_compile_binding(binding, status_lookup, filters, NULL, NULL, &cause);
        status_round_add(round, binding->portdev, program, cause);
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
    StatusRound round;
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
    if (backend && !backend->ops->port_matches && !backend->ops->ports_match) {
        fprintf(stderr, _("error: the %s backend cannot compare its rules with the kernel\n"),
                backend->ops->name);
        ok = FALSE;
    } else if (!backend) {
        fprintf(stderr, _("error: %s\n"), error->message);
        ok = FALSE;
    }
    status_round_init(&round);
    if (ok && state_dir)
        ok = status_daemon_dirs(config_dir, state_dir, &round);
    for (int i = 0; ok && (opts.binding || opts.filter) && i < argc; i++) {
        NwfToolProgramOptions one = opts;
        NwfRuleProgram *program;
        g_autoptr(GError) cause = NULL;

        if (i > 0)
            one.binding = argv[i];
        program = nwf_tool_program_compile(&one, NULL, &cause);
        status_round_add(&round, program ? program->ifname : one.binding, program, cause);
    }
    if (ok)
        status_round_report(backend, &round, &count);
    status_round_clear(&round);
    if (backend)
        backend->ops->free(backend);
    nwf_tool_program_options_clear(&opts);
    if (!ok || count.errors)
        return 2;
    return count.drift ? 1 : 0;
}
