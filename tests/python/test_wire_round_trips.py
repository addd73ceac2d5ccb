"""Issue 6's round-trip table counted on the wire by the proxy, not by the
core's own counter: a regression in the plan fails here even if the
counter were wrong too."""

import pytest

import pgatomic
from pgatomic import transaction

from faultlib import Proxy


@pytest.fixture(scope="module")
def proxy():
    p = Proxy()
    yield p
    p.close()


@pytest.fixture
def wire(proxy):
    """The default alias through the proxy, connected, counters at zero."""
    pgatomic.configure(default=proxy.dsn())
    conn = pgatomic.connections["default"]
    conn.execute("SELECT 1")

    def count(body):
        assert proxy.command("reset") == "ok"
        body(conn)
        return int(proxy.stats()["round_trips"])
    yield count


def insert(conn, table):
    with transaction.atomic():
        conn.execute(f"INSERT INTO {table} VALUES ($1, 'a')", [5])


def transfer(conn, table):
    with transaction.atomic():
        conn.execute(f"UPDATE {table} SET v = v || 'x' WHERE id = $1", [1])
        conn.execute(f"UPDATE {table} SET v = v || 'y' WHERE id = $1", [2])


def nested(conn, table):
    with transaction.atomic():
        conn.execute(f"INSERT INTO {table} VALUES ($1, 'a')", [3])
        with transaction.atomic():
            conn.execute(f"INSERT INTO {table} VALUES ($1, 'b')", [4])


def empty(conn, table):
    with transaction.atomic():
        with transaction.atomic():
            pass


@pytest.mark.parametrize("shape, expected", [(insert, 2), (transfer, 3), (nested, 3), (empty, 0)],
                         ids=["insert", "transfer", "nested", "empty"])
def test_wire_round_trips(wire, table, rows, shape, expected):
    direct = pgatomic.connect()
    direct.execute(f"INSERT INTO {table} VALUES (1, ''), (2, '')")
    direct.close()
    assert wire(lambda conn: shape(conn, table)) == expected
