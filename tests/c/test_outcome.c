/* test_outcome.c -- how a block ended, as the core reports it
 * (pga_atomic_outcome), and which failures carry the server's facts
 * (pga_conn_error_facts), so no front end infers either. */
#include "harness.h"

static pga_conn *fresh(void)
{
    if (test_exec("DROP TABLE IF EXISTS oc_t; CREATE TABLE oc_t (id int PRIMARY KEY, "
                  "c int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        != PGA_OK) {
        return NULL;
    }
    return test_connect();
}

static pga_outcome outcome(pga_conn *c)
{
    pga_outcome o;
    pga_atomic_outcome(c, &o);
    return o;
}

#define ASSERT_OUTCOME(c, state_, unasked_)                                 \
    do {                                                                    \
        pga_outcome o_ = outcome(c);                                        \
        ASSERT_EQ_INT((state_), o_.state);                                  \
        ASSERT_EQ_INT((unasked_), o_.unasked);                              \
    } while (0)

/* ^Fills *out with the last outcome: committed, released, nothing sent. */
TEST(outcome_committed_released_nothing_sent)
{
    pga_conn *c = fresh();
    ASSERT(c != NULL);
    ASSERT_OUTCOME(c, PGA_OUTCOME_NONE, 0);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (2)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_RELEASED, 0);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_NOTHING_SENT, 0);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_OUTCOME(c, PGA_OUTCOME_NOTHING_SENT, 0);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_COMMITTED, 0);
    ASSERT_EQ_INT(0, outcome(c).cause);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_outcome_cause(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_NOTHING_SENT, 0);
    pga_conn_free(c);
}

/* A block that failed and rolled back as asked, and one that rolled back
 * though asked to commit: the error that broke it is the cause, the very
 * one reported earlier (same pga_conn_error_seq()). */
TEST(outcome_rolled_back_asked_or_not)
{
    pga_conn *c = fresh();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 0);

    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "INSERT INTO oc_t VALUES (1)", NULL, NULL));
    uint64_t seq = pga_conn_error_seq(c);
    ASSERT(seq != 0);
    ASSERT_EQ_INT(PGA_FACTS_OWN, pga_conn_error_facts(c, PGA_ESERVER));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(seq, pga_conn_error_seq(c));             /* the same error, again */
    ASSERT_EQ_INT(PGA_FACTS_CAUSE, pga_conn_error_facts(c, PGA_EBROKEN));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));           /* the caller caught it */
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 1);
    ASSERT_EQ_INT(seq, outcome(c).cause);
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_outcome_cause(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(seq, pga_conn_error_seq(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_COMMITTED, 0);            /* the savepoint undid it */

    /* set_rollback: rolled back though asked to commit, without a cause */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (5)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_set_rollback(c, 1));
    ASSERT_EQ_INT(PGA_EBROKEN, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_FACTS_NONE, pga_conn_error_facts(c, PGA_EBROKEN));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 1);
    ASSERT_EQ_INT(0, outcome(c).cause);
    pga_conn_free(c);
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM oc_t"));
}

/* A COMMIT that fails (a deferred constraint) rolls back; the outcome's
 * cause is the COMMIT's error. */
TEST(outcome_failed_commit_is_rolled_back)
{
    pga_conn *c = fresh();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (1, 7), (2, 7)", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_exit(c, 0));
    uint64_t seq = pga_conn_error_seq(c);
    ASSERT_EQ_INT(PGA_FACTS_OWN, pga_conn_error_facts(c, PGA_ESERVER));
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 1);
    ASSERT_EQ_INT(seq, outcome(c).cause);
    ASSERT_EQ_INT(PGA_ESERVER, pga_atomic_outcome_cause(c));
    ASSERT_EQ_STR("23505", pga_conn_sqlstate(c));
    pga_conn_free(c);
}

/* COMMIT answered with ROLLBACK: its reason is the error that aborted the
 * transaction (^PGA_FACTS_CAUSE after PGA_EROLLEDBACK). */
