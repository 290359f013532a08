#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "nwfilter/backend.h"
#include "nwfilter_cmds.h"
#include "tool_program.h"
#include "util/nwf_error.h"

/* A backend for rendering only: no kernel probe, so dry runs work anywhere. */
static NwfBackend *
render_backend(const char *name, GError **error)
{
    if (strcmp(name, "ebiptables") == 0 || strcmp(name, "iptables") == 0)
        return nwf_backend_ebiptables_new();
#ifdef NWF_HAVE_NFT_BACKEND
    if (strcmp(name, "nft") == 0 || strcmp(name, "nftables") == 0)
        return nwf_backend_nft_new();
#endif
    nwf_error_set(error, NWF_ERR_CONFIG_UNSUPPORTED,
                  _("unknown or unavailable firewall backend '%s'"), name);
    return NULL;
}

/* Print what a backend would run to apply the compiled filter tree. */
int
nwf_cmd_compile(int argc, char **argv)
{
    NwfToolProgramOptions opts = { 0 };
    g_autofree char *backend_name = NULL;
    gboolean counters = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfRuleProgram) program = NULL;
    g_autofree char *text = NULL;
    NwfBackend *backend;
    int rc = 1;

    if (!nwf_tool_program_parse(argc, argv, N_("- print the firewall commands for a binding"),
                                N_("ebiptables (libvirt's command list) or nft"),
                                &backend_name, &counters, &opts, NULL)) {
        nwf_tool_program_options_clear(&opts);
        return 2;
    }
    backend = render_backend(backend_name ? backend_name : "ebiptables", &error);
    if (backend && !nwf_tool_program_set_counters(backend, counters, &error)) {
        backend->ops->free(backend);
        backend = NULL;
    }
    if (backend) {
        program = nwf_tool_program_compile(&opts, NULL, &error);
        if (program)
            text = backend->ops->render(backend, program, &error);
        backend->ops->free(backend);
    }
    if (text) {
        fputs(text, stdout);
        rc = 0;
    } else {
        fprintf(stderr, _("error: %s\n"), error->message);
    }
    nwf_tool_program_options_clear(&opts);
    return rc;
}
