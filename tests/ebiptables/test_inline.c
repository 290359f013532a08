/* libvirt's fixed driver entry points (vectors/libvirt/ebiptables-inline,
 * one case per file): the teardown sequences, and the learning-phase rule
 * sets built by learn_rules and rendered by the ebtables rule renderer.
 * Where the transcription spells an ethertype by name and we print the
 * number the kernel stores, data/README.md records why. */
#include "config.h"

#include <string.h>

#include "nwfilter/backend_ebiptables_private.h"
#include "nwfilter/learn_rules.h"

static const guint8 vm_mac[6] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60 };

typedef struct {
    const char *file;
    int teardown;                /* NwfEbiptablesTeardown, or -1: learning apply */
    NwfLearnRulesKind kind;
} InlineCase;

/* the entry point each vector file records (vectors README, section 4) */
static const InlineCase cases[] = {
    { "allTeardown.txt", NWF_EBIPTABLES_TEAR_ALL, 0 },
    { "tearOldRules.txt", NWF_EBIPTABLES_TEAR_OLD, 0 },
    { "tearNewRules.txt", NWF_EBIPTABLES_TEAR_NEW, 0 },
    { "removeBasicRules.txt", NWF_EBIPTABLES_TEAR_EBT, 0 },
    { "applyBasicRules.txt", -1, NWF_LEARN_RULES_BASIC },
    { "applyDHCPOnlyRules.txt", -1, NWF_LEARN_RULES_DHCP },
    { "applyDropAllRules.txt", -1, NWF_LEARN_RULES_DROP_ALL },
};

/* libvirt's learning rules are hand-written strings; ours come from the
 * rule renderer that matches libvirt's filter-XML output byte for byte. The
 * two spell the same kernel rule differently (data/README.md), so ebtables
 * "-A" lines are compared in a canonical form: option aliases and
 * ethertype/protocol names mapped to one spelling, options sorted, and a
 * run of adjacent ACCEPT rules of one chain sorted (which of them matches
 * first cannot change a verdict). Everything else must be equal as text. */
static const char *const aliases[][2] = {
    { "--ip-src", "--ip-source" }, { "--ip-dst", "--ip-destination" },
    { "--ip-sport", "--ip-source-port" }, { "--ip-dport", "--ip-destination-port" },
    { "--ip-proto", "--ip-protocol" }, { "IPv4", "0x800" }, { "ipv4", "0x800" },
    { "ARP", "0x806" }, { "udp", "17" },
};

static const char *
alias_canonical(const char *word)
{
    for (guint i = 0; i < G_N_ELEMENTS(aliases); i++) {
        if (strcmp(word, aliases[i][0]) == 0)
            return aliases[i][1];
    }
    return word;
}

static gint
text_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "ebtables ... -A CHAIN opts -j TARGET" with its options sorted; NULL for
 * any other command. *CHAIN and *TARGET are set for a rule. */
static char *
ebt_rule_canonical(const char *line, char **chain, char **target)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(g_free);
    GString *group = NULL;
    g_autofree char *joined = NULL;
    guint i = 0;

    if (!g_str_has_prefix(line, "ebtables ") || !g_shell_parse_argv(line, NULL, &argv, NULL))
        return NULL;
    while (argv[i] && strcmp(argv[i], "-A") != 0)
        i++;
    if (!argv[i] || !argv[i + 1])
        return NULL;
    *chain = g_strdup(argv[i + 1]);
    for (i += 2; argv[i]; i++) {
        if (strcmp(argv[i], "-j") == 0 && argv[i + 1]) {
            *target = g_strdup(argv[i + 1]);
            break;
        }
        if (argv[i][0] == '-') {
            if (group)
                g_ptr_array_add(groups, g_string_free(group, FALSE));
            group = g_string_new(alias_canonical(argv[i]));
        } else if (group) {
            g_string_append_printf(group, " %s", alias_canonical(argv[i]));
        }
    }
    if (group)
        g_ptr_array_add(groups, g_string_free(group, FALSE));
    g_ptr_array_sort(groups, text_compare);
    g_ptr_array_add(groups, NULL);
    joined = g_strjoinv(" ", (char **)groups->pdata);
    return g_strdup_printf("ebtables -A %s %s -j %s", *chain, joined, *target ? *target : "");
}

