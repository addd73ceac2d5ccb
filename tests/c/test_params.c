/* test_params.c -- parameter encoding (params.c) and its round trip through
 * the decoders (value.c), without a server. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "internal.h"

static pga_params *fresh(void)
{
    pga_params *p = NULL;
    if (pga_params_new(&p) != PGA_OK) {
        return NULL;
    }
    return p;
}

static pga__params_view view(const pga_params *p)
{
    pga__params_view v;
    pga__params_view_of(p, &v);
    return v;
}

/* The text of the last top-level value, or NULL. */
static const char *last_text(const pga_params *p)
{
    pga__params_view v = view(p);
    return v.count > 0 ? v.values[v.count - 1] : NULL;
}

static unsigned last_type(const pga_params *p)
{
    pga__params_view v = view(p);
    return v.count > 0 ? v.types[v.count - 1] : 999999u;
}

/* Every test frees its pga_params, also when an ASSERT returns early. */
#define WITH_PARAMS(p)                                                      \
    pga_params *p = fresh();                                                \
    ASSERT(p != NULL)

#define CHECK(p, expr_text, expr)                                           \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        if (rc_ != PGA_OK) {                                                \
            test_fail(__FILE__, __LINE__, "%s returned %d (%s)", expr_text, \
                      rc_, pga_params_errmsg(p));                           \
            pga_params_free(p);                                             \
            return;                                                         \
        }                                                                   \
    } while (0)
#define OK(p, expr) CHECK(p, #expr, expr)

#define EXPECT_TEXT(p, type, text)                                          \
    do {                                                                    \
        unsigned t_ = last_type(p);                                         \
        const char *v_ = last_text(p);                                      \
        if (t_ != (type) || v_ == NULL || strcmp(v_, (text)) != 0) {        \
            test_fail(__FILE__, __LINE__, "expected %u \"%s\", got %u \"%s\"", \
                      (unsigned)(type), (text), t_, v_ ? v_ : "(null)");    \
            pga_params_free(p);                                             \
            return;                                                         \
        }                                                                   \
    } while (0)

#define EXPECT_FAIL(p, code, expr)                                          \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        if (rc_ != (code)) {                                                \
            test_fail(__FILE__, __LINE__, "%s: expected %d, got %d", #expr, \
                      (int)(code), rc_);                                    \
            pga_params_free(p);                                             \
            return;                                                         \
        }                                                                   \
    } while (0)

TEST(params_new_is_empty_and_free_accepts_null)
{
    WITH_PARAMS(p);
    pga__params_view v = view(p);
    ASSERT_EQ_INT(0, pga_params_count(p));
    ASSERT_EQ_INT(0, v.count);
    ASSERT_EQ_STR("", pga_params_errmsg(p));
    pga_params_free(p);
    pga_params_free(NULL);
    ASSERT_EQ_INT(0, pga_params_count(NULL));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_params_add_null(NULL));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_params_new(NULL));
}

TEST(params_each_kind_carries_its_type)
{
    WITH_PARAMS(p);
    static const unsigned char u[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    OK(p, pga_params_add_bool(p, 1));
    EXPECT_TEXT(p, 16, "t");
    OK(p, pga_params_add_bool(p, 0));
    EXPECT_TEXT(p, 16, "f");
    OK(p, pga_params_add_float64(p, 1.5));
    EXPECT_TEXT(p, 701, "1.5");
    OK(p, pga_params_add_numeric(p, "-12.50", 6));
    EXPECT_TEXT(p, 1700, "-12.50");
    OK(p, pga_params_add_json(p, "{\"a\": 1}", 8));
    EXPECT_TEXT(p, 3802, "{\"a\": 1}");
    OK(p, pga_params_add_uuid(p, u));
    EXPECT_TEXT(p, 2950, "12345678-9abc-def0-0123-456789abcdef");
    OK(p, pga_params_add_date(p, 2024, 2, 29));
    EXPECT_TEXT(p, 1082, "2024-02-29");
    OK(p, pga_params_add_time(p, 13, 14, 15, 16));
    EXPECT_TEXT(p, 1083, "13:14:15.000016");
    OK(p, pga_params_add_timestamp(p, 2024, 1, 2, 3, 4, 5, 123456));
    EXPECT_TEXT(p, 1114, "2024-01-02 03:04:05.123456");
    OK(p, pga_params_add_timestamptz(p, 2024, 1, 2, 3, 4, 5, 0, 19800));
    EXPECT_TEXT(p, 1184, "2024-01-02 03:04:05.000000+05:30:00");
    OK(p, pga_params_add_interval(p, 3, 4, 5));
    EXPECT_TEXT(p, 1186, "3 days +00:00:04.000005");
    ASSERT_EQ_INT(11, pga_params_count(p));
    pga__params_view v = view(p);
    for (int i = 0; i < v.count; i++) {
        ASSERT_EQ_INT(0, v.formats[i]);
        ASSERT_EQ_INT((int)strlen(v.values[i]), v.lengths[i]);
    }
    pga_params_free(p);
}

/* Text parameters travel with type "unknown" so the server infers it. */
TEST(params_text_is_sent_untyped)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_text(p, "héllo", strlen("héllo")));
    EXPECT_TEXT(p, 0, "héllo");
    OK(p, pga_params_add_text(p, "", 0));
    EXPECT_TEXT(p, 0, "");
    OK(p, pga_params_add_text(p, NULL, 0));
    EXPECT_TEXT(p, 0, "");
    /* Only len bytes are copied: the input need not be NUL-terminated. */
    OK(p, pga_params_add_text(p, "abcdef", 3));
    EXPECT_TEXT(p, 0, "abc");
    pga_params_free(p);
}

