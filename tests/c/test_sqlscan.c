/* test_sqlscan.c -- placeholder counting (sqlscan.c), without a server. */
#include <limits.h>

#include "harness.h"
#include "internal.h"

#define ASSERT_COUNT(expected, sql) ASSERT_EQ_INT((expected), pga_sql_count_params(sql))

/* ^The number of $n placeholders a statement uses (the highest n) ... */
TEST(sqlscan_counts_the_highest_placeholder)
{
    ASSERT_COUNT(0, "SELECT 1");
    ASSERT_COUNT(2, "SELECT $1, $2");
    ASSERT_COUNT(3, "SELECT $3");
    ASSERT_COUNT(2, "SELECT $2, $1, $2");
    ASSERT_COUNT(12, "INSERT INTO t VALUES ($12, $1)");
    ASSERT_COUNT(1, "SELECT $1::int");
    ASSERT_COUNT(1, "SELECT 1-$1");
    ASSERT_COUNT(1, "SELECT 2/$1");
    ASSERT_COUNT(1, "SELECT ARRAY[$1]");
    ASSERT_COUNT(2, "SELECT $1+$2");
}

TEST(sqlscan_empty_and_null_have_none)
{
    ASSERT_COUNT(0, "");
    ASSERT_COUNT(0, NULL);
    ASSERT_COUNT(0, "$");
    ASSERT_COUNT(0, "SELECT $ 1");
}

/* ^... ignoring those inside string literals ... */
TEST(sqlscan_ignores_string_literals)
{
    ASSERT_COUNT(0, "SELECT '$1'");
    ASSERT_COUNT(2, "SELECT 'it''s $1', $2");
    ASSERT_COUNT(1, "SELECT '\\', $1");          /* standard strings: \ is a char */
    ASSERT_COUNT(3, "SELECT date '2020-01-01 $2', $3");
    ASSERT_COUNT(0, "SELECT U&'\\0041 $1'");
    ASSERT_COUNT(0, "SELECT B'101', X'1F $1'");
}

TEST(sqlscan_backslash_escapes_only_in_e_strings)
{
    ASSERT_COUNT(2, "SELECT E'\\' $1', $2");
    ASSERT_COUNT(2, "SELECT e'\\' $1', $2");
    ASSERT_COUNT(2, "SELECT E'\\\\', $2");
    ASSERT_COUNT(2, "SELECT E'a''$1', $2");
    /* A word ending in e is a type or column, not an E prefix. */
    ASSERT_COUNT(1, "SELECT some'\\', $1");
}

/* ^... quoted identifiers ... */
TEST(sqlscan_ignores_quoted_identifiers)
{
    ASSERT_COUNT(0, "SELECT \"$1\"");
    ASSERT_COUNT(0, "SELECT \"a\"\"$1\"");
    ASSERT_COUNT(1, "SELECT \"x\" FROM t WHERE a = $1");
    ASSERT_COUNT(0, "SELECT \"it's $1\"");
}

/* ^... dollar-quoted strings ... */
TEST(sqlscan_ignores_dollar_quoted_strings)
{
    ASSERT_COUNT(2, "SELECT $$ $1 $$, $2");
    ASSERT_COUNT(0, "SELECT $tag$ $1 $tag$");
    ASSERT_COUNT(0, "SELECT $a$ $b$ $1 $b$ $a$");
    ASSERT_COUNT(1, "SELECT $$ $a$ $$, $1");
    ASSERT_COUNT(1, "SELECT $_x9$ ' $2 $_x9$, $1");
    ASSERT_COUNT(0, "DO $$ BEGIN PERFORM '$1'; END $$");
    ASSERT_COUNT(3, "SELECT $f$x$f$ || $3");
}

TEST(sqlscan_dollar_digit_is_a_placeholder_not_a_tag)
{
    ASSERT_COUNT(2, "SELECT $1$2");
    ASSERT_COUNT(1, "SELECT $1 || $$text$$");
}

TEST(sqlscan_dollar_inside_an_identifier_is_not_a_placeholder)
{
    ASSERT_COUNT(0, "SELECT a$1 FROM t");
    ASSERT_COUNT(1, "SELECT x$$ + $1");
}

