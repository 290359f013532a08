#include "config.h"

#include <locale.h>

#include <glib.h>
#include <glib/gi18n.h>

#include "nwf_i18n.h"

void
nwf_i18n_init(void)
{
    /* NWF_LOCALEDIR: the catalogues of a build tree, for tests. */
    const char *dir = g_getenv("NWF_LOCALEDIR");

    setlocale(LC_MESSAGES, "");
    setlocale(LC_CTYPE, "");
    bindtextdomain(GETTEXT_PACKAGE, dir ? dir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}
