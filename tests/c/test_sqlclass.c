/* test_sqlclass.c -- the control-statement classifier (sqlclass.c), without
 * a server: every string the ORMs of research/orm-integration.md §2 and
 * §6.1 send, and the near misses that must go to the server untouched.
 * tests/c/test_sql_controls.c checks the tags against a real server. */
#include "harness.h"

typedef struct want {
    const char *sql;
    int kind;
    unsigned modes;
    const char *tag;
    const char *name;
} want;

#define SER PGA_ISO_SERIALIZABLE

static int check(const want *w)
{
    pga_control c;
    int kind = pga_sql_classify(w->sql, &c);
    if (kind != w->kind || c.kind != w->kind || c.modes != w->modes
        || strcmp(c.tag, w->tag) != 0 || strcmp(c.name, w->name) != 0) {
        test_fail(__FILE__, __LINE__,
                  "[%s]: got kind %d modes 0x%x tag \"%s\" name \"%s\", want %d 0x%x \"%s\" \"%s\"",
                  w->sql, kind, c.modes, c.tag, c.name, w->kind, w->modes, w->tag, w->name);
        return 0;
    }
    return 1;
}

#define CHECK_ALL(table)                                                    \
    do {                                                                    \
        for (size_t i_ = 0; i_ < sizeof(table) / sizeof(table[0]); i_++) {  \
            if (!check(&(table)[i_])) {                                     \
                return;                                                     \
            }                                                               \
        }                                                                   \
    } while (0)

