/* libFuzzer target: the binding parser and both binding formatters. */
#include "config.h"

#include <stdint.h>

#include "conf/binding_def.h"
#include "fuzz_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(NwfBindingDef) def = nwf_fuzz_roundtrip((const char *)data, size,
                                                      (NwfFuzzParse)nwf_binding_def_parse_string,
                                                      (NwfFuzzFormat)nwf_binding_def_format,
                                                      (GDestroyNotify)nwf_binding_def_free);
    g_autoptr(NwfBindingDef) copy = NULL;
    g_autofree char *text = NULL;
    g_autofree char *copied = NULL;
    g_autofree char *status = NULL;

    if (!def)
        return 0;
    text = nwf_binding_def_format(def);
    copy = nwf_binding_def_copy(def);
    copied = nwf_binding_def_format(copy);
    status = nwf_binding_def_format_status(def);
    if (strcmp(text, copied) != 0 || !strstr(status, "<filterbindingstatus>\n  <filterbinding>\n"))
        abort();
    return 0;
}
