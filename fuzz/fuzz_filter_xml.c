/* libFuzzer target: the filter parser and formatter. Besides "no crash",
 * it checks that formatted output always parses again and that formatting
 * is stable after one round (raw tabs and newlines in attribute values,
 * printed as libvirt prints them, become spaces once). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/nwfilter_def.h"

static char *
reformat(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(NwfFilterDef) def = nwf_filter_def_parse_string(text, -1, &error);

    if (!def) {
        fprintf(stderr, "formatted output does not parse: %s\n%s", error->message, text);
        abort();
    }
    return nwf_filter_def_format(def);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(NwfFilterDef) def = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    g_autofree char *third = NULL;

    def = nwf_filter_def_parse_string((const char *)data, (gssize)size, &error);
    if (!def) {
        if (!error || !error->message || !*error->message)
            abort();
        return 0;
    }
    first = nwf_filter_def_format(def);
    if (strlen(first) > 512 * 1024)
        return 0;
    second = reformat(first);
    third = reformat(second);
    if (strcmp(second, third) != 0) {
        fprintf(stderr, "unstable formatting:\n%s---\n%s", second, third);
        abort();
    }
    return 0;
}
