/* test_wire_round_trips.c -- issue 6's table counted on the wire by the
 * proxy, not by the core's own counter: a regression in the plan fails
 * here even if the counter were wrong too. */
#include <stdlib.h>

#include "harness.h"

typedef int (*shape_fn)(pga_conn *c);

static int q(pga_conn *c, const char *sql)
{
    return pga_query(c, sql, NULL, NULL);
}

static int shape_insert(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (1)");
    return rc ? rc : pga_atomic_exit(c, 0);
}

static int shape_transfer(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b - 1 WHERE id = 1");
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b + 1 WHERE id = 2");
    return rc ? rc : pga_atomic_exit(c, 0);
}

static int shape_nested(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (2)");
    rc = rc ? rc : pga_atomic_enter(c, PGA_SAVEPOINT);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (3)");
    rc = rc ? rc : pga_atomic_exit(c, 0);
    return rc ? rc : pga_atomic_exit(c, 0);
}

/* The same shapes in a pipelined transaction, nothing read before COMMIT:
 * one round trip with BEGIN, SAVEPOINT, RELEASE and COMMIT. */
static int shape_pipeline_transfer(pga_conn *c)
{
    int rc = pga_atomic_enter(c, PGA_PIPELINE);
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b - 1 WHERE id = 1");
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b + 1 WHERE id = 2");
    return rc ? rc : pga_atomic_exit(c, 0);
}

static int shape_pipeline_nested(pga_conn *c)
{
    int rc = pga_atomic_enter(c, PGA_PIPELINE);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (2)");
    rc = rc ? rc : pga_atomic_enter(c, PGA_SAVEPOINT);
    rc = rc ? rc : q(c, "INSERT INTO wr_items VALUES (3)");
    rc = rc ? rc : pga_atomic_exit(c, 0);
    return rc ? rc : pga_atomic_exit(c, 0);
}

/* The DB-API's conn.pipeline(): a manual transaction (autocommit off, its
 * BEGIN implicit) committed with nothing read: BEGIN, both statements and
 * COMMIT in one round trip. */
static int shape_dbapi_pipeline_transfer(pga_conn *c)
{
    int rc = pga_conn_set_autocommit(c, 0);
    rc = rc ? rc : pga_conn_set_pipeline(c, 1);
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b - 1 WHERE id = 1");
    rc = rc ? rc : q(c, "UPDATE wr_acc SET b = b + 1 WHERE id = 2");
    return rc ? rc : pga_commit(c);
}

static int shape_empty(pga_conn *c)
{
    int rc = pga_atomic_enter(c, 0);
    rc = rc ? rc : pga_atomic_enter(c, PGA_SAVEPOINT);
    rc = rc ? rc : pga_atomic_exit(c, 0);
    return rc ? rc : pga_atomic_exit(c, 0);
}

/* Fresh tables, a proxy, and a connection through it (NULL on failure). */
static pga_conn *wire_setup(test_proxy *px)
{
    if (test_exec("DROP TABLE IF EXISTS wr_items, wr_keys, wr_acc;"
                  "CREATE TABLE wr_items (id int);"
                  "CREATE TABLE wr_keys (id int PRIMARY KEY);"
                  "CREATE TABLE wr_acc (id int, b int);"
                  "INSERT INTO wr_acc VALUES (1, 10), (2, 0)") != PGA_OK
        || test_proxy_start(px) != 0) {
        return NULL;
    }
    return test_proxy_connect(px);
}

static void count_shape(shape_fn shape, long expected)
{
    test_proxy px = {0};
    pga_conn *c = wire_setup(&px);
    long trips = -1;
    int rc = -1;
    if (c != NULL && test_proxy_say(&px, "reset\n", NULL, 0) == 0) {
        rc = shape(c);
        trips = test_proxy_round_trips(&px);
    }
    pga_conn_free(c);
    test_proxy_stop(&px);
    ASSERT_EQ_INT(PGA_OK, rc);
    ASSERT_EQ_INT(expected, trips);
}

TEST(wire_insert_block_is_two_round_trips)
{
    count_shape(shape_insert, 2);
}

TEST(wire_transfer_block_is_three_round_trips)
{
    count_shape(shape_transfer, 3);
}

TEST(wire_nested_block_is_three_round_trips)
{
    count_shape(shape_nested, 3);
}

TEST(wire_pipeline_transfer)
{
    count_shape(shape_pipeline_transfer, 1);
}

TEST(wire_pipeline_nested)
{
    count_shape(shape_pipeline_nested, 1);
}

TEST(wire_dbapi_pipeline_transfer)
{
    count_shape(shape_dbapi_pipeline_transfer, 1);
}

TEST(wire_empty_block_is_no_round_trip)
{
    count_shape(shape_empty, 0);
}

/* ---- the same shapes as each ORM sends them, as SQL text, in the SQL
 * control mode (research/orm-integration.md §2): what the driver front
 * ends give every ORM. */

