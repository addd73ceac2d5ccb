"""py-psycopg -- psycopg 3 (the C-accelerated psycopg[binary]) as its
documentation shows it: an autocommit connection, ``with conn.transaction():``
blocks (nested ones are savepoints) and ``conn.execute()``."""

import psycopg

from common import accounts, main

INSERT = "INSERT INTO bench_items (v) VALUES (%s)"
DEBIT = "UPDATE bench_accounts SET b = b - %s WHERE id = %s"
CREDIT = "UPDATE bench_accounts SET b = b + %s WHERE id = %s"
SELECT = "SELECT id, b FROM bench_accounts WHERE id = %s"


def make(opts):
    conn = psycopg.connect(opts.conninfo, autocommit=True)

    def insert(i):
        with conn.transaction():
            conn.execute(INSERT, (i,))

    def transfer(i):
        src, dst = accounts(i)
        with conn.transaction():
            conn.execute(DEBIT, (1, src))
            conn.execute(CREDIT, (1, dst))

    def nested(i):
        with conn.transaction():
            conn.execute(INSERT, (i,))
            with conn.transaction():
                conn.execute(INSERT, (i,))

    def empty(i):
        with conn.transaction():
            pass

    def ten(i):
        with conn.transaction():
            for _ in range(10):
                conn.execute(INSERT, (i,))

    def select(i):
        conn.execute(SELECT, (accounts(i)[0],)).fetchone()

    return {"insert": insert, "transfer": transfer, "nested": nested,
            "empty": empty, "ten": ten, "select": select}


if __name__ == "__main__":
    main("py-psycopg", make)