TEST(params_null_has_no_value)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_int64(p, 1));
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_add_int64(p, 2));
    pga__params_view v = view(p);
    ASSERT_EQ_INT(3, v.count);
    ASSERT(v.values[1] == NULL);
    ASSERT_EQ_INT(0, v.types[1]);
    ASSERT_EQ_STR("1", v.values[0]);
    ASSERT_EQ_STR("2", v.values[2]);
    pga_params_free(p);
}

/* ^text containing a NUL byte or invalid UTF-8 is refused */
TEST(params_text_with_nul_is_refused)
{
    WITH_PARAMS(p);
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_text(p, "a\0b", 3));
    ASSERT_EQ_STR("PostgreSQL text cannot contain NUL (0x00) bytes", pga_params_errmsg(p));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_text(p, "\0", 1));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_json(p, "\"\0\"", 3));
    ASSERT_EQ_STR("PostgreSQL text cannot contain NUL (0x00) bytes", pga_params_errmsg(p));
    ASSERT_EQ_INT(0, pga_params_count(p));
    pga_params_free(p);
}

TEST(params_text_with_invalid_utf8_is_refused)
{
    static const char *const bad[] = {
        "\xc3",             /* truncated 2-byte sequence */
        "a\xe2\x82",        /* truncated 3-byte sequence */
        "\xf0\x9f\x98",     /* truncated 4-byte sequence */
        "\x80",             /* lone continuation byte */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xf0\x80\x80\xaf", /* overlong, 4 bytes */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xff",
        "\xfe",
        "\xc3\x28",         /* bad continuation */
    };
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pga_params_add_text(p, bad[i], strlen(bad[i]));
        if (rc != PGA_EPARAM) {
            test_fail(__FILE__, __LINE__, "case %zu accepted", i);
            pga_params_free(p);
            return;
        }
        ASSERT_EQ_STR("text is not valid UTF-8", pga_params_errmsg(p));
        EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_json(p, bad[i], strlen(bad[i])));
    }
    ASSERT_EQ_INT(0, pga_params_count(p));
    pga_params_free(p);
}

TEST(params_text_with_valid_utf8_is_kept)
{
    static const char *const good[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                       "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
                                       "\x7f"};
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        OK(p, pga_params_add_text(p, good[i], strlen(good[i])));
        EXPECT_TEXT(p, 0, good[i]);
    }
    pga_params_free(p);
}

TEST(params_text_null_pointer_with_length_is_refused)
{
    WITH_PARAMS(p);
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_text(p, NULL, 2));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_bytea(p, NULL, 2));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_numeric(p, NULL, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_uuid(p, NULL));
    ASSERT_EQ_INT(0, pga_params_count(p));
    pga_params_free(p);
}

/* Integers are typed int2, int4 or int8 by value. */
TEST(params_integers_are_typed_by_value)
{
    static const struct {
        int64_t v;
        unsigned oid;
        const char *text;
    } cases[] = {
        {0, 21, "0"},
        {-32768, 21, "-32768"},
        {32767, 21, "32767"},
        {32768, 23, "32768"},
        {-32769, 23, "-32769"},
        {INT32_MAX, 23, "2147483647"},
        {INT32_MIN, 23, "-2147483648"},
        {(int64_t)INT32_MAX + 1, 20, "2147483648"},
        {INT64_MAX, 20, "9223372036854775807"},
        {INT64_MIN, 20, "-9223372036854775808"},
    };
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        OK(p, pga_params_add_int64(p, cases[i].v));
        EXPECT_TEXT(p, cases[i].oid, cases[i].text);
    }
    pga_params_free(p);
}

/* ^a float that is NaN or infinite is sent as 'NaN' / 'Infinity'. */
TEST(params_float_nan_and_infinity_are_spelled_out)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_float64(p, NAN));
    EXPECT_TEXT(p, 701, "NaN");
    OK(p, pga_params_add_float64(p, INFINITY));
    EXPECT_TEXT(p, 701, "Infinity");
    OK(p, pga_params_add_float64(p, -INFINITY));
    EXPECT_TEXT(p, 701, "-Infinity");
    pga_params_free(p);
}

