/* transfer.c -- the budget transfer of the SQLAlchemy lesson (seed 004) on
 * pgatomic's C API: one transfer that commits, one that fails halfway and
 * is shown rolled back by reading the balances back from the database.
 * The server comes from the PG* variables or the first argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgatomic.h"

static int die(pga_conn *conn, const char *what)
{
    fprintf(stderr, "%s: %s\n", what, pga_conn_errmsg(conn));
    pga_conn_free(conn);
    return 1;
}

static void print_balances(pga_conn *conn, const char *when)
{
    pga_result *res = NULL;
    if (pga_query(conn,
                  "SELECT c.name, c.budget + coalesce(sum(e.amount), 0), count(e.id) "
                  "FROM categories c LEFT JOIN expenses e ON e.category_id = c.id "
                  "GROUP BY c.id ORDER BY c.id", NULL, &res) != PGA_OK) {
        fprintf(stderr, "cannot read balances: %s\n", pga_conn_errmsg(conn));
        return;
    }
    printf("  %s:\n", when);
    for (int i = 0; i < pga_result_nrows(res); i++) {
        printf("    %-14s $%s  (%s expense records)\n", pga_result_text(res, i, 0, NULL),
               pga_result_text(res, i, 1, NULL), pga_result_text(res, i, 2, NULL));
    }
    pga_result_free(res);
}

static int add_expense(pga_conn *conn, pga_params *p, int category, const char *desc, int amount)
{
    pga_params_clear(p);
    pga_params_add_int64(p, 1);
    pga_params_add_int64(p, category);
    pga_params_add_text(p, desc, strlen(desc));
    pga_params_add_int64(p, amount);
    return pga_query(conn, "INSERT INTO expenses (user_id, category_id, description, amount) "
                           "VALUES ($1, $2, $3, $4)", p, NULL);
}

/* transfer_budget(): both expense records or none.  fail_halfway makes
 * the second step fail after the first record was written, as in the
 * lesson's "prove rollback" exercise. */
static int transfer_budget(pga_conn *conn, int from, int to, int amount, int fail_halfway)
{
    pga_params *p = NULL;
    int rc = pga_params_new(&p);
    if (rc != PGA_OK) {
        return rc;
    }
    rc = pga_atomic_enter(conn, 0);
    if (rc == PGA_OK) {
        rc = add_expense(conn, p, from, "Transfer to Entertainment", -amount);
        if (rc == PGA_OK && fail_halfway) {
            printf("  debit written; now failing before the credit (simulated crash)\n");
            rc = PGA_EMISUSE;
        }
        if (rc == PGA_OK) {
            rc = add_expense(conn, p, to, "Transfer from Food", amount);
        }
        /* Leave the block either way: COMMIT on success, ROLLBACK on error. */
        int exit_rc = pga_atomic_exit(conn, rc != PGA_OK);
        if (rc == PGA_OK) {
            rc = exit_rc;
        }
    }
    pga_params_free(p);
    return rc;
}

int main(int argc, char **argv)
{
    pga_conn *conn = NULL;
    if (pga_conn_new(&conn) != PGA_OK) {
        return 1;
    }
    if (pga_conn_connect(conn, argc > 1 ? argv[1] : NULL) != PGA_OK) {
        return die(conn, "connect");
    }
    if (pga_query(conn,
                  "DROP TABLE IF EXISTS expenses, categories, users;"
                  "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);"
                  "CREATE TABLE categories (id int PRIMARY KEY, name text NOT NULL, budget numeric NOT NULL);"
                  "CREATE TABLE expenses (id serial PRIMARY KEY, user_id int REFERENCES users,"
                  " category_id int NOT NULL REFERENCES categories, description text, amount numeric NOT NULL);"
                  "INSERT INTO users VALUES (1, 'Alice');"
                  "INSERT INTO categories VALUES (1, 'Food', 200), (3, 'Entertainment', 50)",
                  NULL, NULL) != PGA_OK) {
        return die(conn, "schema");
    }
    printf("pgatomic C demo: budget transfer (seed 004)\n");
    print_balances(conn, "before");

    printf("\ntransfer_budget(Food -> Entertainment, $100):\n");
    int rc = transfer_budget(conn, 1, 3, 100, 0);
    printf("  %s\n", rc == PGA_OK ? "Transfer succeeded" : pga_conn_errmsg(conn));
    print_balances(conn, "after the committed transfer");

    printf("\ntransfer_budget(Food -> Entertainment, $30), failing halfway:\n");
    rc = transfer_budget(conn, 1, 3, 30, 1);
    printf("  Transfer failed (%s); the block rolled back\n",
           rc == PGA_EMISUSE ? "simulated crash after the debit" : pga_conn_errmsg(conn));
    print_balances(conn, "after the failed transfer (unchanged: no debit without its credit)");

    pga_conn_free(conn);
    return 0;
}
