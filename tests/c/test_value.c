/* test_value.c -- decoding PostgreSQL's text output (value.c): scalars,
 * bytea, and the array reader, without a server. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

/* The decoders take (text, len) and must never read past len: every input
 * goes through an exact-size heap copy, so ASan and valgrind see overreads. */
static int decode(int kind, const char *text, pga_value *out)
{
    size_t n = strlen(text);
    char *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL) {
        return PGA_ENOMEM;
    }
    memcpy(copy, text, n);
    int rc = pga_value_decode(kind, copy, n, out);
    /* Borrowed text must not outlive the copy. */
    out->s = NULL;
    free(copy);
    return rc;
}

/* Text with junk appended is refused, and so is every proper prefix when
 * strict (some texts have valid prefixes: "2024-01-02" of "... BC"); either
 * way no prefix may be read past its end. */
static int prefixes_and_suffixes_refused(int kind, const char *text, int strict)
{
    size_t n = strlen(text);
    pga_value v;
    for (size_t k = 0; k < n; k++) {
        char *copy = malloc(k > 0 ? k : 1);
        if (copy == NULL) {
            return 0;
        }
        memcpy(copy, text, k);
        int rc = pga_value_decode(kind, copy, k, &v);
        free(copy);
        if (rc != PGA_EDECODE && strict) {
            return 0;
        }
    }
    char junk[256];
    snprintf(junk, sizeof junk, "%sx", text);
    return decode(kind, junk, &v) == PGA_EDECODE;
}

TEST(value_type_kind_of_scalars)
{
    static const struct {
        unsigned oid;
        int kind;
    } cases[] = {
        {16, PGA_T_BOOL},       {20, PGA_T_INT},         {21, PGA_T_INT},
        {23, PGA_T_INT},        {26, PGA_T_INT},         {700, PGA_T_FLOAT},
        {701, PGA_T_FLOAT},     {1700, PGA_T_NUMERIC},   {17, PGA_T_BYTEA},
        {1082, PGA_T_DATE},     {1083, PGA_T_TIME},      {1266, PGA_T_TIMETZ},
        {1114, PGA_T_TIMESTAMP}, {1184, PGA_T_TIMESTAMPTZ}, {1186, PGA_T_INTERVAL},
        {2950, PGA_T_UUID},     {114, PGA_T_JSON},       {3802, PGA_T_JSON},
        {25, PGA_T_TEXT},       {1043, PGA_T_TEXT},      {1042, PGA_T_TEXT},
        {19, PGA_T_TEXT},       {0, PGA_T_TEXT},         {705, PGA_T_TEXT},
        {600, PGA_T_TEXT},      {4294967295u, PGA_T_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned elem = 12345;
        ASSERT_EQ_INT(cases[i].kind, pga_type_kind(cases[i].oid, &elem));
        ASSERT_EQ_INT(0, elem);
        ASSERT_EQ_INT(cases[i].kind, pga_type_kind(cases[i].oid, NULL));
    }
}

TEST(value_type_kind_of_arrays_gives_the_element)
{
    static const unsigned pairs[][2] = {
        {1000, 16},   {1005, 21},   {1007, 23},   {1016, 20},   {1021, 700},
        {1022, 701},  {1231, 1700}, {1009, 25},   {1015, 1043}, {1014, 1042},
        {1001, 17},   {1182, 1082}, {1183, 1083}, {1115, 1114}, {1185, 1184},
        {1187, 1186}, {2951, 2950}, {199, 114},   {3807, 3802}, {1028, 26},
        {1003, 19},   {1002, 18},   {1270, 1266},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        unsigned elem = 0;
        ASSERT_EQ_INT(PGA_T_ARRAY, pga_type_kind(pairs[i][0], &elem));
        ASSERT_EQ_INT(pairs[i][1], elem);
        ASSERT_EQ_INT(PGA_T_ARRAY, pga_type_kind(pairs[i][0], NULL));
    }
}

TEST(value_bool_is_t_or_f)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_BOOL, "t", &v));
    ASSERT_EQ_INT(1, v.i);
    ASSERT_EQ_INT(PGA_T_BOOL, v.kind);
    ASSERT_EQ_INT(0, v.is_null);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_BOOL, "f", &v));
    ASSERT_EQ_INT(0, v.i);
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_BOOL, "", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_BOOL, "true", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_BOOL, "x", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_BOOL, "tt", &v));
}

