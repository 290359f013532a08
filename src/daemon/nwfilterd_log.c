#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "daemon/nwfilterd_log.h"

static guint min_level = 3;

static guint
level_rank(GLogLevelFlags flags, const char **name)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        *name = "error";
        return 4;
    }
    if (flags & G_LOG_LEVEL_WARNING) {
        *name = "warning";
        return 3;
    }
    if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) {
        *name = "info";
        return 2;
    }
    *name = "debug";
    return 1;
}

static GLogWriterOutput
log_writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer data)
{
    const char *name;
    const char *message = NULL;
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *stamp = NULL;

    if (level_rank(flags, &name) < min_level)
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
    }
    now = g_date_time_new_now_utc();
    stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    /* Microseconds trimmed to milliseconds, as libvirt's log lines show. */
    fprintf(stderr, "%.23s+0000: %d: %s : %s\n", stamp, (int)getpid(), name,
            message ? message : "");
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

void
nwf_daemon_log_init(guint level)
{
    static gboolean installed;

    min_level = CLAMP(level, 1, 4);
    if (!installed)
        g_log_set_writer_func(log_writer, NULL, NULL);
    installed = TRUE;
}
