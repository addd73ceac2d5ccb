"""aio-pgatomic -- the shapes with pgatomic's asyncio API: a connection of
its own per task (``await pgatomic.connect_async()``), ``async with
conn.atomic():`` blocks and ``await conn.execute()``."""

import pgatomic

from aio_common import main
from common import SQL_CREDIT, SQL_DEBIT, SQL_INSERT, accounts


async def connect(opts):
    conn = await pgatomic.connect_async(opts.conninfo)
    execute = conn.execute

    async def insert(i):
        async with conn.atomic():
            await execute(SQL_INSERT, (i,))

    async def transfer(i):
        src, dst = accounts(i)
        async with conn.atomic():
            await execute(SQL_DEBIT, (1, src))
            await execute(SQL_CREDIT, (1, dst))

    async def nested(i):
        async with conn.atomic():
            await execute(SQL_INSERT, (i,))
            async with conn.atomic():
                await execute(SQL_INSERT, (i,))

    async def empty(i):
        async with conn.atomic():
            pass

    return {"insert": insert, "transfer": transfer, "nested": nested, "empty": empty}


if __name__ == "__main__":
    main("aio-pgatomic", connect)
