/* Shared body of the XML fuzz targets: parse the input; when it parses,
 * the formatted text must parse again and format the same after one round
 * (raw tabs and newlines in attribute values, printed as libvirt prints
 * them, become spaces once). Any violation aborts. */
#pragma once

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*NwfFuzzParse)(const char *xml, gssize len, GError **error);
typedef char *(*NwfFuzzFormat)(const void *def);

static char *
nwf_fuzz_reformat(const char *text, NwfFuzzParse parse, NwfFuzzFormat format, GDestroyNotify free_def)
{
    g_autoptr(GError) error = NULL;
    void *def = parse(text, -1, &error);
    char *out;

    if (!def) {
        fprintf(stderr, "formatted output does not parse: %s\n%s", error->message, text);
        abort();
    }
    out = format(def);
    free_def(def);
    return out;
}

/* Returns the parsed definition (caller frees) or NULL when refused. */
static void *
nwf_fuzz_roundtrip(const char *data, size_t size, NwfFuzzParse parse, NwfFuzzFormat format,
                   GDestroyNotify free_def)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    g_autofree char *third = NULL;
    void *def = parse(data, (gssize)size, &error);

    if (!def) {
        if (!error || !error->message || !*error->message)
            abort();
        return NULL;
    }
    first = format(def);
    if (strlen(first) > 512 * 1024)
        return def;
    second = nwf_fuzz_reformat(first, parse, format, free_def);
    third = nwf_fuzz_reformat(second, parse, format, free_def);
    if (strcmp(second, third) != 0) {
        fprintf(stderr, "unstable formatting:\n%s---\n%s", second, third);
        abort();
    }
    return def;
}
