"""Issue 6's round-trip table counted on the wire by the proxy, not by the
core's own counter: a regression in the plan fails here even if the
counter were wrong too.  Blocking and asyncio alike (flavours.py)."""

import pytest

import pgatomic

from faultlib import Proxy


@pytest.fixture(scope="module")
def proxy():
    p = Proxy()
    yield p
    p.close()


@pytest.fixture
def wire(proxy):
    """The default alias through the proxy; count(api, body) runs body after
    a first statement has connected it, counters at zero."""
    pgatomic.configure(default=proxy.dsn())

    async def count(api, body):
        await api.execute("SELECT 1")
        assert proxy.command("reset") == "ok"
        await body(api)
        return int(proxy.stats()["round_trips"])
    return count


async def insert(api, table):
    async with api.atomic():
        await api.execute(f"INSERT INTO {table} VALUES ($1, 'a')", [5])


async def transfer(api, table):
    async with api.atomic():
        await api.execute(f"UPDATE {table} SET v = v || 'x' WHERE id = $1", [1])
        await api.execute(f"UPDATE {table} SET v = v || 'y' WHERE id = $1", [2])


async def nested(api, table):
    async with api.atomic():
        await api.execute(f"INSERT INTO {table} VALUES ($1, 'a')", [3])
        async with api.atomic():
            await api.execute(f"INSERT INTO {table} VALUES ($1, 'b')", [4])


async def empty(api, table):
    async with api.atomic():
        async with api.atomic():
            pass


@pytest.mark.parametrize("shape, expected", [(insert, 2), (transfer, 3), (nested, 3), (empty, 0)],
                         ids=["insert", "transfer", "nested", "empty"])
async def test_wire_round_trips(api, wire, table, rows, shape, expected):
    direct = pgatomic.connect()
    direct.execute(f"INSERT INTO {table} VALUES (1, ''), (2, '')")
    direct.close()
    assert await wire(api, lambda api: shape(api, table)) == expected
