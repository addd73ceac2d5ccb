"""py-pgatomic-pipe -- py-pgatomic's shapes in pipelined transactions,
``with atomic(pipeline=True):``, reading nothing before COMMIT: each
transaction costs one round trip (docs/pipeline.md)."""

import pgatomic
from pgatomic import atomic

from common import SQL_CREDIT, SQL_DEBIT, SQL_INSERT, SQL_SELECT, accounts, main


def make(opts):
    pgatomic.configure(default=opts.conninfo)
    connection = pgatomic.connection
    execute = connection.execute
    pipelined = atomic(pipeline=True)

    def insert(i):
        with pipelined:
            execute(SQL_INSERT, (i,))

    def transfer(i):
        src, dst = accounts(i)
        with pipelined:
            execute(SQL_DEBIT, (1, src))
            execute(SQL_CREDIT, (1, dst))

    def nested(i):
        with pipelined:
            execute(SQL_INSERT, (i,))
            with atomic():
                execute(SQL_INSERT, (i,))

    def empty(i):
        with pipelined:
            pass

    def ten(i):
        with pipelined:
            for _ in range(10):
                execute(SQL_INSERT, (i,))

    def select(i):
        execute(SQL_SELECT, (accounts(i)[0],)).fetchone()

    return {"insert": insert, "transfer": transfer, "nested": nested,
            "empty": empty, "ten": ten, "select": select}


if __name__ == "__main__":
    main("py-pgatomic-pipe", make)
