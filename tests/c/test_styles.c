/* test_styles.c -- results read right whatever DateStyle and IntervalStyle
 * the session has: the role's defaults, a SET, another client's SET on a
 * pooled session (PGA_BOUNCER_URL: a PgBouncer in transaction mode). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int decode(int kind, const char *text, pga_value *v)
{
    return pga_value_decode(kind, text, strlen(text), v);
}

/* The server's own output of one interval in the four styles (PostgreSQL
 * 15), and what it is in days (months folded as 30), seconds, microseconds. */
TEST(value_interval_reads_every_interval_style)
{
    static const struct {
        const char *text;
        int64_t months, days, seconds, micro;
    } cases[] = {
        {"1 year 2 mons 3 days 04:05:06.789", 14, 14 * 30 + 3, 14706, 789000},
        {"@ 1 year 2 mons 3 days 4 hours 5 mins 6.789 secs", 14, 14 * 30 + 3, 14706, 789000},
        {"+1-2 +3 +4:05:06.789", 14, 14 * 30 + 3, 14706, 789000},
        {"P1Y2M3DT4H5M6.789S", 14, 14 * 30 + 3, 14706, 789000},
        {"-1 years -2 mons +3 days -04:05:06", -14, -14 * 30 + 3, -14706, 0},
        {"@ 1 year 2 mons -3 days 4 hours 5 mins 6 secs ago", -14, -14 * 30 + 3, -14706, 0},
        {"-1-2 +3 -4:05:06", -14, -14 * 30 + 3, -14706, 0},
        {"P-1Y-2M3DT-4H-5M-6S", -14, -14 * 30 + 3, -14706, 0},
        {"00:00:00", 0, 0, 0, 0}, {"@ 0", 0, 0, 0, 0}, {"0", 0, 0, 0, 0}, {"PT0S", 0, 0, 0, 0},
        {"-1 days +23:59:59", 0, -1, 86399, 0},
        {"@ 1 day -23 hours -59 mins -59 secs ago", 0, -1, 86399, 0},
        {"+0-0 -1 +23:59:59", 0, -1, 86399, 0},
        {"P-1DT23H59M59S", 0, -1, 86399, 0},
        {"-00:00:00.5", 0, 0, 0, -500000}, {"@ 0.5 secs ago", 0, 0, 0, -500000},
        {"-0:00:00.5", 0, 0, 0, -500000}, {"PT-0.5S", 0, 0, 0, -500000},
        {"-3 days", 0, -3, 0, 0}, {"@ 3 days ago", 0, -3, 0, 0}, {"-3 0:00:00", 0, -3, 0, 0},
        {"P-3D", 0, -3, 0, 0}, {"1 year", 12, 360, 0, 0}, {"1-0", 12, 360, 0, 0},
        {"-1 years -2 days", -12, -362, 0, 0}, {"-1-0 -2 +0:00:00", -12, -362, 0, 0},
        {"@ 1 year 2 days ago", -12, -362, 0, 0}, {"P-1Y-2D", -12, -362, 0, 0},
        {"1 mon -00:00:01", 1, 30, -1, 0}, {"+0-1 +0 -0:00:01", 1, 30, -1, 0},
        {"@ 1 mon -1 sec", 1, 30, -1, 0}, {"P1MT-1S", 1, 30, -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pga_value v;
        if (decode(PGA_T_INTERVAL, cases[i].text, &v) != PGA_OK || v.months != cases[i].months
            || v.days != cases[i].days || v.seconds != cases[i].seconds
            || v.microseconds != cases[i].micro) {
            test_fail(__FILE__, __LINE__, "\"%s\" read as months=%lld days=%lld s=%lld us=%lld",
                      cases[i].text, (long long)v.months, (long long)v.days,
                      (long long)v.seconds, (long long)v.microseconds);
            return;
        }
    }
    static const char *const bad[] = {"@", "@ ago", "@ 1 fortnight", "P", "P1", "P1X", "PT1Y",
                                      "+1-2 +3", "1-12", "+1-2 +3 +4:05:06 7", "- 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pga_value v;
        if (decode(PGA_T_INTERVAL, bad[i], &v) != PGA_EDECODE) {
            test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
            return;
        }
    }
}

/* One row of text values from a session set up by setup (may be NULL). */
static int select_texts(pga_conn *conn, const char *sql, char out[][64], int n)
{
    pga_result *res = NULL;
    if (pga_query(conn, sql, NULL, &res) != PGA_OK) {
        fprintf(stdout, "    %s: %s\n", sql, pga_conn_errmsg(conn));
        return -1;
    }
    for (int i = 0; i < n && i < pga_result_ncols(res); i++) {
        snprintf(out[i], 64, "%s", pga_result_isnull(res, 0, i) ? "NULL"
                                                                : pga_result_text(res, 0, i, NULL));
    }
    pga_result_free(res);
    return 0;
}

#define STYLE_SQL                                                                         \
    "SELECT date '2024-01-31', date '0044-03-15 BC', timestamp '2024-01-31 12:34:56.789', " \
    "timestamp '0044-03-15 01:02:03 BC', timestamptz '2024-01-31 12:34:56.789+00', "       \
    "interval '1 year 2 mons 3 days 04:05:06.789', interval '-1 days +23:59:59', "          \
    "ARRAY[date '2024-02-01', NULL], ARRAY[interval '-00:00:01'], date 'infinity', "        \
    "timestamp '12345-06-07 08:09:10', ARRAY[timestamptz '2024-01-31 12:34:56.789+00']"

static const char *const canonical[] = {
    "2024-01-31", "0044-03-15 BC", "2024-01-31 12:34:56.789", "0044-03-15 01:02:03 BC",
    "2024-01-31 12:34:56.789+00", "1 year 2 mons 3 days 04:05:06.789", "-1 days +23:59:59",
    "{2024-02-01,NULL}", "{-00:00:01}", "infinity", "12345-06-07 08:09:10",
    "{\"2024-01-31 12:34:56.789+00\"}",
};
#define NCANON ((int)(sizeof canonical / sizeof canonical[0]))

/* Compare, reading array literals loosely (quotes are optional). */
static int same_value(const char *want, const char *got)
{
    char a[128], b[128];
    size_t n = 0;
    for (const char *p = got; *p && n + 1 < sizeof b; p++) {
        if (*p != '"') {
            b[n++] = *p;
        }
    }
    b[n] = '\0';
    n = 0;
    for (const char *p = want; *p && n + 1 < sizeof a; p++) {
        if (*p != '"') {
            a[n++] = *p;
        }
    }
    a[n] = '\0';
    return strcmp(a, b) == 0;
}

static int check_all_styles(pga_conn *conn)
{
    static const char *const datestyles[] = {"ISO, MDY", "SQL, DMY", "SQL, MDY", "Postgres, DMY",
                                             "Postgres, MDY", "German", "SQL, YMD"};
    static const char *const intervalstyles[] = {"postgres", "postgres_verbose", "sql_standard",
                                                 "iso_8601"};
    for (size_t d = 0; d < sizeof datestyles / sizeof datestyles[0]; d++) {
        for (size_t s = 0; s < 4; s++) {
            char set[160], got[NCANON][64];
            snprintf(set, sizeof set, "SET DateStyle = '%s'; SET IntervalStyle = %s",
                     datestyles[d], intervalstyles[s]);
            if (pga_query(conn, set, NULL, NULL) != PGA_OK
                || select_texts(conn, STYLE_SQL, got, NCANON) != 0) {
                return -1;
            }
            for (int i = 0; i < NCANON; i++) {
                if (!same_value(canonical[i], got[i])) {
                    fprintf(stdout, "    %s / %s: column %d: want %s, got %s\n", datestyles[d],
                            intervalstyles[s], i + 1, canonical[i], got[i]);
                    return -1;
                }
            }
        }
    }
    return 0;
}

TEST(results_read_right_in_every_datestyle_and_intervalstyle)
{
    pga_conn *conn = test_connect();
    ASSERT(conn != NULL);
    int rc = check_all_styles(conn);
    pga_conn_free(conn);
    ASSERT_EQ_INT(0, rc);
}

/* A zone abbreviation only the zone database could place in time is never
 * guessed: the text stays, and decoding it fails. */
TEST(timestamptz_with_a_named_zone_abbreviation_is_refused_not_guessed)
{
    pga_conn *conn = test_connect();
    ASSERT(conn != NULL);
    pga_result *res = NULL;
    int rc = pga_query(conn, "SET DateStyle = 'SQL, DMY'; SET TimeZone = 'Europe/Paris'", NULL, NULL);
    if (rc == PGA_OK) {
        rc = pga_query(conn, "SELECT timestamptz '2024-07-31 12:34:56+00', "
                             "timestamptz '2024-07-31 12:34:56+00' AT TIME ZONE 'UTC'", NULL, &res);
    }
    pga_conn_free(conn);
    ASSERT_EQ_INT(PGA_OK, rc);
    size_t len;
    const char *text = pga_result_text(res, 0, 0, &len);
    pga_value v;
    int drc = pga_value_decode(PGA_T_TIMESTAMPTZ, text, len, &v);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", text);
    char ts[64];
    snprintf(ts, sizeof ts, "%s", pga_result_text(res, 0, 1, NULL));
    pga_result_free(res);
    ASSERT_EQ_STR("31/07/2024 14:34:56 CEST", copy);
    ASSERT_EQ_INT(PGA_EDECODE, drc);
    ASSERT_EQ_STR("2024-07-31 12:34:56", ts);
}

/* CREATE ROLE with DateStyle 'SQL, DMY' and IntervalStyle iso_8601 as its
 * defaults (ALTER ROLE ... SET), then connect as it: directly, and through
 * PgBouncer when PGA_BOUNCER_URL names one (the role is created on the
 * server; PgBouncer lets any role of it in). */
static pga_conn *connect_as_styled_role(const char *base)
{
    char dsn[512];
    snprintf(dsn, sizeof dsn, "%s%suser=pga_styled", base ? base : "", base ? " " : "");
    return test_connect_to(dsn);
}

static int make_styled_role(void)
{
    test_exec("DROP ROLE IF EXISTS pga_styled");
    return test_exec("CREATE ROLE pga_styled LOGIN SUPERUSER") == PGA_OK
           && test_exec("ALTER ROLE pga_styled SET DateStyle = 'SQL, DMY'") == PGA_OK
           && test_exec("ALTER ROLE pga_styled SET IntervalStyle = 'iso_8601'") == PGA_OK
               ? 0 : -1;
}

static int check_role_session(pga_conn *conn)
{
    char got[NCANON][64], style[2][64];
    if (select_texts(conn, "SELECT current_setting('DateStyle'), current_setting('IntervalStyle')",
                     style, 2) != 0
        || select_texts(conn, STYLE_SQL, got, NCANON) != 0) {
        return -1;
    }
    if (strcmp(style[0], "SQL, DMY") != 0 || strcmp(style[1], "iso_8601") != 0) {
        fprintf(stdout, "    the role's defaults did not apply: %s / %s\n", style[0], style[1]);
        return -1;
    }
    for (int i = 0; i < NCANON; i++) {
        if (!same_value(canonical[i], got[i])) {
            fprintf(stdout, "    column %d: want %s, got %s\n", i + 1, canonical[i], got[i]);
            return -1;
        }
    }
    /* Decoded values, not only text. */
    pga_result *res = NULL;
    pga_value v;
    size_t len;
    if (pga_query(conn, "SELECT date '2024-02-01', interval '1 day 02:00:00'", NULL, &res)
        != PGA_OK) {
        return -1;
    }
    const char *t = pga_result_text(res, 0, 0, &len);
    int ok = pga_value_decode(PGA_T_DATE, t, len, &v) == PGA_OK && v.year == 2024
             && v.month == 2 && v.day == 1;
    t = pga_result_text(res, 0, 1, &len);
    ok = ok && pga_value_decode(PGA_T_INTERVAL, t, len, &v) == PGA_OK && v.days == 1
         && v.seconds == 7200;
    pga_result_free(res);
    return ok ? 0 : -1;
}

TEST(role_with_sql_dmy_and_iso_8601_defaults_decodes_dates_and_intervals)
{
    ASSERT_EQ_INT(0, make_styled_role());
    pga_conn *conn = connect_as_styled_role(NULL);
    ASSERT(conn != NULL);
    int rc = check_role_session(conn);
    pga_conn_free(conn);
    ASSERT_EQ_INT(0, rc);
    const char *bouncer = getenv("PGA_BOUNCER_URL");
    if (bouncer != NULL && bouncer[0] != '\0') {
        conn = connect_as_styled_role(bouncer);
        ASSERT(conn != NULL);
        rc = check_role_session(conn);
        pga_conn_free(conn);
        ASSERT_EQ_INT(0, rc);
    }
    else {
        fprintf(stdout, "    not run through PgBouncer: PGA_BOUNCER_URL is unset "
                        "(scripts/suite-c.sh sets it)\n");
    }
}

/* PgBouncer 1.18 does not track IntervalStyle: one client's SET stays on
 * the server session the next client gets, and nothing reports it to that
 * client.  One client at a time gets the same idle server session back.
 * Needs PGA_BOUNCER_URL (transaction mode; scripts/suite-c.sh sets it). */
TEST(other_clients_intervalstyle_on_a_pooled_session_decodes)
{
    const char *bouncer = getenv("PGA_BOUNCER_URL");
    if (bouncer == NULL || bouncer[0] == '\0') {
        fprintf(stdout, "    not run: PGA_BOUNCER_URL is unset (scripts/suite-c.sh sets it)\n");
        return;
    }
    char pid_a[1][64] = {""}, pid_b[1][64] = {""}, style[1][64] = {""}, got[NCANON][64];
    pga_conn *other = test_connect_to(bouncer);
    ASSERT(other != NULL);
    int rc = pga_query(other, "SET IntervalStyle = 'sql_standard'", NULL, NULL);
    int prc = select_texts(other, "SELECT pg_backend_pid()", pid_a, 1);
    pga_conn_free(other);
    ASSERT_EQ_INT(PGA_OK, rc);
    ASSERT_EQ_INT(0, prc);

    pga_conn *conn = test_connect_to(bouncer);
    ASSERT(conn != NULL);
    int ok = select_texts(conn, "SELECT pg_backend_pid()", pid_b, 1) == 0
             && select_texts(conn, "SELECT current_setting('IntervalStyle')", style, 1) == 0
             && select_texts(conn, STYLE_SQL, got, NCANON) == 0;
    pga_result *res = NULL;
    pga_value v = {0};
    int drc = ok ? pga_query(conn, "SELECT interval '-1 days +23:59:59'", NULL, &res) : -1;
    if (drc == PGA_OK) {
        size_t len;
        const char *t = pga_result_text(res, 0, 0, &len);
        drc = pga_value_decode(PGA_T_INTERVAL, t, len, &v);
        pga_result_free(res);
    }
    pga_conn_free(conn);
    ASSERT(ok);
    ASSERT_EQ_STR(pid_a[0], pid_b[0]);          /* the same server session */
    ASSERT_EQ_STR("sql_standard", style[0]);    /* with the other client's SET */
    for (int i = 0; i < NCANON; i++) {
        if (!same_value(canonical[i], got[i])) {
            test_fail(__FILE__, __LINE__, "column %d: want %s, got %s", i + 1, canonical[i], got[i]);
            return;
        }
    }
    ASSERT_EQ_INT(PGA_OK, drc);
    ASSERT(v.days == -1 && v.seconds == 86399 && v.months == 0);
}
