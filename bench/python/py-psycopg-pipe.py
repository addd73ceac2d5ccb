"""py-psycopg-pipe -- psycopg 3's pipeline mode as its users write it
around a transaction: ``with conn.pipeline(): with conn.transaction():``
(psycopg's documentation, "Pipeline mode"), statements not read before
the block ends.  Its transaction block syncs at entry and at exit, so this
costs more round trips than psycopg without a pipeline
(research/performance.md §2a)."""

import psycopg

from common import accounts, main

INSERT = "INSERT INTO bench_items (v) VALUES (%s)"
DEBIT = "UPDATE bench_accounts SET b = b - %s WHERE id = %s"
CREDIT = "UPDATE bench_accounts SET b = b + %s WHERE id = %s"
SELECT = "SELECT id, b FROM bench_accounts WHERE id = %s"


def make(opts):
    conn = psycopg.connect(opts.conninfo, autocommit=True)

    def insert(i):
        with conn.pipeline(), conn.transaction():
            conn.execute(INSERT, (i,))

    def transfer(i):
        src, dst = accounts(i)
        with conn.pipeline(), conn.transaction():
            conn.execute(DEBIT, (1, src))
            conn.execute(CREDIT, (1, dst))

    def nested(i):
        with conn.pipeline(), conn.transaction():
            conn.execute(INSERT, (i,))
            with conn.transaction():
                conn.execute(INSERT, (i,))

    def empty(i):
        with conn.pipeline(), conn.transaction():
            pass

    def ten(i):
        with conn.pipeline(), conn.transaction():
            for _ in range(10):
                conn.execute(INSERT, (i,))

    def select(i):
        with conn.pipeline():
            cur = conn.execute(SELECT, (accounts(i)[0],))
        cur.fetchone()

    return {"insert": insert, "transfer": transfer, "nested": nested,
            "empty": empty, "ten": ten, "select": select}


if __name__ == "__main__":
    main("py-psycopg-pipe", make)