TEST(outcome_commit_answered_rollback_names_its_reason)
{
    pga_conn *c = fresh();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    uint64_t seq = pga_conn_error_seq(c);
    ASSERT_EQ_INT(PGA_EROLLEDBACK, pga_commit(c));
    ASSERT_EQ_INT(PGA_FACTS_CAUSE, pga_conn_error_facts(c, PGA_EROLLEDBACK));
    ASSERT_EQ_STR("22012", pga_conn_sqlstate(c));
    ASSERT_EQ_INT(seq, pga_conn_error_seq(c));
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 1);
    /* a ROLLBACK TO clears the reason: the transaction is healthy again */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (2)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint(c, "s", NULL));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_savepoint_rollback(c, "s"));
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    ASSERT_OUTCOME(c, PGA_OUTCOME_COMMITTED, 0);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 1));
    pga_conn_free(c);
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM oc_t"));
}

/* ^PGA_FACTS_NONE for the client's own conditions. */
TEST(outcome_error_facts_of_client_conditions)
{
    pga_conn *c = fresh();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_EPARAMCOUNT, pga_query(c, "SELECT $1", NULL, NULL));
    ASSERT_EQ_INT(PGA_FACTS_NONE, pga_conn_error_facts(c, PGA_EPARAMCOUNT));
    ASSERT(pga_conn_error_seq(c) != 0);
    ASSERT_EQ_INT(PGA_ENOATOMIC, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_FACTS_NONE, pga_conn_error_facts(c, PGA_ENOATOMIC));
    ASSERT_EQ_INT(PGA_FACTS_NONE, pga_conn_error_facts(c, PGA_ESERVER));  /* not this failure */
    pga_conn_free(c);
}

/* Prepared, as asked or by PREPARE TRANSACTION as SQL inside the block:
 * never reported as rolled back. */
TEST(outcome_prepared)
{
    pga_conn *c = fresh();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_prepare(c, "oc_asked"));
    ASSERT_OUTCOME(c, PGA_OUTCOME_PREPARED, 0);
    ASSERT_EQ_STR("oc_asked", pga_atomic_outcome_gid(c));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (2)", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_ETXNENDED, pga_query(c, "PREPARE TRANSACTION 'oc_raw'", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_PREPARED, 0);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_PREPARED, 0);
    /* ^the gid written in the SQL, kept though another one ends meanwhile */
    ASSERT_EQ_INT(PGA_OK, pga_rollback_prepared(c, "oc_asked"));
    ASSERT_EQ_STR("oc_raw", pga_atomic_outcome_gid(c));
    ASSERT_EQ_INT(PGA_OK, pga_rollback_prepared(c, "oc_raw"));
    /* ^NULL for any other outcome */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT(pga_atomic_outcome_gid(c) == NULL);
    pga_conn_free(c);
}

/* The transaction ended behind the blocks (a raw COMMIT, a lost or closed
 * session): they report rolled back, never committed; a lost session's
 * error is the cause. */
TEST(outcome_of_a_transaction_that_vanished)
{
    pga_conn *c = fresh();
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (1)", NULL, NULL));
    ASSERT_EQ_INT(PGA_ETXNENDED, pga_query(c, "COMMIT", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 1);

    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (2)", NULL, NULL));
    pga_conn_close(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 1);
    ASSERT_EQ_INT(0, outcome(c).cause);
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect(c, NULL));

    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "INSERT INTO oc_t VALUES (3)", NULL, NULL));
    ASSERT_EQ_INT(PGA_ECONN, pga_query(c, "SELECT pg_terminate_backend(pg_backend_pid())",
                                       NULL, NULL));
    ASSERT_EQ_INT(PGA_FACTS_OWN, pga_conn_error_facts(c, PGA_ECONN));   /* 57P01 */
    uint64_t seq = pga_conn_error_seq(c);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    ASSERT_OUTCOME(c, PGA_OUTCOME_ROLLED_BACK, 0);
    ASSERT_EQ_INT(seq, outcome(c).cause);
    pga_conn_free(c);
    ASSERT_EQ_INT(1, test_scalar_int("SELECT count(*) FROM oc_t"));
}
