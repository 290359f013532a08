/* Message translation for the programs' main(): messages follow the user's
 * language (LC_MESSAGES) and character set (LC_CTYPE). Numbers, collation
 * and time stay in the C locale, so the output scripts, libvirt clients and
 * the tests read is the same in every language. Marked strings use
 * <glib/gi18n.h>'s _() and N_(); the catalogue is po/. */
#pragma once

void nwf_i18n_init(void);
