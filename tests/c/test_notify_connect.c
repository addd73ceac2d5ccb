/* test_notify_connect.c -- what the server sends outside a statement's
 * rows: notifications (bounded), and the SQLSTATE of a refused
 * connection. */
#include <stdlib.h>

#include "harness.h"

TEST(notifications_are_taken_in_order_after_any_read)
{
    pga_conn *a = test_connect();
    pga_conn *b = test_connect();
    pga_notification n;
    ASSERT(a != NULL && b != NULL);
    ASSERT_EQ_INT(0, pga_notification_next(a, &n));
    ASSERT_EQ_INT(PGA_OK, pga_query(a, "LISTEN pga_ch", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(b, "NOTIFY pga_ch, 'one'; NOTIFY pga_ch", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(b, "NOTIFY pga_ch, 'two'", NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(a, "SELECT 1", NULL, NULL));
    ASSERT_EQ_INT(1, pga_notification_next(a, &n));
    ASSERT_EQ_STR("pga_ch", n.channel);
    ASSERT_EQ_STR("one", n.payload);
    ASSERT(n.pid > 0);
    ASSERT_EQ_INT(1, pga_notification_next(a, &n));
    ASSERT_EQ_STR("", n.payload);
    ASSERT_EQ_INT(1, pga_notification_next(a, &n));
    ASSERT_EQ_STR("two", n.payload);
    ASSERT_EQ_INT(0, pga_notification_next(a, &n));
    ASSERT_EQ_INT(0, (long long)pga_notifications_dropped(a));
    pga_conn_free(a);
    pga_conn_free(b);
}

/* ^At most PGA_NOTIFY_MAX wait on a connection: past that the oldest is
 * dropped and counted.  ^They outlive pga_conn_close(). */
TEST(notifications_nobody_takes_stay_bounded)
{
    char sql[160];
    pga_conn *a = test_connect();
    pga_conn *b = test_connect();
    pga_notification n;
    ASSERT(a != NULL && b != NULL);
    ASSERT_EQ_INT(PGA_OK, pga_query(a, "LISTEN pga_flood", NULL, NULL));
    snprintf(sql, sizeof sql,
             "SELECT count(pg_notify('pga_flood', g::text)) FROM generate_series(1, %d) g",
             PGA_NOTIFY_MAX + 5);
    ASSERT_EQ_INT(PGA_OK, pga_query(b, sql, NULL, NULL));
    ASSERT_EQ_INT(PGA_OK, pga_query(a, "SELECT 1", NULL, NULL));
    pga_conn_close(a);
    ASSERT_EQ_INT(5, (long long)pga_notifications_dropped(a));
    ASSERT_EQ_INT(1, pga_notification_next(a, &n));
    ASSERT_EQ_STR("6", n.payload);
    int taken = 1;
    char last[16] = "";
    while (pga_notification_next(a, &n) == 1) {
        taken++;
        /* Borrowed until the next call, which frees it. */
        snprintf(last, sizeof last, "%s", n.payload);
    }
    ASSERT_EQ_INT(PGA_NOTIFY_MAX, taken);
    ASSERT_EQ_STR("10005", last);
    pga_conn_free(a);
    pga_conn_free(b);
}

/* ^When the server refused the session, pga_conn_sqlstate() gives its
 * SQLSTATE and pga_conn_error_kind() its kind. */
TEST(refused_connection_carries_the_server_sqlstate)
{
    static const struct {
        const char *conninfo, *sqlstate, *words;
    } cases[] = {
        {"dbname=pga_no_such_db", "3D000", "database \"pga_no_such_db\" does not exist"},
        {"user=pga_no_such_role", "28000", "role \"pga_no_such_role\" does not exist"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pga_conn *c = NULL;
        ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
        ASSERT_EQ_INT(PGA_ECONN, pga_conn_connect(c, cases[i].conninfo));
        ASSERT_EQ_STR(cases[i].sqlstate, pga_conn_sqlstate(c));
        ASSERT_EQ_INT(pga_sqlstate_kind(cases[i].sqlstate), pga_conn_error_kind(c));
        /* libpq's usual wording: no code, no LOCATION line. */
        ASSERT(strstr(pga_conn_errmsg(c), cases[i].words) != NULL);
        ASSERT(strstr(pga_conn_errmsg(c), cases[i].sqlstate) == NULL);
        ASSERT(strstr(pga_conn_errmsg(c), "LOCATION") == NULL);
        pga_conn_free(c);
    }
    /* No server answered: no SQLSTATE. */
    pga_conn *c = NULL;
    ASSERT_EQ_INT(PGA_OK, pga_conn_new(&c));
    ASSERT_EQ_INT(PGA_ECONN, pga_conn_connect(c, "host=/nonexistent-pga-dir"));
    ASSERT(pga_conn_sqlstate(c) == NULL);
    /* A session that opened reports errors in libpq's default form. */
    ASSERT_EQ_INT(PGA_OK, pga_conn_connect(c, ""));
    ASSERT_EQ_INT(PGA_ESERVER, pga_query(c, "SELECT 1/0", NULL, NULL));
    ASSERT_EQ_STR("division by zero", pga_conn_errmsg(c));
    pga_conn_free(c);
}