TEST(params_float_is_the_shortest_exact_repr)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_float64(p, 0.1));
    EXPECT_TEXT(p, 701, "0.1");
    OK(p, pga_params_add_float64(p, 1e300));
    EXPECT_TEXT(p, 701, "1e+300");
    OK(p, pga_params_add_float64(p, -0.0));
    EXPECT_TEXT(p, 701, "-0");
    OK(p, pga_params_add_float64(p, 0.1 + 0.2));
    EXPECT_TEXT(p, 701, "0.30000000000000004");
    pga_params_free(p);
}

/* Encode, then decode as the server's float8out output would be. */
TEST(params_float_round_trips)
{
    static const double cases[] = {1.0 / 3,  -2.5,        DBL_MAX, -DBL_MAX, DBL_MIN,
                                   5e-324,   123456789.0, 1e-7,    0.0,      6.02214076e23};
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pga_value v;
        OK(p, pga_params_add_float64(p, cases[i]));
        const char *t = last_text(p);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_FLOAT, t, strlen(t), &v));
        ASSERT(v.f == cases[i]);
    }
    pga_params_free(p);
}

TEST(params_numeric_accepts_numeric_syntax)
{
    static const char *const good[] = {"0",   "-12.5", "+3",       "1e3",       "1E-3",
                                       ".5",  "5.",    "-.5e+10",  "NaN",       "nan",
                                       "Infinity", "-Infinity", "+inf", "12345678901234567890123"};
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        OK(p, pga_params_add_numeric(p, good[i], strlen(good[i])));
        EXPECT_TEXT(p, 1700, good[i]);
    }
    pga_params_free(p);
}

TEST(params_numeric_refuses_anything_else)
{
    static const char *const bad[] = {"", "abc", "1e", "--1", "1.2.3", " 1", "1 ", "0x10",
                                      "1_000", ".", "e5", "-", "1e+", "NaNa", "-NaN", "1,5"};
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (pga_params_add_numeric(p, bad[i], strlen(bad[i])) != PGA_EPARAM) {
            test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
            pga_params_free(p);
            return;
        }
    }
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_numeric(p, "1\0", 2));
    ASSERT(pga_params_errmsg(p)[0] != '\0');
    ASSERT_EQ_INT(0, pga_params_count(p));
    pga_params_free(p);
}

TEST(params_bytea_travels_raw_in_binary_format)
{
    static const unsigned char bytes[] = {0x00, 0xff, 0x5c, 0x00, 0x41};
    WITH_PARAMS(p);
    OK(p, pga_params_add_bytea(p, bytes, sizeof bytes));
    OK(p, pga_params_add_bytea(p, NULL, 0));
    pga__params_view v = view(p);
    ASSERT_EQ_INT(2, v.count);
    ASSERT_EQ_INT(17, v.types[0]);
    ASSERT_EQ_INT(1, v.formats[0]);
    ASSERT_EQ_INT(5, v.lengths[0]);
    ASSERT(memcmp(v.values[0], bytes, sizeof bytes) == 0);
    ASSERT_EQ_INT(1, v.formats[1]);
    ASSERT_EQ_INT(0, v.lengths[1]);
    ASSERT(v.values[1] != NULL);   /* empty, not NULL */
    pga_params_free(p);
}

TEST(params_date_bc_and_far_years)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_date(p, 1, 1, 1));
    EXPECT_TEXT(p, 1082, "0001-01-01");
    OK(p, pga_params_add_date(p, 0, 12, 31));
    EXPECT_TEXT(p, 1082, "0001-12-31 BC");
    OK(p, pga_params_add_date(p, -43, 3, 15));
    EXPECT_TEXT(p, 1082, "0044-03-15 BC");
    OK(p, pga_params_add_date(p, 0, 2, 29));   /* 1 BC is a leap year */
    EXPECT_TEXT(p, 1082, "0001-02-29 BC");
    OK(p, pga_params_add_date(p, 10000, 1, 1));
    EXPECT_TEXT(p, 1082, "10000-01-01");
    OK(p, pga_params_add_timestamp(p, 0, 1, 1, 0, 0, 0, 0));
    EXPECT_TEXT(p, 1114, "0001-01-01 00:00:00.000000 BC");
    OK(p, pga_params_add_timestamptz(p, 0, 1, 1, 0, 0, 0, 500000, 1172));
    EXPECT_TEXT(p, 1184, "0001-01-01 00:00:00.500000+00:19:32 BC");
    pga_params_free(p);
}