TEST(value_int_checks_range_and_garbage)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INT, "0", &v));
    ASSERT_EQ_INT(0, v.i);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INT, "-42", &v));
    ASSERT_EQ_INT(-42, v.i);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INT, "9223372036854775807", &v));
    ASSERT(v.i == INT64_MAX);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INT, "-9223372036854775808", &v));
    ASSERT(v.i == INT64_MIN);
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "9223372036854775808", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "-9223372036854775809", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "99999999999999999999999", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "-", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "12a", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, " 12", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "12 ", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_INT, "1.0", &v));
}

TEST(value_int_respects_len_without_a_nul)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_INT, "123456", 3, &v));
    ASSERT_EQ_INT(123, v.i);
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_TEXT, NULL, 0, &v));
    ASSERT_EQ_INT(0, v.len);
    ASSERT_EQ_INT(PGA_EDECODE, pga_value_decode(PGA_T_TEXT, NULL, 3, &v));
    ASSERT_EQ_INT(PGA_EDECODE, pga_value_decode(PGA_T_INT, "1", 1, NULL));
}

TEST(value_float_reads_nan_and_infinities)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_FLOAT, "NaN", &v));
    ASSERT(isnan(v.f));
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_FLOAT, "Infinity", &v));
    ASSERT(isinf(v.f) && v.f > 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_FLOAT, "-Infinity", &v));
    ASSERT(isinf(v.f) && v.f < 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_FLOAT, "1.5", &v));
    ASSERT(v.f == 1.5);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_FLOAT, "1e+300", &v));
    ASSERT(v.f == 1e300);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_FLOAT, "-0", &v));
    ASSERT(v.f == 0 && signbit(v.f));
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_FLOAT, "0.30000000000000004", &v));
    ASSERT(v.f == 0.1 + 0.2);
}

TEST(value_float_refuses_garbage)
{
    static const char *const bad[] = {"", " 1", "1 ", "1.5x", "0x10", "inf", "nan", "1e",
                                      "--1", "abc", "Infinityx", "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pga_value v;
        if (decode(PGA_T_FLOAT, bad[i], &v) != PGA_EDECODE) {
            test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
            return;
        }
    }
    char big[200];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pga_value v;
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_FLOAT, big, &v));
}

TEST(value_text_numeric_and_json_are_borrowed)
{
    const char *text = "{\"a\": [1, 2]}";
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_JSON, text, strlen(text), &v));
    ASSERT(v.s == text && v.len == strlen(text));
    ASSERT_EQ_INT(PGA_OK, pga_value_decode(PGA_T_TEXT, "abc", 2, &v));
    ASSERT(v.len == 2);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_NUMERIC, "-12.50", &v));
    ASSERT_EQ_INT(6, v.len);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_NUMERIC, "NaN", &v));
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_NUMERIC, "-Infinity", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_NUMERIC, "", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_NUMERIC, "12x", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_NUMERIC, "-", &v));
}

TEST(value_unknown_kind_is_refused)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_EDECODE, decode(-1, "1", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(999, "1", &v));
}

