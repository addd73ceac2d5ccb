/* test_retry.c -- the retry verdict and the backoff, without a server. */
#include "harness.h"

TEST(retry_only_serialization_failures_and_deadlocks)
{
    ASSERT_EQ_INT(1, pga_retryable(PGA_ESERVER, "40001"));
    ASSERT_EQ_INT(1, pga_retryable(PGA_ESERVER, "40P01"));
    ASSERT_EQ_INT(1, pga_retryable(PGA_EBROKEN, "40001"));
    ASSERT_EQ_INT(0, pga_retryable(PGA_ESERVER, "23505"));
    ASSERT_EQ_INT(0, pga_retryable(PGA_ESERVER, "40002"));
    ASSERT_EQ_INT(0, pga_retryable(PGA_ESERVER, NULL));
    ASSERT_EQ_INT(0, pga_retryable(PGA_ECONN, "40001"));
}

TEST(retry_never_after_unknown_commit)
{
    ASSERT_EQ_INT(0, pga_retryable(PGA_ECOMMITUNKNOWN, "40001"));
    ASSERT_EQ_INT(0, pga_retryable(PGA_ECOMMITUNKNOWN, NULL));
}

TEST(retry_delay_is_jittered_exponential_and_capped)
{
    ASSERT_EQ_INT(0, pga_retry_delay_ms(1, 10, 1000, 0));
    ASSERT_EQ_INT(10, pga_retry_delay_ms(1, 10, 1000, 10));      /* ceiling 10 */
    ASSERT_EQ_INT(0, pga_retry_delay_ms(1, 10, 1000, 11));       /* 11 % 11 */
    ASSERT_EQ_INT(40, pga_retry_delay_ms(3, 10, 1000, 40));      /* ceiling 40 */
    ASSERT_EQ_INT(1000, pga_retry_delay_ms(30, 10, 1000, 1000)); /* capped */
    for (unsigned r = 0; r < 5000; r += 7) {
        int d = pga_retry_delay_ms(4, 10, 1000, r * 2654435761u);
        ASSERT(d >= 0 && d <= 80);
    }
    ASSERT_EQ_INT(0, pga_retry_delay_ms(0, 10, 1000, 5));
}
