/* test_placeholders.c -- %s / %(name)s rewritten into $n (sqlscan.c),
 * without a server; the server-side proof is the Python DB-API's tests. */
#include <stdlib.h>

#include "harness.h"

/* One object for every test, as a cursor keeps one: each rewrite must
 * forget the last. */
static pga_placeholders *ph;

static void free_ph(void)
{
    pga_placeholders_free(ph);
}

static int rewrite(const char *sql)
{
    if (ph == NULL) {
        if (pga_placeholders_new(&ph) != PGA_OK) {
            return PGA_ENOMEM;
        }
        atexit(free_ph);
    }
    return pga_placeholders_rewrite(ph, sql);
}

#define ASSERT_REWRITE(expected, style_, count_, sql)                       \
    do {                                                                    \
        ASSERT_EQ_INT(PGA_OK, rewrite(sql));                                \
        ASSERT_EQ_STR((expected), pga_placeholders_sql(ph));                \
        ASSERT_EQ_INT((style_), pga_placeholders_style(ph));                \
        ASSERT_EQ_INT((count_), pga_placeholders_count(ph));                \
    } while (0)

#define ASSERT_REFUSED(sql, fragment)                                       \
    do {                                                                    \
        ASSERT_EQ_INT(PGA_EPARAM, rewrite(sql));                            \
        ASSERT(strstr(pga_placeholders_errmsg(ph), (fragment)) != NULL);    \
        ASSERT_EQ_INT(PGA_PH_NONE, pga_placeholders_style(ph));             \
        ASSERT_EQ_INT(0, pga_placeholders_count(ph));                       \
    } while (0)

/* ^%s, %b and %t outside literals become $1, $2, ... in order */
TEST(placeholders_positional_become_dollar_numbers_in_order)
{
    ASSERT_REWRITE("SELECT $1, $2", PGA_PH_POSITIONAL, 2, "SELECT %s, %s");
    ASSERT_REWRITE("INSERT INTO t VALUES ($1, $2, $3)", PGA_PH_POSITIONAL, 3,
                   "INSERT INTO t VALUES (%s, %b, %t)");
    ASSERT_REWRITE("SELECT $1::int", PGA_PH_POSITIONAL, 1, "SELECT %s::int");
    ASSERT_REWRITE("SELECT ARRAY[$1]", PGA_PH_POSITIONAL, 1, "SELECT ARRAY[%s]");
}

/* ^%(name)s becomes $k, the same k for every use of one name */
TEST(placeholders_named_reuse_one_number_per_name)
{
    ASSERT_REWRITE("SELECT $1, $2, $1", PGA_PH_NAMED, 2, "SELECT %(a)s, %(b)s, %(a)s");
    ASSERT_EQ_STR("a", pga_placeholders_name(ph, 0, NULL));
    ASSERT_EQ_STR("b", pga_placeholders_name(ph, 1, NULL));
    ASSERT(pga_placeholders_name(ph, 2, NULL) == NULL);
    ASSERT(pga_placeholders_name(ph, -1, NULL) == NULL);
    /* Names are whatever psycopg allows between the parentheses. */
    size_t len = 0;
    ASSERT_REWRITE("UPDATE t SET v = $1 WHERE id = $2", PGA_PH_NAMED, 2,
                   "UPDATE t SET v = %(new value)b WHERE id = %(id_1)t");
    ASSERT_EQ_STR("new value", pga_placeholders_name(ph, 0, &len));
    ASSERT_EQ_INT(9, len);
    ASSERT_REWRITE("SELECT $1", PGA_PH_NAMED, 1, "SELECT %()s");
    ASSERT_EQ_STR("", pga_placeholders_name(ph, 0, &len));
    ASSERT_EQ_INT(0, len);
}