TEST(params_invalid_dates_and_times_are_refused)
{
    WITH_PARAMS(p);
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_date(p, 2023, 2, 29));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_date(p, 1900, 2, 29));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_date(p, 2024, 13, 1));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_date(p, 2024, 0, 1));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_date(p, 2024, 4, 31));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_date(p, 2024, 1, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_time(p, 25, 0, 0, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_time(p, 24, 0, 0, 1));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_time(p, 0, 60, 0, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_time(p, 0, 0, 60, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_time(p, 0, 0, 0, 1000000));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_time(p, -1, 0, 0, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_timestamp(p, 2024, 2, 30, 0, 0, 0, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_timestamptz(p, 2024, 1, 1, 0, 0, 0, 0, 86400));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_timestamptz(p, 2024, 1, 1, 0, 0, 0, 0, -86400));
    ASSERT_EQ_INT(0, pga_params_count(p));
    /* Far years are the server's to judge; the era arithmetic must not overflow. */
    OK(p, pga_params_add_date(p, INT32_MIN, 1, 1));
    EXPECT_TEXT(p, 1082, "2147483649-01-01 BC");
    OK(p, pga_params_add_time(p, 24, 0, 0, 0));
    EXPECT_TEXT(p, 1083, "24:00:00.000000");
    pga_params_free(p);
}

TEST(params_timestamptz_offsets_carry_their_sign_and_seconds)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_timestamptz(p, 2024, 1, 2, 3, 4, 5, 6, 0));
    EXPECT_TEXT(p, 1184, "2024-01-02 03:04:05.000006+00:00:00");
    OK(p, pga_params_add_timestamptz(p, 2024, 1, 2, 3, 4, 5, 6, -12600));
    EXPECT_TEXT(p, 1184, "2024-01-02 03:04:05.000006-03:30:00");
    OK(p, pga_params_add_timestamptz(p, 2024, 1, 2, 3, 4, 5, 6, 86399));
    EXPECT_TEXT(p, 1184, "2024-01-02 03:04:05.000006+23:59:59");
    pga_params_free(p);
}

TEST(params_interval_signs_never_borrow)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_interval(p, 0, 0, 0));
    EXPECT_TEXT(p, 1186, "0 days +00:00:00.000000");
    OK(p, pga_params_add_interval(p, -1, 86399, 999999));
    EXPECT_TEXT(p, 1186, "-1 days +23:59:59.999999");
    OK(p, pga_params_add_interval(p, 0, -1, -500000));
    EXPECT_TEXT(p, 1186, "0 days -00:00:01.500000");
    OK(p, pga_params_add_interval(p, 0, -1, 500000));
    EXPECT_TEXT(p, 1186, "0 days -00:00:00.500000");
    OK(p, pga_params_add_interval(p, 0, 0, -1));
    EXPECT_TEXT(p, 1186, "0 days -00:00:00.000001");
    OK(p, pga_params_add_interval(p, 2, 100 * 3600, 0));
    EXPECT_TEXT(p, 1186, "2 days +100:00:00.000000");
    OK(p, pga_params_add_interval(p, 0, 0, 3000000));
    EXPECT_TEXT(p, 1186, "0 days +00:00:03.000000");
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_interval(p, 0, INT64_MAX, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_interval(p, 0, INT64_MAX / 1000000, INT64_MAX));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_interval(p, 0, -(INT64_MAX / 1000000), INT64_MIN));
    pga_params_free(p);
}

TEST(params_interval_round_trips_through_the_decoder)
{
    static const int64_t cases[][3] = {
        {0, 0, 0},   {-1, 86399, 999999}, {0, -1, -500000}, {5, -7200, 1},
        {-3, 0, -1}, {999999999, 86399, 999999}, {0, 9223372036853, 775807},
    };
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pga_value v;
        OK(p, pga_params_add_interval(p, cases[i][0], cases[i][1], cases[i][2]));
        const char *t = last_text(p);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_INTERVAL, t, strlen(t), &v));
        ASSERT_EQ_INT(cases[i][0], v.days);
        ASSERT_EQ_INT(cases[i][1] * 1000000 + cases[i][2], v.seconds * 1000000 + v.microseconds);
    }
    pga_params_free(p);
}

TEST(params_dates_and_times_round_trip_through_the_decoder)
{
    static const int cases[][8] = {
        /* year, month, day, hour, minute, second, usec, offset */
        {2024, 1, 2, 3, 4, 5, 123456, 0},
        {1, 1, 1, 0, 0, 0, 0, 3600},
        {0, 2, 29, 23, 59, 59, 999999, -1172},
        {-4712, 1, 1, 12, 0, 0, 0, -86399},
        {10000, 12, 31, 0, 0, 0, 1, 19800},
    };
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        pga_value v;
        const char *t;
        OK(p, pga_params_add_date(p, c[0], c[1], c[2]));
        t = last_text(p);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_DATE, t, strlen(t), &v));
        ASSERT(v.year == c[0] && v.month == c[1] && v.day == c[2] && v.infinity == 0);

        OK(p, pga_params_add_time(p, c[3], c[4], c[5], c[6]));
        t = last_text(p);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_TIME, t, strlen(t), &v));
        ASSERT(v.hour == c[3] && v.minute == c[4] && v.second == c[5] && v.microsecond == c[6]);

        OK(p, pga_params_add_timestamp(p, c[0], c[1], c[2], c[3], c[4], c[5], c[6]));
        t = last_text(p);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_TIMESTAMP, t, strlen(t), &v));
        ASSERT(v.year == c[0] && v.month == c[1] && v.day == c[2]);
        ASSERT(v.hour == c[3] && v.minute == c[4] && v.second == c[5] && v.microsecond == c[6]);

        OK(p, pga_params_add_timestamptz(p, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]));
        t = last_text(p);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_TIMESTAMPTZ, t, strlen(t), &v));
        ASSERT(v.year == c[0] && v.month == c[1] && v.day == c[2]);
        ASSERT(v.hour == c[3] && v.minute == c[4] && v.second == c[5] && v.microsecond == c[6]);
        ASSERT_EQ_INT(c[7], v.utc_offset);
    }
    pga_params_free(p);
}

