"""py-dbapi-pipe -- the shapes through pgatomic.dbapi as a psycopg user
writes them in pipeline mode: a manual transaction (autocommit off) inside
``with conn.pipeline():``, ``cursor.execute(...)`` then ``conn.commit()``,
nothing read before the commit: each transaction costs one round trip
(docs/pipeline.md "The DB-API's conn.pipeline()")."""

from pgatomic import dbapi

from common import SQL_CREDIT, SQL_DEBIT, SQL_INSERT, accounts, main


def make(opts):
    conn = dbapi.connect(opts.conninfo)
    # Held for the whole run, as a long-lived pipelined session would be.
    conn.pipeline().__enter__()
    cur = conn.cursor()
    execute, commit = cur.execute, conn.commit

    def insert(i):
        execute(SQL_INSERT, (i,))
        commit()

    def transfer(i):
        src, dst = accounts(i)
        execute(SQL_DEBIT, (1, src))
        execute(SQL_CREDIT, (1, dst))
        commit()

    def nested(i):
        execute(SQL_INSERT, (i,))
        with conn.atomic():
            execute(SQL_INSERT, (i,))
        commit()

    def empty(i):
        commit()

    def ten(i):
        for _ in range(10):
            execute(SQL_INSERT, (i,))
        commit()

    return {"insert": insert, "transfer": transfer, "nested": nested,
            "empty": empty, "ten": ten}


if __name__ == "__main__":
    main("py-dbapi-pipe", make)
