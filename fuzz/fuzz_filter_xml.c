/* libFuzzer target: the filter parser and formatter. */
#include "config.h"

#include <stdint.h>

#include "conf/nwfilter_def.h"
#include "fuzz_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    NwfFilterDef *def = nwf_fuzz_roundtrip((const char *)data, size,
                                           (NwfFuzzParse)nwf_filter_def_parse_string,
                                           (NwfFuzzFormat)nwf_filter_def_format,
                                           (GDestroyNotify)nwf_filter_def_free);

    nwf_filter_def_free(def);
    return 0;
}
