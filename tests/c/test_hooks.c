/* test_hooks.c -- commit hooks: handed back in registration order after the
 * outermost COMMIT, dropped with the savepoint or transaction they were
 * registered under. */
#include <stdint.h>

#include "harness.h"

typedef struct log {
    char text[64];
    int destroyed;
} log_t;

static void append(void *data)
{
    (void)data;
}

static void count_destroy(void *data)
{
    ((log_t *)data)->destroyed++;
}

static int add(pga_conn *c, log_t *log, intptr_t tag)
{
    (void)log;
    pga_hook h = {append, (void *)tag, NULL};
    return pga_hook_add(c, &h);
}

/* Drain the ready hooks into text: "r1 d2" = 1 to run, 2 dropped. */
static void drain(pga_conn *c, log_t *log)
{
    pga_hook h;
    int disp;
    size_t n = strlen(log->text);
    while ((disp = pga_hook_next(c, &h)) != 0) {
        n += (size_t)snprintf(log->text + n, sizeof(log->text) - n, "%s%c%ld",
                              n ? " " : "", disp == PGA_HOOK_RUN ? 'r' : 'd', (long)(intptr_t)h.data);
    }
}

TEST(hooks_run_in_order_after_commit)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_HOOK_NOW, add(c, &log, 9));     /* no transaction: now */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 2));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 3));
    drain(c, &log);
    ASSERT_EQ_STR("", log.text);                       /* nothing before COMMIT */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    drain(c, &log);
    ASSERT_EQ_STR("r1 r2 r3", log.text);
    pga_conn_free(c);
}

TEST(hooks_of_rolled_back_savepoint_are_dropped)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));      /* kept: released */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));      /* 2 and 3 dropped */
    drain(c, &log);
    ASSERT_EQ_STR("d2 d3", log.text);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 4));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    drain(c, &log);
    ASSERT_EQ_STR("d2 d3 r1 r4", log.text);
    pga_conn_free(c);
}

TEST(hooks_of_rolled_back_transaction_are_dropped)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));     /* merged */
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    drain(c, &log);
    ASSERT_EQ_STR("", log.text);                       /* merged: still pending */
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));      /* needs rollback */
    drain(c, &log);
    ASSERT_EQ_STR("d1 d2", log.text);
    pga_conn_free(c);
}

TEST(hooks_in_manual_mode)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));
    ASSERT_EQ_INT(PGA_EMANUAL, add(c, &log, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    drain(c, &log);
    ASSERT_EQ_STR("", log.text);
    ASSERT_EQ_INT(PGA_OK, pga_commit(c));
    drain(c, &log);
    ASSERT_EQ_STR("r2", log.text);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 1));
    pga_conn_free(c);
}

TEST(hooks_still_held_are_destroyed_by_free)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    pga_hook h = {append, &log, count_destroy};
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_hook_add(c, &h));
    ASSERT_EQ_INT(PGA_OK, pga_hook_add(c, &h));
    pga_conn_free(c);
    ASSERT_EQ_INT(2, log.destroyed);
}

TEST(hook_added_at_outer_depth_survives_inner_rollback)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    pga_hook h1 = {append, (void *)(intptr_t)1, NULL};
    pga_hook h2 = {append, (void *)(intptr_t)2, NULL};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_hook_add_at(c, 3, &h1));
    ASSERT_EQ_INT(PGA_EMISUSE, pga_hook_add_at(c, 0, &h1));
    ASSERT_EQ_INT(PGA_OK, pga_hook_add_at(c, 1, &h1));   /* the root's */
    ASSERT_EQ_INT(PGA_OK, pga_hook_add(c, &h2));         /* the savepoint's */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));
    drain(c, &log);
    ASSERT_EQ_STR("d2", log.text);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    drain(c, &log);
    ASSERT_EQ_STR("d2 r1", log.text);
    pga_conn_free(c);
}

TEST(hooks_of_released_savepoint_follow_their_parent)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 3));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));        /* released: 3 -> depth 2 */
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 2));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 1));        /* depth 2 rolls back */
    drain(c, &log);
    ASSERT_EQ_STR("d3 d2", log.text);
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    pga_conn_free(c);
}

/* A block holding one hook, left successfully. */
static int hook_in_block(pga_conn *c, log_t *log, intptr_t tag)
{
    int rc = pga_atomic_enter(c, PGA_SAVEPOINT);
    if (rc == PGA_OK) {
        rc = add(c, log, tag);
        int exit_rc = pga_atomic_exit(c, rc != PGA_OK);
        rc = rc != PGA_OK ? rc : exit_rc;
    }
    return rc;
}

/* A transaction begun as SQL ends as SQL: its hooks run after the server's
 * COMMIT and are dropped after a ROLLBACK (or a COMMIT the server answered
 * with ROLLBACK), never kept for a later transaction. */
TEST(hooks_of_raw_begin_follow_raw_commit_or_rollback)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_EMANUAL, add(c, &log, 9));      /* no block: nowhere to keep it */
    ASSERT_EQ_INT(PGA_OK, hook_in_block(c, &log, 1));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK", NULL, NULL));
    drain(c, &log);
    ASSERT_EQ_STR("d1", log.text);
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, hook_in_block(c, &log, 2));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT", NULL, NULL));
    drain(c, &log);
    ASSERT_EQ_STR("d1 r2", log.text);
    /* A COMMIT of a failed transaction is a ROLLBACK. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, hook_in_block(c, &log, 3));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT", NULL, NULL));
    drain(c, &log);
    ASSERT_EQ_STR("d1 r2 d3", log.text);
    /* AND CHAIN ends one transaction and opens the next at once. */
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "BEGIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, hook_in_block(c, &log, 4));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK AND CHAIN", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, hook_in_block(c, &log, 5));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "COMMIT", NULL, NULL));
    drain(c, &log);
    ASSERT_EQ_STR("d1 r2 d3 d4 r5", log.text);
    pga_conn_free(c);
}

TEST(hooks_in_manual_mode_follow_raw_rollback)
{
    pga_conn *c = test_connect();
    log_t log = {{0}, 0};
    ASSERT(c != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_enter(c, PGA_SAVEPOINT));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, add(c, &log, 1));
    ASSERT_EQ_INT(PGA_OK, pga_atomic_exit(c, 0));
    ASSERT_EQ_INT(PGA_OK, pga_query(c, "ROLLBACK", NULL, NULL));
    drain(c, &log);
    ASSERT_EQ_STR("d1", log.text);
    ASSERT_EQ_INT(PGA_OK, pga_conn_set_autocommit(c, 1));
    pga_conn_free(c);
}
