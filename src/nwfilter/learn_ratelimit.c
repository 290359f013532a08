#include "config.h"

#include "nwfilter/learn_ratelimit.h"

void
nwf_rate_limit_init(NwfRateLimit *limit, guint rate, guint burst, gint64 now_us)
{
    limit->rate = rate;
    limit->burst = MAX(burst, 1);
    limit->tokens = limit->burst;
    limit->last_us = now_us;
    limit->dropped = 0;
}

gboolean
nwf_rate_limit_take(NwfRateLimit *limit, gint64 now_us)
{
    /* A clock that went backwards (it should not: monotonic) refills
     * nothing rather than a huge amount. */
    if (now_us > limit->last_us) {
        limit->tokens += (gdouble)(now_us - limit->last_us) * limit->rate / G_USEC_PER_SEC;
        if (limit->tokens > limit->burst)
            limit->tokens = limit->burst;
    }
    limit->last_us = now_us;
    if (limit->tokens < 1.0) {
        limit->dropped++;
        return FALSE;
    }
    limit->tokens -= 1.0;
    return TRUE;
}