TEST(placeholders_many_names_keep_their_numbers)
{
    char sql[64 * 1024], expected[64 * 1024];
    size_t n = 0, m = 0;
    /* 3000 names, each used twice: the second use finds the first's $k. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3000; i++) {
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%%(p%d)s,", i);
            m += (size_t)snprintf(expected + m, sizeof(expected) - m, "$%d,", i + 1);
        }
    }
    ASSERT_REWRITE(expected, PGA_PH_NAMED, 3000, sql);
    ASSERT_EQ_STR("p2999", pga_placeholders_name(ph, 2999, NULL));
}

/* ^%% becomes %, everywhere, literals and comments included */
TEST(placeholders_double_percent_is_one_percent_everywhere)
{
    ASSERT_REWRITE("SELECT 7 % $1", PGA_PH_POSITIONAL, 1, "SELECT 7 %% %s");
    ASSERT_REWRITE("SELECT $1 LIKE 'a%'", PGA_PH_POSITIONAL, 1, "SELECT %s LIKE 'a%%'");
    ASSERT_REWRITE("SELECT \"100%\" FROM t WHERE x = $1", PGA_PH_POSITIONAL, 1,
                   "SELECT \"100%%\" FROM t WHERE x = %s");
    ASSERT_REWRITE("SELECT $$%$$ -- 50% off\n, $1", PGA_PH_POSITIONAL, 1,
                   "SELECT $$%%$$ -- 50%% off\n, %s");
    ASSERT_REWRITE("SELECT '%s'", PGA_PH_NONE, 0, "SELECT '%%s'");
    ASSERT_REWRITE("SELECT %s", PGA_PH_NONE, 0, "SELECT %%s");
    ASSERT_REWRITE("SELECT %$1", PGA_PH_POSITIONAL, 1, "SELECT %%%s");
    ASSERT_REWRITE("SELECT '%%'", PGA_PH_NONE, 0, "SELECT '%%%%'");
}

/* ^nothing inside a string literal, quoted identifier, dollar-quoted string
 * or comment is a placeholder, and a lone % there stays */
TEST(placeholders_are_not_read_inside_literals_or_comments)
{
    ASSERT_REWRITE("SELECT '%s', $1", PGA_PH_POSITIONAL, 1, "SELECT '%s', %s");
    ASSERT_REWRITE("SELECT E'\\'%s', $1", PGA_PH_POSITIONAL, 1, "SELECT E'\\'%s', %s");
    ASSERT_REWRITE("SELECT \"%(a)s\" FROM t", PGA_PH_NONE, 0, "SELECT \"%(a)s\" FROM t");
    ASSERT_REWRITE("SELECT $f$ %s $f$, $1", PGA_PH_POSITIONAL, 1, "SELECT $f$ %s $f$, %s");
    ASSERT_REWRITE("/* %s /* %x */ */ SELECT $1", PGA_PH_POSITIONAL, 1,
                   "/* %s /* %x */ */ SELECT %s");
    ASSERT_REWRITE("SELECT $1 -- %s %\n", PGA_PH_POSITIONAL, 1, "SELECT %s -- %s %\n");
    ASSERT_REWRITE("SELECT 'a%' LIKE $1", PGA_PH_POSITIONAL, 1, "SELECT 'a%' LIKE %s");
    ASSERT_REWRITE("SELECT 'unterminated %s", PGA_PH_NONE, 0, "SELECT 'unterminated %s");
}

/* ^a text that already uses $n is sent as written */
TEST(placeholders_dollar_text_is_sent_as_written)
{
    ASSERT_REWRITE("SELECT $1 % 2, '%%'", PGA_PH_DOLLAR, 1, "SELECT $1 % 2, '%%'");
    ASSERT_REWRITE("SELECT $3, $1", PGA_PH_DOLLAR, 3, "SELECT $3, $1");
    ASSERT_REWRITE("SELECT 1", PGA_PH_NONE, 0, "SELECT 1");
    ASSERT_REWRITE("", PGA_PH_NONE, 0, "");
}

/* ^any other % outside literals, a %( without ), and mixing %s with
 * %(name)s are refused with PGA_EPARAM */
TEST(placeholders_refuses_what_psycopg_refuses)
{
    ASSERT_REFUSED("SELECT 7 % 2, %s", "got '% '");
    ASSERT_REFUSED("SELECT %d", "got '%d'");
    ASSERT_REFUSED("SELECT %", "at the end of the query");
    ASSERT_REFUSED("SELECT %(a", "without ')'");
    ASSERT_REFUSED("SELECT %(a)d", "'%(a)' must be followed by 's'");
    ASSERT_REFUSED("SELECT %s, %(a)s", "cannot be mixed");
    ASSERT_REFUSED("SELECT %(a)s, %s", "cannot be mixed");
    ASSERT_REFUSED("SELECT %\x01", "byte 0x01");
    /* "s$2" was a word; once %s is taken, "$2" would be a parameter. */
    ASSERT_REFUSED("SELECT %s$2", "cannot be mixed");
    ASSERT_EQ_INT(PGA_EMISUSE, rewrite(NULL));
    /* A failure leaves nothing behind for the next rewrite. */
    ASSERT_REWRITE("SELECT $1", PGA_PH_NAMED, 1, "SELECT %(b)s");
    ASSERT_EQ_STR("b", pga_placeholders_name(ph, 0, NULL));
    ASSERT_EQ_STR("", pga_placeholders_errmsg(ph));
}

/* ^a $n that would run into a word or number is set apart by a blank */
TEST(placeholders_never_run_into_words_or_numbers)
{
    ASSERT_REWRITE("SELECT a $1", PGA_PH_POSITIONAL, 1, "SELECT a%s");
    ASSERT_REWRITE("SELECT $1 1", PGA_PH_POSITIONAL, 1, "SELECT %s1");
    ASSERT_REWRITE("SELECT $1 $2", PGA_PH_POSITIONAL, 2, "SELECT %s%s");
    ASSERT_REWRITE("SELECT 5 $1 x", PGA_PH_POSITIONAL, 1, "SELECT 5%sx");
    ASSERT_REWRITE("SELECT ($1)", PGA_PH_POSITIONAL, 1, "SELECT (%s)");
    /* What comes out counts as it should. */
    ASSERT_EQ_INT(2, pga_sql_count_params(("SELECT $1 $2")));
}

TEST(placeholders_free_accepts_null)
{
    pga_placeholders_free(NULL);
}
