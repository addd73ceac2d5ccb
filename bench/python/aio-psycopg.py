"""aio-psycopg -- psycopg 3's AsyncConnection (psycopg[binary]) as its
documentation shows it: an autocommit connection per task, ``async with
conn.transaction():`` blocks (nested ones are savepoints) and ``await
conn.execute()``."""

import psycopg

from aio_common import main
from common import accounts

INSERT = "INSERT INTO bench_items (v) VALUES (%s)"
DEBIT = "UPDATE bench_accounts SET b = b - %s WHERE id = %s"
CREDIT = "UPDATE bench_accounts SET b = b + %s WHERE id = %s"


async def connect(opts):
    conn = await psycopg.AsyncConnection.connect(opts.conninfo, autocommit=True)

    async def insert(i):
        async with conn.transaction():
            await conn.execute(INSERT, (i,))

    async def transfer(i):
        src, dst = accounts(i)
        async with conn.transaction():
            await conn.execute(DEBIT, (1, src))
            await conn.execute(CREDIT, (1, dst))

    async def nested(i):
        async with conn.transaction():
            await conn.execute(INSERT, (i,))
            async with conn.transaction():
                await conn.execute(INSERT, (i,))

    async def empty(i):
        async with conn.transaction():
            pass

    return {"insert": insert, "transfer": transfer, "nested": nested, "empty": empty}


if __name__ == "__main__":
    main("aio-psycopg", connect)