TEST(value_date_iso_with_bc_and_infinity)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_DATE, "2024-01-02", &v));
    ASSERT(v.year == 2024 && v.month == 1 && v.day == 2 && v.infinity == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_DATE, "0001-01-01 BC", &v));
    ASSERT_EQ_INT(0, v.year);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_DATE, "0044-03-15 BC", &v));
    ASSERT_EQ_INT(-43, v.year);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_DATE, "0001-02-29 BC", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_DATE, "0002-02-29 BC", &v));
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_DATE, "5874897-12-31", &v));
    ASSERT_EQ_INT(5874897, v.year);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_DATE, "infinity", &v));
    ASSERT_EQ_INT(1, v.infinity);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_DATE, "-infinity", &v));
    ASSERT_EQ_INT(-1, v.infinity);
}

TEST(value_date_refuses_malformed_text)
{
    static const char *const bad[] = {"",           "2023-02-29", "2024-13-01", "2024-00-10",
                                      "2024-04-31", "2024-1-02",  "24-01-02",   "2024/01/02",
                                      "0000-01-01", "2024-01-02 AD", "Infinity", "infinity "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pga_value v;
        if (decode(PGA_T_DATE, bad[i], &v) != PGA_EDECODE) {
            test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
            return;
        }
    }
    ASSERT(prefixes_and_suffixes_refused(PGA_T_DATE, "2024-01-02", 1));
    ASSERT(prefixes_and_suffixes_refused(PGA_T_DATE, "0001-01-01 BC", 0));
}

TEST(value_time_with_and_without_fraction)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIME, "04:05:06", &v));
    ASSERT(v.hour == 4 && v.minute == 5 && v.second == 6 && v.microsecond == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIME, "04:05:06.5", &v));
    ASSERT_EQ_INT(500000, v.microsecond);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIME, "23:59:59.999999", &v));
    ASSERT_EQ_INT(999999, v.microsecond);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIME, "24:00:00", &v));
    ASSERT_EQ_INT(24, v.hour);
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIME, "24:00:01", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIME, "04:05:06.1234567", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIME, "04:60:00", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIME, "04:05:06.", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIME, "infinity", &v));
    ASSERT(prefixes_and_suffixes_refused(PGA_T_TIME, "04:05:06", 1));
}

TEST(value_timetz_has_its_offset)
{
    pga_value v;
    memset(&v, 0, sizeof v);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMETZ, "12:34:56.5+02:30", &v));
    ASSERT_EQ_INT(12, v.hour);
    ASSERT_EQ_INT(34, v.minute);
    ASSERT_EQ_INT(56, v.second);
    ASSERT_EQ_INT(500000, v.microsecond);
    ASSERT_EQ_INT(9000, v.utc_offset);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMETZ, "01:02:03-03:04:05", &v));
    ASSERT_EQ_INT(-(3 * 3600 + 4 * 60 + 5), v.utc_offset);
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMETZ, "12:00:00", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMETZ, "infinity", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMETZ, "12:00:00+02 BC", &v));
}

TEST(value_timestamp_and_timestamptz)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMP, "2024-01-02 03:04:05.123456", &v));
    ASSERT(v.year == 2024 && v.month == 1 && v.day == 2 && v.hour == 3 && v.minute == 4 &&
           v.second == 5 && v.microsecond == 123456);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMP, "0001-01-01 00:00:00 BC", &v));
    ASSERT_EQ_INT(0, v.year);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMP, "-infinity", &v));
    ASSERT_EQ_INT(-1, v.infinity);

    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMPTZ, "2024-01-02 03:04:05.123456+00", &v));
    ASSERT(v.hour == 3 && v.microsecond == 123456 && v.utc_offset == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMPTZ, "2024-01-02 08:34:05+05:30", &v));
    ASSERT_EQ_INT(19800, v.utc_offset);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMPTZ, "1900-01-01 00:19:32+00:19:32", &v));
    ASSERT_EQ_INT(1172, v.utc_offset);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMPTZ, "2024-01-02 03:04:05-03:30", &v));
    ASSERT_EQ_INT(-12600, v.utc_offset);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMPTZ, "0001-01-01 00:19:32.5+00:19:32 BC", &v));
    ASSERT(v.year == 0 && v.microsecond == 500000 && v.utc_offset == 1172);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_TIMESTAMPTZ, "infinity", &v));
    ASSERT_EQ_INT(1, v.infinity);

    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMESTAMPTZ, "2024-01-02 03:04:05", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMESTAMP, "2024-01-02 03:04:05+00", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMESTAMP, "2024-01-02T03:04:05", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMESTAMPTZ, "2024-01-02 03:04:05+5", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_TIMESTAMPTZ, "2024-01-02 03:04:05+05:60", &v));
    ASSERT(prefixes_and_suffixes_refused(PGA_T_TIMESTAMP, "2024-01-02 03:04:05", 1));
    ASSERT(prefixes_and_suffixes_refused(PGA_T_TIMESTAMPTZ, "2024-01-02 03:04:05+05", 1));
    ASSERT(prefixes_and_suffixes_refused(PGA_T_TIMESTAMPTZ, "2024-01-02 03:04:05.5+05:30:15 BC",
                                         0));
}