TEST(params_scalars_round_trip_through_the_decoder)
{
    static const unsigned char u[16] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3,
                                        4,    5,    6,    7,    8, 9, 10, 0xff};
    WITH_PARAMS(p);
    pga_value v;
    const char *t;
    OK(p, pga_params_add_uuid(p, u));
    t = last_text(p);
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_UUID, t, strlen(t), &v));
    ASSERT(memcmp(v.uuid, u, 16) == 0);
    OK(p, pga_params_add_bool(p, 42));
    t = last_text(p);
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_BOOL, t, strlen(t), &v));
    ASSERT_EQ_INT(1, v.i);
    OK(p, pga_params_add_int64(p, INT64_MIN));
    t = last_text(p);
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_INT, t, strlen(t), &v));
    ASSERT(v.i == INT64_MIN);
    OK(p, pga_params_add_numeric(p, "-1.5e-3", 7));
    t = last_text(p);
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_NUMERIC, t, strlen(t), &v));
    ASSERT_EQ_INT(7, v.len);
    pga_params_free(p);
}

/* ---- arrays ------------------------------------------------------------- */

TEST(params_array_of_integers_widens_to_the_widest)
{
    WITH_PARAMS(p);
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_int64(p, 1));
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_add_int64(p, 2));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1005, "{1,NULL,2}");
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_int64(p, 1));
    OK(p, pga_params_add_int64(p, 100000));
    OK(p, pga_params_add_int64(p, 5));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1007, "{1,100000,5}");
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_int64(p, 5000000000LL));
    OK(p, pga_params_add_int64(p, 1));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1016, "{5000000000,1}");
    pga_params_free(p);
}

/* ^array elements must share one type (NULLs fit any; integers widen) */
TEST(params_array_elements_must_share_one_type)
{
    WITH_PARAMS(p);
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_int64(p, 1));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_text(p, "x", 1));
    ASSERT_EQ_STR("array elements must all have the same type", pga_params_errmsg(p));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_float64(p, 1.5));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_numeric(p, "1.5", 3));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_bool(p, 1));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_bytea(p, "x", 1));
    /* A refused element leaves the array as it was. */
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_add_int64(p, 2));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1005, "{1,NULL,2}");
    /* The rule spans nesting levels. */
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_text(p, "a", 1));
    OK(p, pga_params_array_end(p));
    OK(p, pga_params_array_begin(p));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_json(p, "1", 1));
    OK(p, pga_params_add_text(p, "b", 1));
    OK(p, pga_params_array_end(p));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1009, "{{a},{b}}");
    pga_params_free(p);
}

TEST(params_array_oids_follow_the_element_type)
{
    static const unsigned char u[16] = {0};
    static const struct {
        int which;
        unsigned oid;
    } cases[] = {
        {0, 1000}, {1, 1022}, {2, 1231}, {3, 1009}, {4, 1001}, {5, 3807}, {6, 2951},
        {7, 1182}, {8, 1183}, {9, 1115}, {10, 1185}, {11, 1187},
    };
    WITH_PARAMS(p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        OK(p, pga_params_array_begin(p));
        for (int k = 0; k < 2; k++) {
            int rc = PGA_OK;
            switch (cases[i].which) {
            case 0: rc = pga_params_add_bool(p, k); break;
            case 1: rc = pga_params_add_float64(p, k); break;
            case 2: rc = pga_params_add_numeric(p, "1", 1); break;
            case 3: rc = pga_params_add_text(p, "t", 1); break;
            case 4: rc = pga_params_add_bytea(p, "b", 1); break;
            case 5: rc = pga_params_add_json(p, "{}", 2); break;
            case 6: rc = pga_params_add_uuid(p, u); break;
            case 7: rc = pga_params_add_date(p, 2000, 1, 1); break;
            case 8: rc = pga_params_add_time(p, 1, 2, 3, 4); break;
            case 9: rc = pga_params_add_timestamp(p, 2000, 1, 1, 1, 2, 3, 4); break;
            case 10: rc = pga_params_add_timestamptz(p, 2000, 1, 1, 1, 2, 3, 4, 0); break;
            default: rc = pga_params_add_interval(p, 1, 2, 3); break;
            }
            OK(p, rc);
        }
        OK(p, pga_params_array_end(p));
        ASSERT_EQ_INT(cases[i].oid, last_type(p));
    }
    pga_params_free(p);
}

