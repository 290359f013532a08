#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "conf/binding_def.h"
#include "conf/nwfilter_def.h"
#include "nwfilter_cmds.h"
#include "util/nwf_error.h"

/* Print what 'virsh nwfilter-dumpxml' (or nwfilter-binding-dumpxml) shows
 * after defining FILE. */
int
nwf_cmd_format(int argc, char **argv)
{
    gboolean binding = FALSE;
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    g_autofree char *text = NULL;
    const char *file = NULL;
    gsize len = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--binding") == 0) {
            binding = TRUE;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: nwfilter format [--binding] FILE\n"
                   "Print FILE as libvirt's dumpxml would ('-' reads standard input).\n");
            return 0;
        } else if (file || (argv[i][0] == '-' && argv[i][1] != '\0')) {
            fprintf(stderr, _("error: unexpected argument '%s'\n"), argv[i]);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        fprintf(stderr, _("Usage: nwfilter format [--binding] FILE\n"));
        return 2;
    }
    data = nwf_tool_read_input(file, &len);
    if (!data)
        return 2;
    if (binding) {
        g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_string(data, (gssize)len, &error);
        if (def)
            text = nwf_binding_def_format(def);
    } else {
        g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(data, (gssize)len, &error);
        if (def)
            text = nwf_filter_def_format(def);
    }
    if (!text) {
        fprintf(stderr, _("error: %s\n"), error->message);
        return 1;
    }
    fputs(text, stdout);
    return 0;
}
