"""py-pgatomic -- the shapes with pgatomic's Django-style API: the default
alias, ``with atomic():`` blocks and ``connection.execute()``."""

import pgatomic
from pgatomic import atomic

from common import SQL_CREDIT, SQL_DEBIT, SQL_INSERT, SQL_SELECT, accounts, main


def make(opts):
    pgatomic.configure(default=opts.conninfo)
    connection = pgatomic.connection
    execute = connection.execute

    def insert(i):
        with atomic():
            execute(SQL_INSERT, (i,))

    def transfer(i):
        src, dst = accounts(i)
        with atomic():
            execute(SQL_DEBIT, (1, src))
            execute(SQL_CREDIT, (1, dst))

    def nested(i):
        with atomic():
            execute(SQL_INSERT, (i,))
            with atomic():
                execute(SQL_INSERT, (i,))

    def empty(i):
        with atomic():
            pass

    def ten(i):
        with atomic():
            for _ in range(10):
                execute(SQL_INSERT, (i,))

    def select(i):
        execute(SQL_SELECT, (accounts(i)[0],)).fetchone()

    return {"insert": insert, "transfer": transfer, "nested": nested,
            "empty": empty, "ten": ten, "select": select}


if __name__ == "__main__":
    main("py-pgatomic", make)
