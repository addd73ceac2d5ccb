"""aio-asyncpg -- asyncpg as its documentation shows it: a connection per
task, ``async with conn.transaction():`` blocks (nested ones are
savepoints) and ``await conn.execute()``."""

import asyncpg

from aio_common import main
from common import SQL_CREDIT, SQL_DEBIT, SQL_INSERT, accounts


async def connect(opts):
    conn = await asyncpg.connect(host=opts.host, port=opts.port, user=opts.user,
                                 database=opts.dbname)

    async def insert(i):
        async with conn.transaction():
            await conn.execute(SQL_INSERT, i)

    async def transfer(i):
        src, dst = accounts(i)
        async with conn.transaction():
            await conn.execute(SQL_DEBIT, 1, src)
            await conn.execute(SQL_CREDIT, 1, dst)

    async def nested(i):
        async with conn.transaction():
            await conn.execute(SQL_INSERT, i)
            async with conn.transaction():
                await conn.execute(SQL_INSERT, i)

    async def empty(i):
        async with conn.transaction():
            pass

    return {"insert": insert, "transfer": transfer, "nested": nested, "empty": empty}


if __name__ == "__main__":
    main("aio-asyncpg", connect)