/* ^An empty array is sent untyped and takes its type from context. */
TEST(params_empty_array_is_untyped)
{
    WITH_PARAMS(p);
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 0, "{}");
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 0, "{NULL,NULL}");
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_array_end(p));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 0, "{{}}");
    ASSERT_EQ_INT(3, pga_params_count(p));
    pga_params_free(p);
}

TEST(params_array_elements_are_quoted_when_needed)
{
    static const char *const elems[] = {"plain", "a b", "", "NULL", "null", "a\"b", "a\\b",
                                        "{", "}", "a,b", "tab\there", "\xc3\xa9t\xc3\xa9"};
    WITH_PARAMS(p);
    OK(p, pga_params_array_begin(p));
    for (size_t i = 0; i < sizeof elems / sizeof elems[0]; i++) {
        OK(p, pga_params_add_text(p, elems[i], strlen(elems[i])));
    }
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1009,
                "{plain,\"a b\",\"\",\"NULL\",\"null\",\"a\\\"b\",\"a\\\\b\",\"{\",\"}\","
                "\"a,b\",\"tab\there\",\xc3\xa9t\xc3\xa9,NULL}");
    pga_params_free(p);
}

TEST(params_bytea_in_arrays_is_escaped_hex_text)
{
    static const unsigned char b[] = {0x00, 0xff, 0x0a};
    WITH_PARAMS(p);
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_bytea(p, b, sizeof b));
    OK(p, pga_params_add_bytea(p, NULL, 0));
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1001, "{\"\\\\x00ff0a\",\"\\\\x\",NULL}");
    pga__params_view v = view(p);
    ASSERT_EQ_INT(0, v.formats[0]);
    pga_params_free(p);
}

/* Every element kind goes through the array reader and the decoders and
 * comes back as it went in. */
TEST(params_array_round_trips_through_the_reader)
{
    static const char *const texts[] = {"a b", "", "NULL", "x\"y\\z", " lead", "trail ",
                                        "{,}", "\xe2\x82\xac"};
    static const unsigned char b[] = {0x00, 0x5c, 0x22, 0xff};
    WITH_PARAMS(p);
    OK(p, pga_params_array_begin(p));
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        OK(p, pga_params_array_begin(p));
        OK(p, pga_params_add_text(p, texts[i], strlen(texts[i])));
        OK(p, pga_params_add_null(p));
        OK(p, pga_params_array_end(p));
    }
    OK(p, pga_params_array_end(p));
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_bytea(p, b, sizeof b));
    OK(p, pga_params_array_end(p));

    pga__params_view v = view(p);
    ASSERT_EQ_INT(2, v.count);
    pga_array_reader r;
    const char *t;
    size_t n;
    pga_array_reader_init(&r, v.values[0], (size_t)v.lengths[0]);
    int ok = pga_array_next(&r, &t, &n) == PGA_ARRAY_BEGIN;
    for (size_t i = 0; ok && i < sizeof texts / sizeof texts[0]; i++) {
        ok = pga_array_next(&r, &t, &n) == PGA_ARRAY_BEGIN &&
             pga_array_next(&r, &t, &n) == PGA_ARRAY_ELEM && n == strlen(texts[i]) &&
             memcmp(t, texts[i], n) == 0 && pga_array_next(&r, &t, &n) == PGA_ARRAY_NULL &&
             pga_array_next(&r, &t, &n) == PGA_ARRAY_END;
        if (!ok) {
            test_fail(__FILE__, __LINE__, "element %zu differs", i);
        }
    }
    ok = ok && pga_array_next(&r, &t, &n) == PGA_ARRAY_END && pga_array_next(&r, &t, &n) == 0;
    pga_array_reader_done(&r);
    ASSERT(ok);

    pga_array_reader_init(&r, v.values[1], (size_t)v.lengths[1]);
    unsigned char out[8];
    pga_value val;
    ok = pga_array_next(&r, &t, &n) == PGA_ARRAY_BEGIN &&
         pga_array_next(&r, &t, &n) == PGA_ARRAY_ELEM &&
         pga_value_decode(PGA_T_BYTEA, t, n, &val) == PGA_OK && val.len == sizeof b &&
         pga_bytea_decode(t, n, out) == (int64_t)sizeof b && memcmp(out, b, sizeof b) == 0 &&
         pga_array_next(&r, &t, &n) == PGA_ARRAY_END && pga_array_next(&r, &t, &n) == 0;
    pga_array_reader_done(&r);
    ASSERT(ok);
    pga_params_free(p);
}

TEST(params_array_end_without_begin_is_refused)
{
    WITH_PARAMS(p);
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_array_end(p));
    ASSERT(pga_params_errmsg(p)[0] != '\0');
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_array_end(p));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_array_end(p));
    ASSERT_EQ_INT(1, pga_params_count(p));
    pga_params_free(p);
}

/* A value added while an array is open is an element of it, and the array
 * counts (and shows in the view) only once it is closed. */