TEST(value_interval_postgres_style)
{
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "1 year 2 mons 3 days 04:05:06.789", &v));
    ASSERT_EQ_INT(14, v.months);
    ASSERT_EQ_INT(3 + 14 * 30, v.days);
    ASSERT_EQ_INT(4 * 3600 + 5 * 60 + 6, v.seconds);
    ASSERT_EQ_INT(789000, v.microseconds);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "-1 days +23:59:59", &v));
    ASSERT(v.days == -1 && v.seconds == 86399 && v.microseconds == 0 && v.months == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "00:00:00.5", &v));
    ASSERT(v.days == 0 && v.seconds == 0 && v.microseconds == 500000);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "3 days", &v));
    ASSERT(v.days == 3 && v.seconds == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "1 day", &v));
    ASSERT_EQ_INT(1, v.days);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "-00:00:01", &v));
    ASSERT(v.seconds == -1 && v.microseconds == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "-00:00:01.5", &v));
    ASSERT(v.seconds == -1 && v.microseconds == -500000);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "-2 years -3 mons", &v));
    ASSERT(v.months == -27 && v.days == -810);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "1 mon", &v));
    ASSERT(v.months == 1 && v.days == 30);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "00:00:00", &v));
    ASSERT(v.days == 0 && v.seconds == 0 && v.microseconds == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "1 day 2562047788:00:54.775807", &v));
    ASSERT(v.days == 1 && v.seconds == 9223372036854 && v.microseconds == 775807);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_INTERVAL, "-178956970 years -8 mons -2147483648 days", &v));
    ASSERT(v.months == -2147483648LL);
}

TEST(value_interval_refuses_malformed_text)
{
    static const char *const bad[] = {
        "",        "1",         "1 fortnight", "1 day ",       " 1 day",  "1 day  2 mons",
        "00:00",   "00:00:60",  "1 day 00:00:00 00:00:00",     "1 days2", "1:2:3",
        "@ 1 fortnight", "1 day ago", "00:00:00.1234567", "infinity", "99999999999999999999 days",
        "9999999999999999:00:00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pga_value v;
        if (decode(PGA_T_INTERVAL, bad[i], &v) != PGA_EDECODE) {
            test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
            return;
        }
    }
    ASSERT(prefixes_and_suffixes_refused(PGA_T_INTERVAL, "1 year 2 mons 3 days 04:05:06.789", 0));
}

TEST(value_uuid_parses_to_sixteen_bytes)
{
    static const unsigned char want[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                           0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    pga_value v;
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_UUID, "12345678-9abc-def0-0123-456789abcdef", &v));
    ASSERT(memcmp(v.uuid, want, 16) == 0);
    ASSERT_EQ_INT(PGA_OK, decode(PGA_T_UUID, "12345678-9ABC-DEF0-0123-456789ABCDEF", &v));
    ASSERT(memcmp(v.uuid, want, 16) == 0);
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_UUID, "12345678-9abc-def0-0123-456789abcde", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_UUID, "12345678-9abc-def0-0123-456789abcdeg", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_UUID, "123456789abcdef00123456789abcdef", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_UUID, "12345678-9abc-def0-0123_456789abcdef", &v));
    ASSERT_EQ_INT(PGA_EDECODE, decode(PGA_T_UUID, "", &v));
}

