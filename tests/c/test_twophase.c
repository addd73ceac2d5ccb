/* test_twophase.c -- two-phase commit against the real server: prepare, see
 * it in pg_prepared_xacts, commit or roll back by gid from a new
 * connection, recover after a client restart, hooks that wait for COMMIT
 * PREPARED, and misuse that is refused and loses nothing.  The same
 * scenario names as tests/python/test_twophase.py and
 * tests/node/twophase.test.js. */
#include <stdint.h>

#include "harness.h"

static void clean(void)
{
    /* Leftovers of an earlier failed run hold the table's locks. */
    pga_conn *c = test_connect();
    pga_result *res = NULL;
    if (c != NULL && pga_query(c, "SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'tp_%'", NULL,
                               &res) == PGA_OK) {
        for (int i = 0; i < pga_result_nrows(res); i++) {
            pga_rollback_prepared(c, pga_result_text(res, i, 0, NULL));
        }
    }
    pga_result_free(res);
    pga_conn_free(c);
    test_exec("DROP TABLE IF EXISTS tp_t; CREATE TABLE tp_t (id int PRIMARY KEY)");
}

static int insert(pga_conn *c, int id)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "INSERT INTO tp_t VALUES (%d)", id);
    return pga_query(c, sql, NULL, NULL);
}

/* How many prepared transactions of this database have this gid. */
static int listed(pga_conn *c, const char *gid)
{
    pga_result *res = NULL;
    int n = 0;
    if (pga_prepared_list(c, &res) != PGA_OK) {
        return -1;
    }
    for (int i = 0; i < pga_result_nrows(res); i++) {
        n += strcmp(pga_result_text(res, i, 0, NULL), gid) == 0;
    }
    pga_result_free(res);
    return n;
}

static int add_hook(pga_conn *c, intptr_t tag)
{
    pga_hook h = {NULL, (void *)tag, NULL};
    return pga_hook_add(c, &h);
}

/* The ready hooks as text: "r1 d2". */
static void ready(pga_conn *c, char *out, size_t cap)
{
    pga_hook h;
    int disp;
    size_t n = 0;
    out[0] = '\0';
    while ((disp = pga_hook_next(c, &h)) != 0 && n < cap) {
        n += (size_t)snprintf(out + n, cap - n, "%s%c%ld", n ? " " : "",
                              disp == PGA_HOOK_RUN ? 'r' : 'd', (long)(intptr_t)h.data);
    }
}

TEST(twophase_prepare_then_commit_from_a_new_connection)
{
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "tp_commit"));
    ASSERT_EQ_INT(0, pga_atomic_depth(c));               /* the block ended with it */
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(1, listed(c, "tp_commit"));
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'tp_commit'"));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM tp_t"));   /* not yet visible */
    pga_conn *other = test_connect();
    ASSERT(other != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_commit_prepared(other, "tp_commit"));
    ASSERT_EQ_INT(0, listed(other, "tp_commit"));
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM tp_t"));
    pga_conn_free(other);
    pga_conn_free(c);
}

TEST(twophase_prepare_then_rollback_from_a_new_connection)
{
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));     /* the DB-API's way */
    ASSERT_EQ_INT(PGA_OK, insert(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "tp_rollback"));
    ASSERT_EQ_INT(0, pga_conn_in_manual_txn(c));
    pga_conn *other = test_connect();
    ASSERT(other != NULL);
    ASSERT_EQ_INT(1, listed(other, "tp_rollback"));
    ASSERT_EQ_INT(PGA_OK, pga_rollback_prepared(other, "tp_rollback"));
    ASSERT_EQ_INT(0, listed(other, "tp_rollback"));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM tp_t"));
    ASSERT_EQ_INT(PGA_ESERVER, pga_commit_prepared(other, "tp_rollback"));   /* gone */
    /* In manual mode listing opens no transaction. */
    ASSERT_EQ_INT(0, listed(c, "tp_rollback"));
    ASSERT_EQ_INT(0, pga_conn_in_manual_txn(c));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    pga_conn_free(other);
    pga_conn_free(c);
}

TEST(twophase_recover_after_a_client_restart)
{
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 7));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "tp_recover"));
    pga_conn_free(c);                                     /* the client goes away */
    c = test_connect();
    ASSERT(c != NULL);
    pga_result *res = NULL;
    ASSERT_EQ_INT(PGA_OK, pga_prepared_list(c, &res));
    ASSERT_EQ_INT(4, pga_result_ncols(res));
    ASSERT_EQ_STR("gid", pga_result_colname(res, 0));
    ASSERT_EQ_STR("database", pga_result_colname(res, 3));
    int found = 0;
    for (int i = 0; i < pga_result_nrows(res); i++) {
        found += strcmp(pga_result_text(res, i, 0, NULL), "tp_recover") == 0;
    }
    pga_result_free(res);
    ASSERT_EQ_INT(1, found);
    ASSERT_EQ_INT(PGA_OK, pga_commit_prepared(c, "tp_recover"));
    ASSERT_EQ_INT(7, test_scalar_int("SELECT sum(id) FROM tp_t"));
    pga_conn_free(c);
}