/* ^... and comments. */
TEST(sqlscan_ignores_line_comments)
{
    ASSERT_COUNT(2, "-- $1\nSELECT $2");
    ASSERT_COUNT(0, "SELECT 1 -- $3");
    ASSERT_COUNT(1, "SELECT $1 -- $3\n");
    ASSERT_COUNT(1, "SELECT 1 - -$1");
}

TEST(sqlscan_ignores_nested_block_comments)
{
    ASSERT_COUNT(4, "/* $1 /* $2 */ $3 */ $4");
    ASSERT_COUNT(0, "/* $1 */");
    ASSERT_COUNT(0, "/* /* */ $1 */");
    ASSERT_COUNT(2, "SELECT /* a */ $2 /* b */");
    ASSERT_COUNT(1, "SELECT $1/**/");
}

TEST(sqlscan_unterminated_constructs_hide_the_rest)
{
    ASSERT_COUNT(0, "SELECT '$1");
    ASSERT_COUNT(0, "SELECT \"$1");
    ASSERT_COUNT(0, "/* $1");
    ASSERT_COUNT(0, "/* /* */ $1");
    ASSERT_COUNT(0, "SELECT $$ $1");
    ASSERT_COUNT(0, "SELECT $t$ $1 $u$");
    ASSERT_COUNT(0, "SELECT E'\\");
    ASSERT_COUNT(1, "SELECT $1, '");
}

TEST(sqlscan_huge_placeholder_number_saturates)
{
    ASSERT_COUNT(INT_MAX, "SELECT $99999999999999999999");
    ASSERT_COUNT(65535, "SELECT $65535");
}

TEST(sqlscan_numbers_before_placeholders)
{
    ASSERT_COUNT(1, "SELECT 1.5e3+$1");
    ASSERT_COUNT(1, "SELECT 10,$1");
}

/* The count the engine refuses on: backslash strings, and the commands
 * whose $n may be their own. */

static int scan(const char *sql, int backslash, int *unsure)
{
    int commands = 0;
    return pga__sql_scan_opts(sql, backslash, &commands, unsure);
}

/* "^'...' with backslash escapes while standard_conforming_strings is off" */
TEST(placeholder_count_reads_backslash_strings_as_the_server_does)
{
    int unsure = -1;
    ASSERT_EQ_INT(1, scan("SELECT 'it\\'s $1'", 0, &unsure));   /* on: 'it\' ends there */
    ASSERT_EQ_INT(0, unsure);
    ASSERT_EQ_INT(0, scan("SELECT 'it\\'s $1'", 1, &unsure));   /* off: one literal */
    ASSERT_EQ_INT(1, scan("SELECT 'a\\'$1', $1::int", 1, &unsure));
    ASSERT_EQ_INT(2, scan("SELECT 'a\\', $1, $2", 0, &unsure));
    ASSERT_EQ_INT(0, scan("SELECT 'a\\', $1, $2", 1, &unsure));   /* unterminated: hidden */
}

/* "^never where the count is only a guess" */
TEST(placeholder_count_defers_to_server_in_function_bodies)
{
    static const char *const guesses[] = {
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql RETURN $1 + 1",
        "create or replace function f(a int) returns int language sql begin atomic select $1; end",
        "CREATE PROCEDURE p(a int) LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES ($1); END",
        "  /* c */ CREATE  OR  REPLACE PROCEDURE p(int) AS 'x' LANGUAGE sql",
        "PREPARE q(int) AS SELECT $1",
        "SELECT 1; PREPARE q AS SELECT $1",
    };
    static const char *const sure[] = {
        "SELECT $1", "PREPARE TRANSACTION 'x'", "CREATE TABLE t (a int)",
        "CREATE OR REPLACE VIEW v AS SELECT $1", "SELECT 'CREATE FUNCTION', $1",
        "EXECUTE q($1)", "\"create\" function", "CREATE OR FUNCTION",
    };
    for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++) {
        int unsure = 0;
        scan(guesses[i], 0, &unsure);
        if (unsure != 1) {
            test_fail(__FILE__, __LINE__, "not a guess: %s", guesses[i]);
            return;
        }
    }
    for (size_t i = 0; i < sizeof sure / sizeof sure[0]; i++) {
        int unsure = 1;
        scan(sure[i], 0, &unsure);
        if (unsure != 0) {
            test_fail(__FILE__, __LINE__, "a guess: %s", sure[i]);
            return;
        }
    }
}
