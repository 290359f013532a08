#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include <glib.h>

#include "nwfilter_cmds.h"
#include "util/nwf_i18n.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} NwfToolCommand;

/* One line per subcommand; keep alphabetical. */
static const NwfToolCommand commands[] = {
    { "apply", nwf_cmd_apply, N_("compile a binding and enforce it in this network namespace") },
    { "compile", nwf_cmd_compile, N_("print the firewall commands a binding compiles to") },
    { "fingerprint", nwf_cmd_fingerprint, N_("hash what a binding enforces, to compare hosts") },
    { "format", nwf_cmd_format, N_("print a filter (or --binding) as libvirt's dumpxml does") },
    { "remove", nwf_cmd_remove, N_("remove a port's firewall rules in this network namespace") },
    { "status", nwf_cmd_status, N_("whether bindings' rules are in the kernel as compiled (drift)") },
#ifdef NWF_HAVE_NFT_BACKEND
    { "stats", nwf_cmd_stats, N_("per-rule packet and byte counters of a port (nftables backend)") },
#endif
    { "trace", nwf_cmd_trace, N_("evaluate a frame against a binding's rules: verdict and deciding rules") },
    { "validate", nwf_cmd_validate, N_("check filter (or --binding) XML as libvirt's define does") },
    { NULL, NULL, NULL }
};

char *
nwf_tool_read_input(const char *file, gsize *len)
{
    g_autoptr(GError) error = NULL;
    char *data = NULL;

    if (strcmp(file, "-") == 0) {
        g_autoptr(GString) buf = g_string_new(NULL);
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            g_string_append_len(buf, chunk, n);
        if (ferror(stdin)) {
            fprintf(stderr, _("error: cannot read standard input\n"));
            return NULL;
        }
        if (len)
            *len = buf->len;
        return g_string_free(g_steal_pointer(&buf), FALSE);
    }
    if (!g_file_get_contents(file, &data, len, &error)) {
        fprintf(stderr, _("error: %s\n"), error->message);
        return NULL;
    }
    return data;
}

static void
usage(FILE *out)
{
    fprintf(out, _("Usage: nwfilter COMMAND [OPTION…]\n\nCommands:\n"));
    for (const NwfToolCommand *c = commands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, _(c->summary));
    fprintf(out, _("\nRun 'nwfilter COMMAND --help' for a command's options.\n"));
}

int
main(int argc, char **argv)
{
    nwf_i18n_init();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("nwfilter %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (const NwfToolCommand *c = commands; c->name; c++) {
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, _("error: unknown command '%s'\n"), argv[1]);
    usage(stderr);
    return 2;
}
