#include "config.h"

#include <string.h>

#include "conf/nwfilter_def.h"

void
nwf_uuid_generate(guint8 uuid[16])
{
    g_autofree char *text = g_uuid_string_random();

    if (!nwf_uuid_parse(text, uuid))
        g_assert_not_reached();
}

/* libvirt's liberal form: surrounding whitespace, and '-' or ' ' between
 * any two hex pairs, around exactly 32 hex digits. */
gboolean
nwf_uuid_parse(const char *text, guint8 uuid[16])
{
    const char *p = text;
    guint8 out[16];
    int i = 0;

    while (g_ascii_isspace(*p))
        p++;
    while (i < 16) {
        if (*p == '-' || *p == ' ') {
            p++;
            continue;
        }
        if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]))
            return FALSE;
        out[i++] = (guint8)(g_ascii_xdigit_value(p[0]) * 16 + g_ascii_xdigit_value(p[1]));
        p += 2;
    }
    while (*p) {
        if (!g_ascii_isspace(*p))
            return FALSE;
        p++;
    }
    memcpy(uuid, out, 16);
    return TRUE;
}

char *
nwf_uuid_format(const guint8 u[16])
{
    return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                           "%02x%02x%02x%02x%02x%02x",
                           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                           u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}