/* ---- bytea -------------------------------------------------------------- */

static int64_t bytea(const char *text, unsigned char *out)
{
    size_t n = strlen(text);
    char *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL) {
        return PGA_ENOMEM;
    }
    memcpy(copy, text, n);
    pga_value v;
    int64_t rc = pga_value_decode(PGA_T_BYTEA, copy, n, &v);
    if (rc == PGA_OK) {
        rc = pga_bytea_decode(copy, n, out);
        if (rc >= 0 && (size_t)rc != v.len) {
            rc = -1000;   /* the size promised differs from what was written */
        }
    }
    else if (pga_bytea_decode(copy, n, out) != PGA_EDECODE) {
        rc = -1001;       /* the two disagree on validity */
    }
    free(copy);
    return rc;
}

TEST(value_bytea_hex_format)
{
    unsigned char out[16];
    ASSERT_EQ_INT(2, bytea("\\x0a0b", out));
    ASSERT(out[0] == 0x0a && out[1] == 0x0b);
    ASSERT_EQ_INT(3, bytea("\\xDEadBE", out));
    ASSERT(out[0] == 0xde && out[1] == 0xad && out[2] == 0xbe);
    ASSERT_EQ_INT(0, bytea("\\x", out));
    ASSERT_EQ_INT(2, bytea("\\x 0a\n0b ", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\x0", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\x0a0", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\xzz", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\x0 a", out));
}

TEST(value_bytea_escape_format)
{
    unsigned char out[16];
    ASSERT_EQ_INT(5, bytea("\\012\\\\\\000\\377A", out));
    ASSERT(out[0] == 0x0a && out[1] == '\\' && out[2] == 0 && out[3] == 0xff && out[4] == 'A');
    ASSERT_EQ_INT(0, bytea("", out));
    ASSERT_EQ_INT(3, bytea("abc", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\01", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\400", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("\\9", out));
    ASSERT_EQ_INT(PGA_EDECODE, bytea("a\\", out));
    ASSERT_EQ_INT(PGA_EDECODE, pga_bytea_decode("\\x00", 4, NULL));
    ASSERT_EQ_INT(PGA_EDECODE, pga_bytea_decode(NULL, 1, out));
}

/* ---- the array reader --------------------------------------------------- */

/* Reads a literal into a compact trace: B E N, and elements as [text].
 * Returns the final code (0 at the end, or the error). */
static int trace(const char *text, char *out, size_t cap)
{
    size_t n = strlen(text), used = 0;
    char *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL) {
        return PGA_ENOMEM;
    }
    memcpy(copy, text, n);
    pga_array_reader r;
    pga_array_reader_init(&r, copy, n);
    int tok;
    const char *t;
    size_t len;
    out[0] = '\0';
    while ((tok = pga_array_next(&r, &t, &len)) > 0) {
        char piece[128];
        if (tok == PGA_ARRAY_BEGIN) {
            snprintf(piece, sizeof piece, "B");
        }
        else if (tok == PGA_ARRAY_END) {
            snprintf(piece, sizeof piece, "E");
        }
        else if (tok == PGA_ARRAY_NULL) {
            snprintf(piece, sizeof piece, "N");
        }
        else {
            snprintf(piece, sizeof piece, "[%.*s]", (int)len, t);
        }
        size_t k = strlen(piece);
        if (used + k < cap) {
            memcpy(out + used, piece, k + 1);
            used += k;
        }
    }
    /* After the end (or an error) the reader stays there. */
    if (pga_array_next(&r, &t, &len) != tok) {
        tok = -999;
    }
    pga_array_reader_done(&r);
    pga_array_reader_done(&r);
    free(copy);
    return tok;
}