/* ^inside a savepoint: refused, nothing sent, the transaction goes on. */
TEST(twophase_prepare_inside_a_savepoint_is_refused)
{
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_prepare(c, "tp_none"));      /* ^no transaction */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, insert(c, 2));
    uint64_t before = pga_conn_round_trips(c);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_prepare(c, "tp_sp"));
    ASSERT(strstr(pga_conn_errmsg(c), "savepoint") != NULL);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_prepare(c, ""));              /* ^a bad gid */
    ASSERT_EQ_INT(before, pga_conn_round_trips(c));
    ASSERT_EQ_INT(2, pga_atomic_depth(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(3, test_scalar_int("SELECT sum(id) FROM tp_t"));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'tp_%'"));
    pga_conn_free(c);
}

/* ^42704: no prepared transaction of that gid; ^inside a transaction the
 * end of a prepared one is refused, losing nothing. */
TEST(twophase_unknown_gid_is_an_error)
{
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_ESERVER, pga_commit_prepared(c, "tp_nope"));
    ASSERT_EQ_STR("42704", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(PGA_ESERVER, pga_rollback_prepared(c, "tp_nope"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 1));
    ASSERT_EQ_INT(PGA_EINATOMIC, pga_commit_prepared(c, "tp_nope"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 2));
    ASSERT_EQ_INT(PGA_EINTRANS, pga_rollback_prepared(c, "tp_nope"));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_EQ_INT(3, test_scalar_int("SELECT sum(id) FROM tp_t"));
    pga_conn_free(c);
}

/* ^42710: the gid is in use; the prepared one of that gid is untouched. */
TEST(twophase_reused_gid_is_an_error)
{
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "tp_twice"));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 2));
    ASSERT_EQ_INT(PGA_ESERVER, pga_prepare(c, "tp_twice"));
    ASSERT_EQ_STR("42710", pga_conn_sqlstate(c));
    ASSERT(strstr(pga_conn_errmsg(c), "tp_twice") != NULL);
    ASSERT_EQ_INT(0, pga_atomic_depth(c));
    ASSERT_EQ_INT('I', pga_conn_txn_status(c));
    ASSERT_EQ_INT(1, listed(c, "tp_twice"));
    ASSERT_EQ_INT(PGA_OK, pga_commit_prepared(c, "tp_twice"));
    ASSERT_EQ_INT(1, test_scalar_int("SELECT sum(id) FROM tp_t"));
    pga_conn_free(c);
}

/* ^Hooks wait under the gid: ^run after COMMIT PREPARED succeeds on this
 * connection, ^dropped after ROLLBACK PREPARED; never at PREPARE. */
TEST(twophase_hooks_wait_for_commit_prepared)
{
    char text[64];
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, add_hook(c, 1));
    ASSERT_EQ_INT(PGA_OK, insert(c, 1));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "tp_hooks_a"));
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("", text);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, add_hook(c, 2));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "tp_hooks_b"));      /* empty, prepared all the same */
    ASSERT_EQ_INT(PGA_ESERVER, pga_commit_prepared(c, "tp_hooks_x"));
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("", text);
    ASSERT_EQ_INT(PGA_OK, pga_rollback_prepared(c, "tp_hooks_b"));
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("d2", text);
    ASSERT_EQ_INT(PGA_OK, pga_commit_prepared(c, "tp_hooks_a"));
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("r1", text);
    /* Committed through another connection of the owner's: handed over. */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, add_hook(c, 3));
    ASSERT_EQ_INT(PGA_OK, insert(c, 3));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "tp_hooks_c"));
    pga_conn *other = test_connect();
    ASSERT(other != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_commit_prepared(other, "tp_hooks_c"));
    pga_conn_free(other);
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("", text);
    ASSERT_EQ_INT(PGA_EMISUSE, pga_hook_settle_prepared(c, "tp_hooks_c", 0));
    ASSERT_EQ_INT(PGA_OK, pga_hook_settle_prepared(c, "tp_hooks_c", PGA_HOOK_RUN));
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("r3", text);
    pga_conn_free(c);
    ASSERT_EQ_INT(4, test_scalar_int("SELECT sum(id) FROM tp_t"));
}

/* A transaction that failed is rolled back, never prepared. */
TEST(twophase_failed_transaction_is_not_prepared)
{
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));
    ASSERT_EQ_INT(PGA_OK, insert(c, 1));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    ASSERT_EQ_INT(PGA_EROLLEDBACK, pga_prepare(c, "tp_failed"));
    ASSERT_EQ_INT(0, listed(c, "tp_failed"));
    ASSERT_EQ_INT(0, test_scalar_int("SELECT count(*) FROM tp_t"));
    pga_conn_free(c);
}

/* A PREPARE TRANSACTION sent as SQL inside a block ends the block's
 * transaction (PGA_ETXNENDED, as a raw COMMIT does), but as prepared: its
 * hooks wait for COMMIT PREPARED, they are not dropped. */
TEST(twophase_raw_prepare_inside_a_block_is_prepared)
{
    char text[64];
    clean();
    pga_conn *c = test_connect();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, add_hook(c, 5));
    ASSERT_EQ_INT(PGA_OK, insert(c, 5));
    ASSERT_EQ_INT(PGA_ETXNENDED, pga_query(c, "PREPARE TRANSACTION 'tp_raw'", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("", text);
    ASSERT_EQ_INT(1, listed(c, "tp_raw"));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT PREPARED 'tp_raw'", NULL, NULL));
    ready(c, text, sizeof(text));
    ASSERT_EQ_STR("r5", text);
    pga_conn_free(c);
    ASSERT_EQ_INT(5, test_scalar_int("SELECT sum(id) FROM tp_t"));
}