static gint
text_compare_data(gconstpointer a, gconstpointer b, gpointer data)
{
    return text_compare(a, b);
}

/* Sort OUT[START..] (a run of ACCEPT rules). */
static void
run_sort(GPtrArray *out, guint start)
{
    g_qsort_with_data(out->pdata + start, out->len - start, sizeof(gpointer), text_compare_data,
                      NULL);
}

static char *
canonical(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *run_chain = NULL;
    guint run_start = 0;

    for (guint i = 0; lines[i]; i++) {
        g_autofree char *chain = NULL;
        g_autofree char *target = NULL;
        char *rule = ebt_rule_canonical(lines[i], &chain, &target);
        gboolean accept = rule && g_strcmp0(target, "ACCEPT") == 0;

        if (!accept || g_strcmp0(chain, run_chain) != 0) {
            /* close the run of ACCEPT rules before this line */
            if (run_chain)
                run_sort(out, run_start);
            g_clear_pointer(&run_chain, g_free);
            if (accept) {
                run_chain = g_strdup(chain);
                run_start = out->len;
            }
        }
        g_ptr_array_add(out, rule ? rule : g_strdup(lines[i]));
    }
    if (run_chain)
        run_sort(out, run_start);
    g_ptr_array_add(out, NULL);
    return g_strjoinv("\n", (char **)out->pdata);
}

/* Our rendering of vector FILE. */
static char *
render(const char *file)
{
    g_autoptr(GPtrArray) cmds = NULL;
    const InlineCase *c = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (strcmp(cases[i].file, file) == 0)
            c = &cases[i];
    }
    if (!c)
        g_error("vector %s: no entry point known for it", file);
    if (c->teardown >= 0) {
        cmds = nwf_ebiptables_script_teardown("vnet0", c->teardown);
    } else {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) servers = g_ptr_array_new();
        g_autoptr(NwfRuleProgram) program = NULL;

        g_ptr_array_add(servers, (gpointer)"192.168.122.1");
        g_ptr_array_add(servers, (gpointer)"10.0.0.1");
        g_ptr_array_add(servers, (gpointer)"10.0.0.2");
        program = nwf_learn_rules_build("vnet0", vm_mac, c->kind, FALSE, servers, NULL, &error);
        g_assert_no_error(error);
        cmds = nwf_ebiptables_script_learning(program);
    }
    return nwf_ebiptables_script_format(cmds, TRUE);
}

static gint
name_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *
vector_dir(void)
{
    return g_build_filename(g_getenv("NWF_SHARED"), "vectors", "libvirt", "ebiptables-inline",
                            NULL);
}

static void
test_inline(gconstpointer data)
{
    const char *file = data;
    g_autofree char *dir = vector_dir();
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *text = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *ours = render(file);
    g_autofree char *ours_canonical = NULL;
    g_autoptr(GError) error = NULL;

    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    expected = canonical(text);
    ours_canonical = canonical(ours);
    g_assert_cmpstr(ours_canonical, ==, expected);
}

int
main(int argc, char **argv)
{
    g_autoptr(GDir) dir = NULL;
    g_autofree char *path = NULL;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    const char *name;

    g_test_init(&argc, &argv, NULL);
    g_test_set_nonfatal_assertions();
    g_assert_nonnull(g_getenv("NWF_SHARED"));
    path = vector_dir();
    dir = g_dir_open(path, 0, &error);
    g_assert_no_error(error);
    while ((name = g_dir_read_name(dir))) {
        if (g_str_has_suffix(name, ".txt"))
            g_ptr_array_add(files, g_strdup(name));
    }
    g_ptr_array_sort(files, name_compare);
    g_assert_cmpuint(files->len, >, 0);
    for (guint i = 0; i < files->len; i++) {
        const char *file = g_ptr_array_index(files, i);
        g_autofree char *test = g_strdup_printf("/ebiptables/inline/%s", file);
        g_test_add_data_func(test, file, test_inline);
    }
    return g_test_run();
}