#define ASSERT_TRACE(text, want)                                            \
    do {                                                                    \
        char got_[512];                                                     \
        ASSERT_EQ_INT(0, trace((text), got_, sizeof got_));                 \
        ASSERT_EQ_STR((want), got_);                                        \
    } while (0)

TEST(array_reader_flat_and_nested)
{
    ASSERT_TRACE("{1,2,NULL}", "B[1][2]NE");
    ASSERT_TRACE("{{1,2},{3,4}}", "BB[1][2]EB[3][4]EE");
    ASSERT_TRACE("{}", "BE");
    ASSERT_TRACE("{{},{}}", "BBEBEE");
    ASSERT_TRACE("{{{x}}}", "BBB[x]EEE");
}

TEST(array_reader_quoted_elements_and_escapes)
{
    ASSERT_TRACE("{\"a b\",\"\",NULL,\"NULL\",\"\\\\\\\\x\"}", "B[a b][]N[NULL][\\\\x]E");
    ASSERT_TRACE("{\"a\\\"b\",\"c\\\\d\",\"{,}\"}", "B[a\"b][c\\d][{,}]E");
    ASSERT_TRACE("{\"2019-12-31 20:00:00+01\"}", "B[2019-12-31 20:00:00+01]E");
    ASSERT_TRACE("{null,Null,N\\ULL}", "BNN[NULL]E");
}

TEST(array_reader_trims_unquoted_whitespace)
{
    ASSERT_TRACE("{ a b , c }", "B[a b][c]E");
    ASSERT_TRACE("  { 1 ,\t2\n}  ", "B[1][2]E");
    ASSERT_TRACE("{a\\ ,b}", "B[a ][b]E");
    ASSERT_TRACE("{ \" x \" }", "B[ x ]E");
    ASSERT_TRACE("{ { 1 } , { 2 } }", "BB[1]EB[2]EE");
}

TEST(array_reader_skips_dimension_decoration)
{
    ASSERT_TRACE("[1:2]={1,2}", "B[1][2]E");
    ASSERT_TRACE("[0:1][-1:0]={{1,2},{3,4}}", "BB[1][2]EB[3][4]EE");
    ASSERT_TRACE("[0:0] = {x}", "B[x]E");
}

TEST(array_reader_refuses_malformed_text)
{
    static const char *const bad[] = {
        "",      "{",       "}",      "{1",     "{1,}",     "{,1}",   "{1,,2}", "{1 2",
        "{\"a}", "{{1}{2}}", "{1}x",  "1,2",    "{\"a\"b}", "{a\"b}", "{a{b}",  "[1:2]{1,2}",
        "[1:2=", "[]={}",   "{a\\",   "{\"a\\", "{{1}",     "{1}}",   "{ , }",  "{\"x\" \"y\"}",
        "[a:b]={1}", "{}{}", "{{1},}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char got[512];
        int rc = trace(bad[i], got, sizeof got);
        if (rc != PGA_EDECODE) {
            test_fail(__FILE__, __LINE__, "\"%s\": expected EDECODE, got %d after %s", bad[i],
                      rc, got);
            return;
        }
    }
}

/* ^malformed text never crashes: every prefix of a valid literal, read
 * from an exact-size buffer, ends in PGA_EDECODE. */
TEST(array_reader_truncated_input_is_refused)
{
    const char *text = "[0:1]={{\"a\\\"b\",NULL, c },{\"\",\"\\\\x00\"}}";
    size_t n = strlen(text);
    for (size_t k = 0; k < n; k++) {
        char got[512];
        char prefix[128];
        memcpy(prefix, text, k);
        prefix[k] = '\0';
        ASSERT_EQ_INT(PGA_EDECODE, trace(prefix, got, sizeof got));
    }
    ASSERT_TRACE(text, "BB[a\"b]N[c]EB[][\\x00]EE");
}

