/* nwfilterd's log: one line per message on standard error, with time,
 * pid and level, dropping what is below the configured level. */
#pragma once

#include <glib.h>

/* LEVEL as in libvirtd.conf: 1 debug, 2 info, 3 warning, 4 error. Called
 * again, only the level changes. */
void nwf_daemon_log_init(guint level);
