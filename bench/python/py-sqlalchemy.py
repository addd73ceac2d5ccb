"""py-sqlalchemy -- SQLAlchemy 2 Core on psycopg 3 (postgresql+psycopg):
``engine.begin()`` blocks, ``conn.begin_nested()`` savepoints, ``text()``
statements.  A read is ``with engine.connect()``, the Core idiom (SQLAlchemy
has no statement outside a transaction: it begins one and rolls it back
when the connection returns to the pool)."""

from sqlalchemy import URL, create_engine, text

from common import accounts, main

INSERT = text("INSERT INTO bench_items (v) VALUES (:v)")
DEBIT = text("UPDATE bench_accounts SET b = b - :amount WHERE id = :id")
CREDIT = text("UPDATE bench_accounts SET b = b + :amount WHERE id = :id")
SELECT = text("SELECT id, b FROM bench_accounts WHERE id = :id")


def make(opts):
    url = URL.create("postgresql+psycopg", username=opts.user, database=opts.dbname,
                     query={"host": opts.host, "port": str(opts.port)})
    engine = create_engine(url, pool_size=1, max_overflow=0)

    def insert(i):
        with engine.begin() as conn:
            conn.execute(INSERT, {"v": i})

    def transfer(i):
        src, dst = accounts(i)
        with engine.begin() as conn:
            conn.execute(DEBIT, {"amount": 1, "id": src})
            conn.execute(CREDIT, {"amount": 1, "id": dst})

    def nested(i):
        with engine.begin() as conn:
            conn.execute(INSERT, {"v": i})
            with conn.begin_nested():
                conn.execute(INSERT, {"v": i})

    def empty(i):
        with engine.begin():
            pass

    def ten(i):
        with engine.begin() as conn:
            for _ in range(10):
                conn.execute(INSERT, {"v": i})

    def select(i):
        with engine.connect() as conn:
            conn.execute(SELECT, {"id": accounts(i)[0]}).fetchone()

    return {"insert": insert, "transfer": transfer, "nested": nested,
            "empty": empty, "ten": ten, "select": select}


if __name__ == "__main__":
    main("py-sqlalchemy", make)