TEST(array_reader_deep_nesting)
{
    enum { DEPTH = 100000 };
    char *text = malloc(2 * DEPTH + 1);
    ASSERT(text != NULL);
    memset(text, '{', DEPTH);
    text[DEPTH] = '7';
    memset(text + DEPTH + 1, '}', DEPTH);
    pga_array_reader r;
    pga_array_reader_init(&r, text, 2 * DEPTH + 1);
    int begins = 0, ends = 0, elems = 0, tok;
    while ((tok = pga_array_next(&r, NULL, NULL)) > 0) {
        begins += tok == PGA_ARRAY_BEGIN;
        ends += tok == PGA_ARRAY_END;
        elems += tok == PGA_ARRAY_ELEM;
    }
    pga_array_reader_done(&r);
    free(text);
    ASSERT_EQ_INT(0, tok);
    ASSERT_EQ_INT(DEPTH, begins);
    ASSERT_EQ_INT(DEPTH, ends);
    ASSERT_EQ_INT(1, elems);
}

TEST(array_reader_long_escaped_element_grows_its_buffer)
{
    enum { N = 100000 };
    char *text = malloc(2 * N + 4);
    ASSERT(text != NULL);
    size_t k = 0;
    text[k++] = '{';
    text[k++] = '"';
    for (int i = 0; i < N / 2; i++) {
        text[k++] = '\\';
        text[k++] = '"';
        text[k++] = 'z';
    }
    text[k++] = '"';
    text[k++] = '}';
    pga_array_reader r;
    const char *t;
    size_t len;
    pga_array_reader_init(&r, text, k);
    int ok = pga_array_next(&r, &t, &len) == PGA_ARRAY_BEGIN &&
             pga_array_next(&r, &t, &len) == PGA_ARRAY_ELEM && len == N && t[0] == '"' &&
             t[1] == 'z' && t[N - 1] == 'z' && pga_array_next(&r, &t, &len) == PGA_ARRAY_END &&
             pga_array_next(&r, &t, &len) == 0;
    pga_array_reader_done(&r);
    free(text);
    ASSERT(ok);
}

TEST(array_reader_null_input_is_refused)
{
    pga_array_reader r;
    pga_array_reader_init(&r, NULL, 0);
    ASSERT_EQ_INT(PGA_EDECODE, pga_array_next(&r, NULL, NULL));
    ASSERT_EQ_INT(PGA_EDECODE, pga_array_next(&r, NULL, NULL));
    pga_array_reader_done(&r);
    ASSERT_EQ_INT(PGA_EDECODE, pga_array_next(NULL, NULL, NULL));
    pga_array_reader_done(NULL);
}

/* Array elements decode with the element kind's decoder. */
TEST(array_reader_elements_decode_by_element_kind)
{
    const char *text = "{\"2020-01-01 00:00:00+05\",NULL,\"-infinity\"}";
    pga_array_reader r;
    const char *t;
    size_t len;
    pga_value v;
    pga_array_reader_init(&r, text, strlen(text));
    int ok = pga_array_next(&r, &t, &len) == PGA_ARRAY_BEGIN &&
             pga_array_next(&r, &t, &len) == PGA_ARRAY_ELEM &&
             pga_value_decode(PGA_T_TIMESTAMPTZ, t, len, &v) == PGA_OK && v.utc_offset == 18000 &&
             v.year == 2020 && pga_array_next(&r, &t, &len) == PGA_ARRAY_NULL &&
             pga_array_next(&r, &t, &len) == PGA_ARRAY_ELEM &&
             pga_value_decode(PGA_T_TIMESTAMPTZ, t, len, &v) == PGA_OK && v.infinity == -1 &&
             pga_array_next(&r, &t, &len) == PGA_ARRAY_END;
    pga_array_reader_done(&r);
    ASSERT(ok);
}