/* The exact strings of §2, ORM by ORM. */
TEST(sqlclass_sequelize_strings)
{
    static const want t[] = {
        {"START TRANSACTION;", PGA_CTL_BEGIN, 0, "START TRANSACTION", ""},
        {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;", PGA_CTL_SET_TRANSACTION, SER, "SET", ""},
        {"SAVEPOINT \"1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1\";", PGA_CTL_SAVEPOINT, 0,
         "SAVEPOINT", "1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1"},
        {"ROLLBACK TO SAVEPOINT \"1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1\";", PGA_CTL_ROLLBACK_TO,
         0, "ROLLBACK", "1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1"},
        {"COMMIT;", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"ROLLBACK;", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
        {"SET CONSTRAINTS ALL DEFERRED", PGA_CTL_NONE, 0, "", ""},
        /* prependSearchPath: a script, so the server runs it. */
        {"SET search_path to \"s\"; START TRANSACTION;", PGA_CTL_NONE, 0, "", ""},
    };
    CHECK_ALL(t);
}

TEST(sqlclass_knex_strings)
{
    static const want t[] = {
        {"BEGIN;", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"BEGIN TRANSACTION ISOLATION LEVEL serializable READ ONLY;", PGA_CTL_BEGIN,
         SER | PGA_READ_ONLY, "BEGIN", ""},
        {"SAVEPOINT trx3;", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "trx3"},
        {"RELEASE SAVEPOINT trx4;", PGA_CTL_RELEASE, 0, "RELEASE", "trx4"},
        {"ROLLBACK TO SAVEPOINT trx3", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "trx3"},
        {"COMMIT;", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"ROLLBACK", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
    };
    CHECK_ALL(t);
}

TEST(sqlclass_kysely_strings)
{
    static const want t[] = {
        {"begin", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"start transaction isolation level serializable", PGA_CTL_BEGIN, SER,
         "START TRANSACTION", ""},
        {"savepoint \"sp1\"", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "sp1"},
        {"release \"sp2\"", PGA_CTL_RELEASE, 0, "RELEASE", "sp2"},
        {"rollback to \"sp1\"", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "sp1"},
        {"commit", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"rollback", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
    };
    CHECK_ALL(t);
}

TEST(sqlclass_drizzle_strings)
{
    static const want t[] = {
        {"begin", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"begin isolation level serializable read only", PGA_CTL_BEGIN, SER | PGA_READ_ONLY,
         "BEGIN", ""},
        {"savepoint sp1", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "sp1"},
        {"release savepoint sp1", PGA_CTL_RELEASE, 0, "RELEASE", "sp1"},
        {"rollback to savepoint sp1", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "sp1"},
        {"commit", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"rollback", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
    };
    CHECK_ALL(t);
}

TEST(sqlclass_typeorm_and_prisma_strings)
{
    static const want t[] = {
        {"START TRANSACTION", PGA_CTL_BEGIN, 0, "START TRANSACTION", ""},
        {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", PGA_CTL_SET_TRANSACTION, SER, "SET", ""},
        {"SAVEPOINT typeorm_1", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "typeorm_1"},
        {"RELEASE SAVEPOINT typeorm_1", PGA_CTL_RELEASE, 0, "RELEASE", "typeorm_1"},
        {"ROLLBACK TO SAVEPOINT typeorm_1", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "typeorm_1"},
        {"COMMIT", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"ROLLBACK", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
        {"BEGIN", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"SAVEPOINT prisma_sp_0", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "prisma_sp_0"},
        {"RELEASE SAVEPOINT prisma_sp_1", PGA_CTL_RELEASE, 0, "RELEASE", "prisma_sp_1"},
        {"ROLLBACK TO SAVEPOINT prisma_sp_0", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "prisma_sp_0"},
    };
    CHECK_ALL(t);
}

TEST(sqlclass_python_driver_strings)
{
    static const want t[] = {
        /* Django and SQLAlchemy on psycopg, psycopg's own transaction() */
        {"BEGIN ISOLATION LEVEL SERIALIZABLE", PGA_CTL_BEGIN, SER, "BEGIN", ""},
        {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY DEFERRABLE", PGA_CTL_BEGIN,
         PGA_ISO_REPEATABLE_READ | PGA_READ_ONLY | PGA_DEFERRABLE, "BEGIN", ""},
        {"SAVEPOINT \"s139781145897856_x1\"", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT",
         "s139781145897856_x1"},
        {"RELEASE SAVEPOINT \"s139781145897856_x2\"", PGA_CTL_RELEASE, 0, "RELEASE",
         "s139781145897856_x2"},
        {"ROLLBACK TO SAVEPOINT \"s139781145897856_x1\"", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK",
         "s139781145897856_x1"},
        {"SAVEPOINT sa_savepoint_1", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "sa_savepoint_1"},
        {"RELEASE SAVEPOINT sa_savepoint_2", PGA_CTL_RELEASE, 0, "RELEASE", "sa_savepoint_2"},
        {"ROLLBACK TO SAVEPOINT sa_savepoint_1", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK",
         "sa_savepoint_1"},
        {"SAVEPOINT \"_pg3_1\"", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "_pg3_1"},
        {"RELEASE \"_pg3_1\"", PGA_CTL_RELEASE, 0, "RELEASE", "_pg3_1"},
        {"ROLLBACK TO \"_pg3_1\"", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "_pg3_1"},
        /* pg8000 */
        {"begin transaction", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
         PGA_CTL_NONE, 0, "", ""},
        /* asyncpg */
        {"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE;", PGA_CTL_BEGIN,
         SER | PGA_READ_ONLY | PGA_DEFERRABLE, "BEGIN", ""},
        {"SAVEPOINT __asyncpg_savepoint_9f1c2e__;", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT",
         "__asyncpg_savepoint_9f1c2e__"},
        {"RELEASE SAVEPOINT __asyncpg_savepoint_9f1c2e__;", PGA_CTL_RELEASE, 0, "RELEASE",
         "__asyncpg_savepoint_9f1c2e__"},
        {"ROLLBACK TO __asyncpg_savepoint_9f1c2e__;", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK",
         "__asyncpg_savepoint_9f1c2e__"},
    };
    CHECK_ALL(t);
}

/* The rest of the grammar: every optional word, every mode, every tag. */
TEST(sqlclass_every_form)
{
    static const want t[] = {
        {"BEGIN WORK", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"begin work read write", PGA_CTL_BEGIN, PGA_READ_WRITE, "BEGIN", ""},
        {"BEGIN ISOLATION LEVEL READ COMMITTED", PGA_CTL_BEGIN, PGA_ISO_READ_COMMITTED, "BEGIN", ""},
        {"BEGIN ISOLATION LEVEL READ UNCOMMITTED", PGA_CTL_BEGIN, PGA_ISO_READ_UNCOMMITTED,
         "BEGIN", ""},
        {"BEGIN NOT DEFERRABLE", PGA_CTL_BEGIN, PGA_NOT_DEFERRABLE, "BEGIN", ""},
        {"START TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE, DEFERRABLE", PGA_CTL_BEGIN,
         SER | PGA_READ_ONLY | PGA_DEFERRABLE, "START TRANSACTION", ""},
        {"SET TRANSACTION READ ONLY", PGA_CTL_SET_TRANSACTION, PGA_READ_ONLY, "SET", ""},
        {"set transaction not deferrable, read write", PGA_CTL_SET_TRANSACTION,
         PGA_NOT_DEFERRABLE | PGA_READ_WRITE, "SET", ""},
        {"COMMIT WORK", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"COMMIT TRANSACTION", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"END", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"end work;", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"END TRANSACTION", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"ROLLBACK WORK", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
        {"ROLLBACK TRANSACTION", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
        {"ABORT", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
        {"ABORT WORK", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
        {"abort transaction;", PGA_CTL_ROLLBACK, 0, "ROLLBACK", ""},
        {"ROLLBACK WORK TO SAVEPOINT a", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "a"},
        {"ROLLBACK TRANSACTION TO a", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "a"},
        {"RELEASE a", PGA_CTL_RELEASE, 0, "RELEASE", "a"},
        {"PREPARE TRANSACTION 'g-1'", PGA_CTL_PREPARE, 0, "PREPARE TRANSACTION", "g-1"},
        {"COMMIT PREPARED 'g-1';", PGA_CTL_COMMIT_PREPARED, 0, "COMMIT PREPARED", "g-1"},
        {"ROLLBACK PREPARED 'it''s'", PGA_CTL_ROLLBACK_PREPARED, 0, "ROLLBACK PREPARED", "it's"},
    };
    CHECK_ALL(t);
}

/* ^Keywords are matched without regard to case; ^a bare name is folded to
 * lower case and a quoted one kept as written ("" stands for "). */
TEST(sqlclass_case_and_names)
{
    static const want t[] = {
        {"SaVePoInT MixedCase", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "mixedcase"},
        {"savepoint \"MixedCase\"", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "MixedCase"},
        {"SAVEPOINT \"a\"\"b\"", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "a\"b"},
        {"SAVEPOINT \"with space; and -- not a comment\"", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT",
         "with space; and -- not a comment"},
        {"SAVEPOINT \"select\"", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "select"},
        {"SAVEPOINT a$1", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "a$1"},
        {"SAVEPOINT \xc3\xa9t\xc3\xa9", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "\xc3\xa9t\xc3\xa9"},
        /* unreserved keywords are names too */
        {"SAVEPOINT work", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "work"},
        {"SAVEPOINT savepoint", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "savepoint"},
        {"RELEASE SAVEPOINT", PGA_CTL_RELEASE, 0, "RELEASE", "savepoint"},
        {"ROLLBACK TO SAVEPOINT", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "savepoint"},
        {"ROLLBACK TO transaction", PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "transaction"},
        {"RELEASE SAVEPOINT savepoint", PGA_CTL_RELEASE, 0, "RELEASE", "savepoint"},
        /* 63 bytes is the longest name the server keeps whole */
        {"SAVEPOINT a23456789012345678901234567890123456789012345678901234567890123",
         PGA_CTL_SAVEPOINT, 0, "SAVEPOINT",
         "a23456789012345678901234567890123456789012345678901234567890123"},
    };
    CHECK_ALL(t);
}

/* ^blanks and comments may surround and separate the words, and ^one ';'
 * may end the statement. */
TEST(sqlclass_blanks_comments_semicolon)
{
    static const want t[] = {
        {"  \n\tBEGIN \r\n", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"-- lead\nBEGIN -- trail", PGA_CTL_BEGIN, 0, "BEGIN", ""},
        {"/* a /* nested */ one */ ROLLBACK /**/ TO /* x */ SAVEPOINT/**/b ; -- done",
         PGA_CTL_ROLLBACK_TO, 0, "ROLLBACK", "b"},
        {"SAVEPOINT\"q\";", PGA_CTL_SAVEPOINT, 0, "SAVEPOINT", "q"},
        {"COMMIT ;  ", PGA_CTL_COMMIT, 0, "COMMIT", ""},
        {"BEGIN ISOLATION/**/LEVEL\nSERIALIZABLE", PGA_CTL_BEGIN, SER, "BEGIN", ""},
    };
    CHECK_ALL(t);
}

/* ^When several modes of one kind are given, the last wins. */
TEST(sqlclass_last_mode_wins)
{
    static const want t[] = {
        {"BEGIN ISOLATION LEVEL SERIALIZABLE ISOLATION LEVEL READ COMMITTED READ ONLY READ WRITE",
         PGA_CTL_BEGIN, PGA_ISO_READ_COMMITTED | PGA_READ_WRITE, "BEGIN", ""},
        {"SET TRANSACTION DEFERRABLE, NOT DEFERRABLE", PGA_CTL_SET_TRANSACTION,
         PGA_NOT_DEFERRABLE, "SET", ""},
    };
    CHECK_ALL(t);
}

/* ^Everything else is PGA_CTL_NONE. */
TEST(sqlclass_near_misses_pass_through)
{
    static const char *const none[] = {
        NULL, "", " ", ";", "-- only a comment", "SELECT 1", "BEGIN; SELECT 1", "BEGIN;;",
        "COMMIT; BEGIN", "SAVEPOINT a; RELEASE a", "BEGIN ISOLATION LEVEL FOO",
        "BEGIN ISOLATION LEVEL", "BEGIN ISOLATION SERIALIZABLE", "BEGIN READ", "BEGIN NOT",
        "BEGIN ,READ ONLY", "BEGIN READ ONLY,", "BEGIN READ ONLY,,DEFERRABLE",
        "BEGIN WORK TRANSACTION", "BEGIN TRANSACTION WORK", "BEGIN (READ ONLY)", "START",
        "START WORK", "SET TRANSACTION", "SET TRANSACTION SNAPSHOT '00000003-0000001B-1'",
        "SET LOCAL TRANSACTION READ ONLY", "SET SESSION TRANSACTION READ ONLY",
        "SAVEPOINT", "SAVEPOINT a b", "SAVEPOINT select", "SAVEPOINT to", "SAVEPOINT \"\"",
        "SAVEPOINT 1", "SAVEPOINT $1", "SAVEPOINT 'a'", "SAVEPOINT a.b", "SAVEPOINT U&\"a\"",
        "SAVEPOINT \"unterminated", "SAVEPOINT \"a\"\"", "SAVEPOINT a /* unterminated",
        "SAVEPOINT a /* /*/ */", "SAVEPOINT \xff", "SAVEPOINT a -- ok\n\xc3",
        /* 64 bytes: the server would truncate it */
        "SAVEPOINT a234567890123456789012345678901234567890123456789012345678901234",
        "RELEASE", "RELEASE SAVEPOINT a b", "RELEASE TO a", "ROLLBACK TO", "ROLLBACK TO a b",
        "ROLLBACK TO SAVEPOINT a b", "ROLLBACK WORK TRANSACTION", "ROLLBACK AND CHAIN",
        "ROLLBACK AND NO CHAIN", "COMMIT AND CHAIN", "COMMIT AND NO CHAIN", "END AND CHAIN",
        "COMMIT WORK PREPARED 'a'", "ABORT TO a", "END PREPARED 'a'",
        "PREPARE TRANSACTION", "PREPARE TRANSACTION g", "PREPARE TRANSACTION \"g\"",
        "PREPARE TRANSACTION E'g'", "PREPARE TRANSACTION $$g$$", "PREPARE TRANSACTION 'a\\b'",
        "PREPARE TRANSACTION 'a'\n'b'", "PREPARE TRANSACTION ''", "PREPARE TRANSACTION 'open",
        "PREPARE foo AS SELECT 1", "COMMIT PREPARED", "ROLLBACK PREPARED 1",
        "COMMIT PREPARED 'a' 'b'", "commitx", "BEGINS", "SAVEPOINTS a",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        pga_control c;
        int kind = pga_sql_classify(none[i], &c);
        if (kind != PGA_CTL_NONE || c.kind != PGA_CTL_NONE || c.tag == NULL || c.tag[0] != '\0'
            || c.name[0] != '\0' || c.modes != 0) {
            test_fail(__FILE__, __LINE__, "[%s]: classified as %d, want PGA_CTL_NONE",
                      none[i] ? none[i] : "(null)", kind);
            return;
        }
    }
}

/* A gid of PGA_GID_MAX bytes is the longest the server takes. */
TEST(sqlclass_gid_length_limit)
{
    char sql[512], gid[PGA_GID_MAX + 2];
    pga_control c;
    memset(gid, 'g', PGA_GID_MAX);
    gid[PGA_GID_MAX] = '\0';
    snprintf(sql, sizeof(sql), "PREPARE TRANSACTION '%s'", gid);
    ASSERT_EQ_INT(PGA_CTL_PREPARE, pga_sql_classify(sql, &c));
    ASSERT_EQ_STR(gid, c.name);
    gid[PGA_GID_MAX] = 'g';
    gid[PGA_GID_MAX + 1] = '\0';
    snprintf(sql, sizeof(sql), "COMMIT PREPARED '%s'", gid);
    ASSERT_EQ_INT(PGA_CTL_NONE, pga_sql_classify(sql, &c));
}