TEST(params_open_array_is_not_in_the_view)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_int64(p, 7));
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_int64(p, 1));
    ASSERT_EQ_INT(1, pga_params_count(p));
    ASSERT_EQ_INT(1, view(p).count);
    OK(p, pga_params_array_end(p));
    ASSERT_EQ_INT(2, pga_params_count(p));
    EXPECT_TEXT(p, 1005, "{1}");
    pga_params_free(p);
}

TEST(params_deeply_nested_arrays)
{
    enum { DEPTH = 1000 };
    WITH_PARAMS(p);
    for (int i = 0; i < DEPTH; i++) {
        OK(p, pga_params_array_begin(p));
    }
    OK(p, pga_params_add_int64(p, 3));
    for (int i = 0; i < DEPTH; i++) {
        OK(p, pga_params_array_end(p));
    }
    pga__params_view v = view(p);
    ASSERT_EQ_INT(1, v.count);
    ASSERT_EQ_INT(2 * DEPTH + 1, v.lengths[0]);
    ASSERT(v.values[0][0] == '{' && v.values[0][DEPTH] == '3' && v.values[0][2 * DEPTH] == '}');
    ASSERT_EQ_INT(1005, v.types[0]);
    pga_params_free(p);
}

/* ---- reuse and size ----------------------------------------------------- */

TEST(params_clear_forgets_values_and_keeps_memory)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_text(p, "first", 5));
    OK(p, pga_params_array_begin(p));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_text(p, "\xff", 1));
    const char *before = view(p).values[0];
    pga_params_clear(p);
    ASSERT_EQ_INT(0, pga_params_count(p));
    ASSERT_EQ_INT(0, view(p).count);
    ASSERT_EQ_STR("", pga_params_errmsg(p));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_array_end(p));   /* the open array is gone */
    OK(p, pga_params_add_text(p, "again", 5));
    ASSERT(view(p).values[0] == before);
    EXPECT_TEXT(p, 0, "again");
    pga_params_clear(NULL);
    pga_params_free(p);
}

TEST(params_many_values_survive_arena_growth)
{
    enum { N = 20000 };
    WITH_PARAMS(p);
    for (int round = 0; round < 2; round++) {
        pga_params_clear(p);
        for (int i = 0; i < N; i++) {
            if (i % 3 == 0) {
                OK(p, pga_params_add_null(p));
            }
            else {
                OK(p, pga_params_add_int64(p, i));
            }
        }
        pga__params_view v = view(p);
        ASSERT_EQ_INT(N, v.count);
        for (int i = 0; i < N; i++) {
            if (i % 3 == 0) {
                ASSERT(v.values[i] == NULL);
            }
            else {
                char want[16];
                snprintf(want, sizeof want, "%d", i);
                ASSERT_EQ_STR(want, v.values[i]);
            }
        }
    }
    pga_params_free(p);
}

TEST(params_huge_text_is_copied_whole)
{
    size_t n = 4u << 20;
    char *big = malloc(n);
    ASSERT(big != NULL);
    memset(big, 'x', n);
    big[n / 2] = '\xc3';
    big[n / 2 + 1] = '\xa9';
    pga_params *p = fresh();
    if (p == NULL) {
        free(big);
    }
    ASSERT(p != NULL);
    int rc = pga_params_add_text(p, big, n);
    pga__params_view v = view(p);
    int same = rc == PGA_OK && v.count == 1 && v.lengths[0] == (int)n &&
               memcmp(v.values[0], big, n) == 0 && v.values[0][n] == '\0';
    big[n - 1] = '\xe2';   /* now truncated UTF-8 at the very end */
    int refused = pga_params_add_text(p, big, n) == PGA_EPARAM;
    free(big);
    pga_params_free(p);
    ASSERT(same);
    ASSERT(refused);
}

TEST(params_values_are_copied_on_add)
{
    char buf[8] = "abc";
    WITH_PARAMS(p);
    OK(p, pga_params_add_text(p, buf, 3));
    buf[0] = 'z';
    EXPECT_TEXT(p, 0, "abc");
    pga_params_free(p);
}

TEST(params_timetz_carries_its_offset)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_timetz(p, 12, 34, 56, 500000, 9000));
    EXPECT_TEXT(p, 1266, "12:34:56.500000+02:30:00");
    OK(p, pga_params_add_timetz(p, 1, 2, 3, 0, -(3 * 3600 + 4 * 60 + 5)));
    EXPECT_TEXT(p, 1266, "01:02:03.000000-03:04:05");
    ASSERT_EQ_INT(PGA_EPARAM, pga_params_add_timetz(p, 1, 0, 0, 0, 86400));
    ASSERT_EQ_INT(PGA_EPARAM, pga_params_add_timetz(p, 25, 0, 0, 0, 0));
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_timetz(p, 0, 0, 0, 0, 0));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1270, "{00:00:00.000000+00:00:00}");
    pga_params_free(p);
}

