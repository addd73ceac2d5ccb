"""orm-sqlalchemy -- SQLAlchemy 2's ORM on the driver SA_BENCH_DRIVER names
(psycopg, SQLAlchemy's own psycopg 3 dialect; or pgatomic): the same models,
Session and statements, only the URL's driver differing.  Started by
bench/orm.py (`bash bench/run.sh sqlalchemy`); one JSON line out
(bench/python/common.py).

Each transaction is `with Session(engine) as s, s.begin():`, the pool
holding one connection:
  insert       s.add(Item(v=i))                       (INSERT ... RETURNING id)
  transfer     two ORM-enabled UPDATEs (debit, credit)
  nested       INSERT; with s.begin_nested(): INSERT
  nested_fail  INSERT; with s.begin_nested(): INSERT of an existing key,
               its IntegrityError caught; the outer transaction commits
  empty        nothing in the block
"""

import os

from sqlalchemy import URL, BigInteger, Integer, MetaData, create_engine, exc, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from common import N_ACCOUNTS, accounts, main

SCHEMA = "bench_orm_sqlalchemy"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class Item(Base):
    __tablename__ = "bench_items"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    v: Mapped[int] = mapped_column(Integer)


class Account(Base):
    __tablename__ = "bench_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    b: Mapped[int] = mapped_column(BigInteger)


SHAPES = ("insert", "transfer", "nested", "nested_fail", "empty")
DRIVER = os.environ.get("SA_BENCH_DRIVER", "pgatomic")


def maker(driver):
    def make(opts):
        url = URL.create("postgresql+" + driver, username=opts.user, database=opts.dbname,
                         query={"host": opts.host, "port": str(opts.port)})
        engine = create_engine(url, pool_size=1, max_overflow=0)
        # Tables of its own, the same for both drivers: accounts 1..N,
        # items emptied before every client's run.
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS " + SCHEMA))
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {SCHEMA}.bench_items"))
            conn.execute(text(f"INSERT INTO {SCHEMA}.bench_accounts SELECT g, 1000000 "
                              f"FROM generate_series(1, {N_ACCOUNTS}) g ON CONFLICT DO NOTHING"))

        def insert(i):
            with Session(engine) as s, s.begin():
                s.add(Item(v=i))

        def transfer(i):
            src, dst = accounts(i)
            with Session(engine) as s, s.begin():
                s.execute(update(Account).where(Account.id == src).values(b=Account.b - 1))
                s.execute(update(Account).where(Account.id == dst).values(b=Account.b + 1))

        def nested(i):
            with Session(engine) as s, s.begin():
                s.add(Item(v=i))
                with s.begin_nested():
                    s.add(Item(v=i))

        def nested_fail(i):
            with Session(engine) as s, s.begin():
                s.add(Item(v=i))
                try:
                    with s.begin_nested():
                        s.add(Account(id=accounts(i)[0], b=0))    # the key exists
                except exc.IntegrityError:
                    pass

        def empty(i):
            with Session(engine) as s, s.begin():
                pass

        return {"insert": insert, "transfer": transfer, "nested": nested,
                "nested_fail": nested_fail, "empty": empty}
    return make


if __name__ == "__main__":
    main("sqlalchemy-" + DRIVER, maker(DRIVER), shapes=SHAPES)
