/* retry.c -- which failures a whole-transaction retry may follow, and the
 * backoff between attempts.  Re-running the user's code is the binding's. */
#include <string.h>

#include "internal.h"

int pga_retryable(int code, const char *sqlstate)
{
    /* An unknown COMMIT may have succeeded: running the block again could
     * apply it twice.  Any other error is not made better by repetition. */
    if ((code != PGA_ESERVER && code != PGA_EBROKEN) || sqlstate == NULL) {
        return 0;
    }
    return strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0;
}

int pga_retry_delay_ms(int attempt, int base_ms, int cap_ms, uint32_t random)
{
    if (attempt < 1 || base_ms <= 0 || cap_ms <= 0) {
        return 0;
    }
    /* Full jitter spreads competing retries apart; without it, two
     * transactions that deadlocked would collide again in lockstep. */
    long long ceiling = base_ms;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++) {
        ceiling *= 2;
    }
    if (ceiling > cap_ms) {
        ceiling = cap_ms;
    }
    return (int)((unsigned long long)random % (unsigned long long)(ceiling + 1));
}