/* "^other kinds are refused with PGA_EPARAM" */
TEST(params_infinity_for_dates_and_timestamps_only)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_infinity(p, PGA_T_DATE, 1));
    EXPECT_TEXT(p, 1082, "infinity");
    OK(p, pga_params_add_infinity(p, PGA_T_TIMESTAMP, -1));
    EXPECT_TEXT(p, 1114, "-infinity");
    OK(p, pga_params_add_infinity(p, PGA_T_TIMESTAMPTZ, 1));
    EXPECT_TEXT(p, 1184, "infinity");
    ASSERT_EQ_INT(PGA_EPARAM, pga_params_add_infinity(p, PGA_T_TIME, 1));
    ASSERT_EQ_INT(PGA_EPARAM, pga_params_add_infinity(p, PGA_T_INTERVAL, 1));
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_infinity(p, PGA_T_DATE, -1));
    OK(p, pga_params_add_date(p, 2024, 2, 29));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1182, "{-infinity,2024-02-29}");
    pga_params_free(p);
}

/* "^an interval decoded by pga_value_decode() and sent back with its
 * months, days less the folded months, and time is the same interval" */
TEST(params_interval_months_round_trip)
{
    static const char *const texts[] = {
        "1 mon", "1 year 2 mons 3 days 04:05:06.7", "-1 mons +1 day", "-3 years",
        "11 mons 40 days", "1 day -00:00:01", "-00:00:01", "178000000 years",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        pga_value a, b;
        WITH_PARAMS(p);
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_INTERVAL, texts[i], strlen(texts[i]), &a));
        OK(p, pga_params_add_interval_months(p, a.months, a.days - 30 * a.months,
                                             a.seconds * 1000000 + a.microseconds));
        const char *sent = last_text(p);
        ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_INTERVAL, sent, strlen(sent), &b));
        ASSERT_EQ_INT(a.months, b.months);
        ASSERT_EQ_INT(a.days, b.days);
        ASSERT_EQ_INT(a.seconds, b.seconds);
        ASSERT_EQ_INT(a.microseconds, b.microseconds);
        pga_params_free(p);
    }
}
/* ^Sent untyped at top level and inside arrays; ^an array whose elements
 * are all untyped (or NULL) is sent untyped, and one with typed elements
 * takes their type. */
TEST(params_untyped_values_take_their_type_from_context)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_untyped(p, "5", 1));
    EXPECT_TEXT(p, 0, "5");
    OK(p, pga_params_add_untyped(p, "5000000000", 10));
    EXPECT_TEXT(p, 0, "5000000000");
    OK(p, pga_params_add_untyped(p, "2.5", 3));
    EXPECT_TEXT(p, 0, "2.5");
    /* Integers and fractions share an array: the server reads them all as
     * the type the context asks for.  Untyped elements are always quoted. */
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_untyped(p, "1", 1));
    OK(p, pga_params_add_null(p));
    OK(p, pga_params_add_untyped(p, "2.5", 3));
    OK(p, pga_params_add_untyped(p, "a b", 3));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 0, "{\"1\",NULL,\"2.5\",\"a b\"}");
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_untyped(p, "t", 1));
    OK(p, pga_params_add_bool(p, 0));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1000, "{\"t\",f}");
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_text(p, "x", 1));
    OK(p, pga_params_add_untyped(p, "1", 1));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 1009, "{x,\"1\"}");
    /* The text checks of pga_params_add_text() apply. */
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_untyped(p, "a\0b", 3));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_untyped(p, "\xff", 1));
    EXPECT_FAIL(p, PGA_EMISUSE, pga_params_add_untyped(NULL, "1", 1));
    pga_params_free(p);
}

TEST(params_local_timestamp_is_untyped_with_its_offset)
{
    WITH_PARAMS(p);
    OK(p, pga_params_add_local_timestamp(p, 2024, 3, 10, 7, 0, 0, 123000, 19800));
    EXPECT_TEXT(p, 0, "2024-03-10T07:00:00.123+05:30");
    OK(p, pga_params_add_local_timestamp(p, 2024, 3, 10, 7, 0, 0, 123456, 0));
    EXPECT_TEXT(p, 0, "2024-03-10T07:00:00.123456+00:00");
    OK(p, pga_params_add_local_timestamp(p, -43, 3, 15, 12, 0, 0, 0, -17762));
    EXPECT_TEXT(p, 0, "0044-03-15T12:00:00.000-04:56:02 BC");
    OK(p, pga_params_array_begin(p));
    OK(p, pga_params_add_local_timestamp(p, 2000, 1, 1, 0, 0, 0, 0, 0));
    OK(p, pga_params_array_end(p));
    EXPECT_TEXT(p, 0, "{\"2000-01-01T00:00:00.000+00:00\"}");
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_local_timestamp(p, 2023, 2, 29, 0, 0, 0, 0, 0));
    EXPECT_FAIL(p, PGA_EPARAM, pga_params_add_local_timestamp(p, 2023, 1, 1, 0, 0, 0, 0, 86400));
    pga_params_free(p);
}
