/* learn_ratelimit: a token bucket per snooped port, so a guest that floods
 * its port costs the daemon a bounded amount of decoding no matter how fast
 * it sends. Time is passed in (microseconds, monotonic) so tests control it. */
#pragma once

#include <glib.h>

typedef struct {
    guint rate;                 /* tokens added per second */
    guint burst;                /* bucket size */
    gdouble tokens;
    gint64 last_us;             /* when tokens was last brought up to date */
    guint64 dropped;            /* frames refused since creation */
} NwfRateLimit;

/* A full bucket at NOW_US. */
void nwf_rate_limit_init(NwfRateLimit *limit, guint rate, guint burst, gint64 now_us);

/* Take one token at NOW_US. FALSE (and the drop counted) when the bucket is
 * empty. */
gboolean nwf_rate_limit_take(NwfRateLimit *limit, gint64 now_us);