typedef struct orm_sql {
    const char *name;
    const char *begin;
    const char *begin_serializable[2];   /* one statement, or BEGIN then SET TRANSACTION */
    const char *savepoint;
    const char *release;                 /* NULL: never released (Sequelize) */
    const char *rollback_to;
    const char *release_after_rollback;  /* Django, Prisma, psycopg release it too */
    const char *commit;
    int manual;                          /* a PEP 249 driver: BEGIN implicit, commit() in C */
} orm_sql;

static const orm_sql orms[] = {
    {"sequelize", "START TRANSACTION;",
     {"START TRANSACTION;", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;"},
     "SAVEPOINT \"1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1\";", NULL,
     "ROLLBACK TO SAVEPOINT \"1f0e9a42-7c3b-4d2a-9b1e-0c8d7e6f5a4b-sp-1\";", NULL, "COMMIT;", 0},
    {"knex", "BEGIN;", {"BEGIN TRANSACTION ISOLATION LEVEL serializable;", NULL},
     "SAVEPOINT trx3;", "RELEASE SAVEPOINT trx3;", "ROLLBACK TO SAVEPOINT trx3", NULL, "COMMIT;", 0},
    {"kysely", "begin", {"start transaction isolation level serializable", NULL},
     "savepoint \"sp1\"", "release \"sp1\"", "rollback to \"sp1\"", NULL, "commit", 0},
    {"drizzle", "begin", {"begin isolation level serializable", NULL}, "savepoint sp1",
     "release savepoint sp1", "rollback to savepoint sp1", NULL, "commit", 0},
    {"typeorm", "START TRANSACTION",
     {"START TRANSACTION", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"}, "SAVEPOINT typeorm_1",
     "RELEASE SAVEPOINT typeorm_1", "ROLLBACK TO SAVEPOINT typeorm_1", NULL, "COMMIT", 0},
    {"prisma", "BEGIN", {"BEGIN", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"},
     "SAVEPOINT prisma_sp_0", "RELEASE SAVEPOINT prisma_sp_0", "ROLLBACK TO SAVEPOINT prisma_sp_0",
     "RELEASE SAVEPOINT prisma_sp_0", "COMMIT", 0},
    {"django-psycopg", "BEGIN", {"BEGIN ISOLATION LEVEL SERIALIZABLE", NULL},
     "SAVEPOINT \"s139781145897856_x1\"", "RELEASE SAVEPOINT \"s139781145897856_x1\"",
     "ROLLBACK TO SAVEPOINT \"s139781145897856_x1\"", "RELEASE SAVEPOINT \"s139781145897856_x1\"",
     "COMMIT", 0},
    {"sqlalchemy-psycopg", "BEGIN", {"BEGIN ISOLATION LEVEL SERIALIZABLE", NULL},
     "SAVEPOINT sa_savepoint_1", "RELEASE SAVEPOINT sa_savepoint_1",
     "ROLLBACK TO SAVEPOINT sa_savepoint_1", NULL, "COMMIT", 0},
    {"django-dbapi", NULL, {NULL, NULL}, "SAVEPOINT \"s139781145897856_x1\"",
     "RELEASE SAVEPOINT \"s139781145897856_x1\"", "ROLLBACK TO SAVEPOINT \"s139781145897856_x1\"",
     "RELEASE SAVEPOINT \"s139781145897856_x1\"", NULL, 1},
    {"sqlalchemy-dbapi", NULL, {NULL, NULL}, "SAVEPOINT sa_savepoint_1",
     "RELEASE SAVEPOINT sa_savepoint_1", "ROLLBACK TO SAVEPOINT sa_savepoint_1", NULL, NULL, 1},
};

enum { TX_INSERT, TX_TRANSFER, TX_SERIALIZABLE, TX_NESTED, TX_NESTED_FAILING, TX_EMPTY,
       TX_EMPTY_NESTED };

/* Runs one statement; a NULL statement is skipped.  Keeps the first
 * unexpected failure. */
static void say(pga_conn *c, const char *sql, int *rc)
{
    if (sql != NULL && *rc == PGA_OK) {
        *rc = q(c, sql);
    }
}

static int orm_begin(pga_conn *c, const orm_sql *o, int serializable)
{
    int rc = PGA_OK;
    if (o->manual) {
        /* the DB-API's isolation_level attribute, psycopg's model */
        return pga_conn_set_txn_options(c, serializable ? PGA_ISO_SERIALIZABLE : 0);
    }
    if (serializable) {
        say(c, o->begin_serializable[0], &rc);
        say(c, o->begin_serializable[1], &rc);
    }
    else {
        say(c, o->begin, &rc);
    }
    return rc;
}

static int orm_commit(pga_conn *c, const orm_sql *o)
{
    return o->manual ? pga_commit(c) : q(c, o->commit);
}

static int orm_shape(pga_conn *c, const orm_sql *o, int shape, char *isolation, size_t cap)
{
    pga_result *res = NULL;
    int rc = orm_begin(c, o, shape == TX_SERIALIZABLE);
    switch (shape) {
    case TX_INSERT:
        say(c, "INSERT INTO wr_keys VALUES (1)", &rc);
        break;
    case TX_TRANSFER:
        say(c, "UPDATE wr_acc SET b = b - 1 WHERE id = 1", &rc);
        say(c, "UPDATE wr_acc SET b = b + 1 WHERE id = 2", &rc);
        break;
    case TX_SERIALIZABLE:
        if (rc == PGA_OK) {
            rc = pga_query(c, "SELECT current_setting('transaction_isolation')", NULL, &res);
            snprintf(isolation, cap, "%s", rc == PGA_OK ? pga_result_text(res, 0, 0, NULL) : "");
            pga_result_free(res);
        }
        break;
    case TX_NESTED:
        say(c, "INSERT INTO wr_keys VALUES (1)", &rc);
        say(c, o->savepoint, &rc);
        say(c, "INSERT INTO wr_keys VALUES (2)", &rc);
        say(c, o->release, &rc);
        break;
    case TX_NESTED_FAILING:
        say(c, "INSERT INTO wr_keys VALUES (1)", &rc);
        say(c, o->savepoint, &rc);
        /* the inner block's INSERT fails (a duplicate key); the ORM catches
         * it and rolls the savepoint back */
        if (rc == PGA_OK && q(c, "INSERT INTO wr_keys VALUES (1)") != PGA_ESERVER) {
            rc = PGA_EMISUSE;
        }
        say(c, o->rollback_to, &rc);
        say(c, o->release_after_rollback, &rc);
        break;
    case TX_EMPTY_NESTED:
        say(c, o->savepoint, &rc);
        say(c, o->release, &rc);
        break;
    default:
        break;
    }
    return rc == PGA_OK ? orm_commit(c, o) : rc;
}

static void count_orm_shapes(int shape, long expected, const char *rows)
{
    for (size_t i = 0; i < sizeof(orms) / sizeof(orms[0]); i++) {
        const orm_sql *o = &orms[i];
        test_proxy px = {0};
        char isolation[32] = "";
        pga_conn *c = wire_setup(&px);
        long trips = -1;
        int rc = -1;
        if (c != NULL && pga_conn_set_sql_controls(c, 1) == PGA_OK
            && pga_conn_set_autocommit(c, !o->manual) == PGA_OK
            && test_proxy_say(&px, "reset\n", NULL, 0) == 0) {
            rc = orm_shape(c, o, shape, isolation, sizeof(isolation));
            trips = test_proxy_round_trips(&px);
        }
        pga_conn_free(c);
        test_proxy_stop(&px);
        if (rc != PGA_OK || trips != expected) {
            test_fail(__FILE__, __LINE__, "%s: rc %d, %ld round trips, expected %ld", o->name, rc,
                      trips, expected);
            return;
        }
        if (shape == TX_SERIALIZABLE && strcmp(isolation, "serializable") != 0) {
            test_fail(__FILE__, __LINE__, "%s: the transaction ran at %s", o->name, isolation);
            return;
        }
        if (rows != NULL && test_scalar_int("SELECT coalesce(sum(id), 0) FROM wr_keys") != atoi(rows)) {
            test_fail(__FILE__, __LINE__, "%s: wr_keys does not sum to %s", o->name, rows);
            return;
        }
        if (shape == TX_TRANSFER && test_scalar_int("SELECT b FROM wr_acc WHERE id = 2") != 1) {
            test_fail(__FILE__, __LINE__, "%s: the transfer did not commit", o->name);
            return;
        }
    }
}

TEST(wire_orm_sql_insert_block_is_two_round_trips)
{
    count_orm_shapes(TX_INSERT, 2, "1");
}

TEST(wire_orm_sql_transfer_block_is_three_round_trips)
{
    count_orm_shapes(TX_TRANSFER, 3, NULL);
}

TEST(wire_orm_sql_serializable_block_is_two_round_trips)
{
    count_orm_shapes(TX_SERIALIZABLE, 2, NULL);
}

TEST(wire_orm_sql_nested_block_is_three_round_trips)
{
    count_orm_shapes(TX_NESTED, 3, "3");
}

TEST(wire_orm_sql_nested_failing_block_is_three_round_trips)
{
    count_orm_shapes(TX_NESTED_FAILING, 3, "1");
}

TEST(wire_orm_sql_empty_block_is_no_round_trip)
{
    count_orm_shapes(TX_EMPTY, 0, "0");
}

TEST(wire_orm_sql_empty_nested_block_is_no_round_trip)
{
    count_orm_shapes(TX_EMPTY_NESTED, 0, "0");
}
