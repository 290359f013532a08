/* libFuzzer target: the binding parser and both binding formatters; the
 * formatted binding must parse again and format the same. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/binding_def.h"

static char *
reformat(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfBindingDef) def = nwf_binding_def_parse_string(text, -1, &error);

    if (!def) {
        fprintf(stderr, "formatted binding does not parse: %s\n%s", error->message, text);
        abort();
    }
    return nwf_binding_def_format(def);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(NwfBindingDef) def = NULL;
    g_autoptr(NwfBindingDef) copy = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    g_autofree char *third = NULL;
    g_autofree char *copied = NULL;
    g_autofree char *status = NULL;

    def = nwf_binding_def_parse_string((const char *)data, (gssize)size, &error);
    if (!def) {
        if (!error || !error->message || !*error->message)
            abort();
        return 0;
    }
    first = nwf_binding_def_format(def);
    status = nwf_binding_def_format_status(def);
    copy = nwf_binding_def_copy(def);
    copied = nwf_binding_def_format(copy);
    if (strcmp(first, copied) != 0 || !strstr(status, "<filterbindingstatus>"))
        abort();
    second = reformat(first);
    third = reformat(second);
    if (strcmp(second, third) != 0) {
        fprintf(stderr, "unstable formatting:\n%s---\n%s", second, third);
        abort();
    }
    return 0;
}
