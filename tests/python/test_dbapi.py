"""pgatomic.dbapi: PEP 249 on the core -- the module, connections, the C
cursor, psycopg's placeholders, and what the core adds underneath (the
implicit BEGIN riding with the first statement, executemany in one round
trip, a COMMIT answered with ROLLBACK raising)."""

import datetime
import decimal
import os
import threading

import pytest

import pgatomic
from pgatomic import dbapi, errors


def _dsn():
    return os.environ.get("DATABASE_URL") or None


@pytest.fixture
def db():
    c = dbapi.connect(_dsn())
    yield c
    if not c.closed:
        c.rollback()
        c.close()


def trips(conn, body):
    before = conn.round_trips
    body()
    return conn.round_trips - before


# -- the module ----------------------------------------------------------------

def test_dbapi_globals_say_what_is_true():
    assert dbapi.apilevel == "2.0"
    assert dbapi.threadsafety == 1
    assert dbapi.paramstyle == "pyformat"


def test_top_level_module_makes_no_dbapi_claims():
    # pgatomic itself has no cursor: it is not a PEP 249 module.
    for name in ("apilevel", "threadsafety", "paramstyle"):
        assert not hasattr(pgatomic, name)


def test_dbapi_exceptions_are_the_pgatomic_tree():
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
                 "OperationalError", "IntegrityError", "InternalError",
                 "ProgrammingError", "NotSupportedError"):
        assert getattr(dbapi, name) is getattr(errors, name)
    assert issubclass(dbapi.IntegrityError, dbapi.DatabaseError)
    assert issubclass(dbapi.DatabaseError, dbapi.Error)


def test_type_objects_compare_equal_to_their_type_codes(db):
    cur = db.cursor().execute(
        "SELECT 1::int4, 'a'::text, 'b'::varchar, '\\x00'::bytea, now(), 1.5::numeric,"
        " 2::int8, 1::oid, current_date, 1.5::float8")
    codes = [col.type_code for col in cur.description]
    assert codes[0] == dbapi.NUMBER and codes[0] != dbapi.STRING
    assert codes[1] == dbapi.STRING and codes[2] == dbapi.STRING
    assert codes[3] == dbapi.BINARY
    assert codes[4] == dbapi.DATETIME and codes[8] == dbapi.DATETIME
    assert codes[5] == dbapi.NUMBER and codes[6] == dbapi.NUMBER and codes[9] == dbapi.NUMBER
    assert codes[7] == dbapi.ROWID
    assert dbapi.NUMBER != dbapi.STRING and dbapi.NUMBER == dbapi.NUMBER


def test_constructors_round_trip(db):
    values = (dbapi.Date(2024, 2, 29), dbapi.Time(13, 14, 15),
              dbapi.Timestamp(2024, 2, 29, 13, 14, 15), dbapi.Binary(b"\x00\xff"))
    row = db.cursor().execute("SELECT %s, %s, %s, %s", values).fetchone()
    assert row == values
    assert isinstance(dbapi.Binary(bytearray(b"x")), bytes)
    ts = dbapi.TimestampFromTicks(0)
    assert ts.tzinfo is not None and ts.timestamp() == 0
    assert dbapi.DateFromTicks(86400 * 365) == datetime.date.fromtimestamp(86400 * 365)
    assert dbapi.TimeFromTicks(0) == ts.timetz()


# -- connections ---------------------------------------------------------------

def test_connect_starts_outside_autocommit(db):
    assert db.autocommit is False
    assert isinstance(db, pgatomic.Connection)


def test_connect_takes_libpq_keywords():
    env = os.environ
    c = dbapi.connect(host=env.get("PGHOST"), port=env.get("PGPORT"),
                      dbname=env.get("PGDATABASE"), user=env.get("PGUSER"))
    try:
        assert c.cursor().execute("SELECT current_database()").fetchone()[0] == \
            env.get("PGDATABASE", env.get("PGUSER"))
    finally:
        c.close()


def test_connect_merges_keywords_into_the_dsn_as_psycopg_does():
    assert dbapi.make_conninfo("host=a port=1", port=2, dbname=None) == "host='a' port='2'"
    merged = dbapi.make_conninfo("postgresql://u@h:5/db", application_name="it's")
    assert "user='u'" in merged and "host='h'" in merged and "port='5'" in merged
    assert "application_name='it\\'s'" in merged
    assert dbapi.make_conninfo("postgresql:///db") == "postgresql:///db"


def test_connect_refuses_a_bad_dsn_without_showing_it():
    with pytest.raises(dbapi.ProgrammingError) as info:
        dbapi.make_conninfo("postgresql://u:s3cr%zzet@h/db", port=5)
    assert "s3cr" not in str(info.value)


def test_autocommit_is_settable_between_transactions(db, table, rows):
    db.autocommit = True
    db.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert rows(table) == [(1, "a")]
    db.autocommit = False
    db.cursor().execute(f"INSERT INTO {table} VALUES (2, 'b')")
    with pytest.raises(pgatomic.ProgrammingError):
        db.autocommit = True            # a transaction is open
    db.rollback()
    db.autocommit = True
    assert rows(table) == [(1, "a")]


def test_context_manager_commits_then_closes(table, rows):
    with dbapi.connect(_dsn()) as c:
        c.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert c.closed
    assert rows(table) == [(1, "a")]


def test_context_manager_rolls_back_on_exception(table, rows):
    with pytest.raises(ZeroDivisionError):
        with dbapi.connect(_dsn()) as c:
            c.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
            1 / 0
    assert c.closed
    assert rows(table) == []


def test_connection_may_move_between_threads(db):
    # Connection pools hand a connection from thread to thread.
    out = []
    t = threading.Thread(target=lambda: out.append(
        db.cursor().execute("SELECT 41 + 1").fetchone()[0]))
    t.start()
    t.join()
    assert out == [42]


def test_connection_execute_returns_a_cursor(db):
    cur = db.execute("SELECT %s::int", (5,))
    assert isinstance(cur, dbapi.Cursor)
    assert cur.fetchall() == [(5,)]


def test_atomic_blocks_work_on_a_dbapi_connection(db, table, rows):
    db.autocommit = True
    with pgatomic.atomic(using=db):
        db.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
        with pytest.raises(pgatomic.IntegrityError):
            with pgatomic.atomic(using=db):
                db.cursor().execute(f"INSERT INTO {table} VALUES (1, 'dup')")
    assert rows(table) == [(1, "a")]


# -- what the core adds underneath ---------------------------------------------

def test_implicit_begin_rides_with_the_first_statement(db, table, rows):
    cur = db.cursor()
    cur.execute("SELECT 1")
    db.commit()

    def body():
        cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "a"))   # BEGIN + INSERT
        db.commit()                                                     # COMMIT
    assert trips(db, body) == 2
    assert rows(table) == [(1, "a")]


def test_commit_and_rollback_of_nothing_send_nothing(db):
    db.cursor().execute("SELECT 1")
    db.commit()

    def body():
        db.commit()
        db.rollback()
    assert trips(db, body) == 0


def test_executemany_is_one_round_trip_in_a_transaction(db, table, rows):
    cur = db.cursor()
    cur.execute("SELECT 1")

    def body():
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)",
                        [(i, str(i)) for i in range(50)])
    assert trips(db, body) == 1
    assert cur.rowcount == 50
    db.commit()
    assert len(rows(table)) == 50


def test_executemany_stops_at_the_first_failure(db, table, rows):
    cur = db.cursor()
    with pytest.raises(pgatomic.UniqueViolation):
        cur.executemany(f"INSERT INTO {table} VALUES (%(id)s, %(v)s)",
                        [{"id": 1, "v": "a"}, {"id": 1, "v": "dup"}, {"id": 2, "v": "b"}])
    db.rollback()
    assert rows(table) == []


def test_commit_answered_with_rollback_raises(db, table, rows):
    cur = db.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(pgatomic.DatabaseError):
        cur.execute("SELECT 1/0")
    with pytest.raises(pgatomic.InternalError) as info:
        db.commit()
    assert "ROLLBACK" in str(info.value)
    assert rows(table) == []


# -- placeholders ----------------------------------------------------------------

def test_percent_s_placeholders_bind_in_order(db):
    cur = db.cursor().execute("SELECT %s::int, %s::text, %s", (1, "a", None))
    assert cur.fetchone() == (1, "a", None)


def test_named_placeholders_bind_by_name_and_repeat(db):
    cur = db.cursor().execute("SELECT %(a)s::int + %(a)s::int, %(b)s", {"a": 2, "b": "x", "c": 0})
    assert cur.fetchone() == (4, "x")


def test_dollar_placeholders_go_as_written(db):
    cur = db.cursor().execute("SELECT $2::int - $1::int, 7 % 4", [1, 10])
    assert cur.fetchone() == (9, 3)


def test_double_percent_is_a_percent_sign(db):
    cur = db.cursor().execute("SELECT %s || '%%', 'a' LIKE %s, 7 %% 4", ("50", "%%a%%"))
    assert cur.fetchone() == ("50%", True, 3)


def test_placeholders_inside_literals_are_text(db):
    cur = db.cursor().execute("SELECT '%s', $$%(x)s$$, %s::int /* %s */", (1,))
    assert cur.fetchone() == ("%s", "%(x)s", 1)


def test_without_params_the_text_goes_as_written(db):
    cur = db.cursor().execute("SELECT '%%', 7 % 4, '%s'")
    assert cur.fetchone() == ("%%", 3, "%s")


def test_empty_params_apply_percent_rules_as_psycopg(db):
    assert db.cursor().execute("SELECT '%%'", []).fetchone() == ("%",)
    with pytest.raises(dbapi.ProgrammingError):
        db.cursor().execute("SELECT 7 % 4", [])


def test_values_are_never_interpolated(db):
    evil = "'); DROP TABLE x; --"
    assert db.cursor().execute("SELECT %s", (evil,)).fetchone() == (evil,)
    assert db.cursor().execute("SELECT %(v)s", {"v": evil}).fetchone() == (evil,)


def test_mixed_placeholder_styles_are_refused(db):
    with pytest.raises(dbapi.ProgrammingError, match="cannot be mixed"):
        db.cursor().execute("SELECT %s, %(a)s", (1,))


def test_a_bad_placeholder_is_refused(db):
    with pytest.raises(dbapi.ProgrammingError, match="got '%d'"):
        db.cursor().execute("SELECT %d", (1,))


def test_a_missing_name_is_refused(db):
    with pytest.raises(dbapi.ProgrammingError, match="query parameter missing: b"):
        db.cursor().execute("SELECT %(a)s, %(b)s", {"a": 1})


def test_wrong_number_of_values_is_refused(db):
    with pytest.raises(dbapi.ProgrammingError, match="2 placeholders but 1 parameter"):
        db.cursor().execute("SELECT %s, %s", (1,))


def test_params_of_the_wrong_shape_are_refused(db):
    with pytest.raises(TypeError, match="mapping"):
        db.cursor().execute("SELECT %(a)s", (1,))
    with pytest.raises(TypeError, match="sequence"):
        db.cursor().execute("SELECT %s", {"a": 1})
    with pytest.raises(TypeError):
        db.cursor().execute("SELECT %s", "a")


def test_a_failed_rewrite_leaves_the_transaction_usable(db):
    cur = db.cursor()
    with pytest.raises(dbapi.ProgrammingError):
        cur.execute("SELECT %x", (1,))
    assert cur.execute("SELECT 1").fetchone() == (1,)


# -- results ---------------------------------------------------------------------

def test_description_names_and_types(db):
    cur = db.cursor().execute(
        "SELECT 1::int4 AS a, 'x'::varchar(5) AS b, 1.5::numeric(7, 2) AS c,"
        " now()::timestamp(3) AS d, 'y'::text AS e")
    a, b, c, d, e = cur.description
    assert a == ("a", 23, None, 4, None, None, None)
    assert (a.name, a.type_code, a.internal_size) == ("a", 23, 4)
    assert (b.type_code, b.display_size) == (1043, 5)
    assert (c.type_code, c.precision, c.scale) == (1700, 7, 2)
    assert (d.type_code, d.precision) == (1114, 3)
    assert (e.type_code, e.internal_size, e.display_size) == (25, None, None)
    assert len(a) == 7 and a[0] == "a"


def test_description_is_none_without_rows(db):
    cur = db.cursor()
    assert cur.description is None
    cur.execute("CREATE TEMP TABLE dbapi_t (x int)")
    assert cur.description is None
    assert cur.rowcount == -1


def test_rowcount_counts_rows(db):
    cur = db.cursor()
    assert cur.rowcount == -1
    cur.execute("CREATE TEMP TABLE dbapi_rc (x int)")
    cur.execute("INSERT INTO dbapi_rc SELECT generate_series(1, 5)")
    assert cur.rowcount == 5
    cur.execute("UPDATE dbapi_rc SET x = x + 1 WHERE x > %s", (2,))
    assert cur.rowcount == 3
    cur.execute("SELECT * FROM dbapi_rc")
    assert cur.rowcount == 5
    assert cur.statusmessage == "SELECT 5"


def test_fetch_methods_walk_the_rows(db):
    cur = db.cursor().execute("SELECT generate_series(1, 7)")
    assert cur.rownumber == 0
    assert cur.fetchone() == (1,)
    assert cur.fetchmany() == [(2,)]
    cur.arraysize = 2
    assert cur.fetchmany() == [(3,), (4,)]
    assert cur.fetchmany(size=1) == [(5,)]
    assert cur.rownumber == 5
    assert list(cur) == [(6,), (7,)]
    assert cur.fetchone() is None
    assert cur.fetchall() == []
    assert cur.fetchmany(3) == []


def test_fetch_without_a_result_raises(db):
    cur = db.cursor()
    with pytest.raises(dbapi.ProgrammingError):
        cur.fetchone()
    cur.execute("SET application_name = 'x'")
    with pytest.raises(dbapi.ProgrammingError, match="didn't produce a result"):
        cur.fetchall()
    with pytest.raises(dbapi.ProgrammingError):
        next(iter(cur))


def test_values_come_back_typed(db):
    row = db.cursor().execute(
        "SELECT 1.25::numeric, '2024-01-02'::date, '{1,2}'::int[], '{\"a\": 1}'::jsonb").fetchone()
    assert row == (decimal.Decimal("1.25"), datetime.date(2024, 1, 2), [1, 2], {"a": 1})


def test_nextset_walks_a_script(db):
    cur = db.cursor().execute("SELECT 1 AS a; SELECT 2 AS b, 3 AS c; CREATE TEMP TABLE dbapi_ns (x int)")
    assert cur.fetchall() == [(1,)]
    assert cur.description[0].name == "a"
    assert cur.nextset() is True
    assert [d.name for d in cur.description] == ["b", "c"]
    assert cur.fetchall() == [(2, 3)]
    assert cur.nextset() is True
    assert cur.description is None
    assert cur.nextset() is None


def test_closed_cursor_refuses_everything(db):
    cur = db.cursor()
    cur.execute("SELECT 1")
    cur.close()
    assert cur.closed
    with pytest.raises(dbapi.InterfaceError, match="cursor is closed"):
        cur.execute("SELECT 1")
    with pytest.raises(dbapi.InterfaceError):
        cur.fetchone()
    cur.close()


def test_cursor_context_manager_closes(db):
    with db.cursor() as cur:
        assert cur.execute("SELECT 1").fetchone() == (1,)
    assert cur.closed
    assert cur.connection is db


def test_setinputsizes_and_setoutputsize_do_nothing(db):
    cur = db.cursor()
    assert cur.setinputsizes([None]) is None
    assert cur.setoutputsize(10) is None
    assert cur.setoutputsize(10, 0) is None
    assert cur.lastrowid is None


def test_cursor_needs_a_pgatomic_connection():
    with pytest.raises(TypeError):
        dbapi.Cursor(object())


def test_cursor_on_a_closed_connection_raises(db):
    cur = db.cursor()
    db.close()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")


def test_server_error_keeps_its_class_and_sqlstate(db, table):
    cur = db.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(pgatomic.UniqueViolation) as info:
        cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "b"))
    assert info.value.sqlstate == "23505"
    db.rollback()


def test_json_loads_reads_json_columns(db):
    db.json_loads = lambda text: ("text", text)
    row = db.cursor().execute("""SELECT '{"a": 1}'::json, '[1]'::jsonb, 1""").fetchone()
    assert row == (("text", '{"a": 1}'), ("text", "[1]"), 1)
    db.json_loads = None
    assert db.cursor().execute("SELECT '{\"a\": 1}'::jsonb").fetchone() == ({"a": 1},)
    with pytest.raises(TypeError):
        db.json_loads = "not callable"


# -- control statements as SQL, savepoints, transaction options -----------------

def test_control_statements_as_sql_cost_no_round_trip(db, table, rows):
    cur = db.cursor()
    cur.execute("SELECT 1")
    db.commit()

    def body():
        cur.execute("SAVEPOINT sa_savepoint_1")                         # deferred
        assert cur.statusmessage == "SAVEPOINT"
        cur.execute(f"INSERT INTO {table} VALUES (%s, 'a')", (1,))      # BEGIN + SAVEPOINT + INSERT
        cur.execute("RELEASE SAVEPOINT sa_savepoint_1")                 # deferred
        cur.execute("SAVEPOINT sa_savepoint_2")
        with pytest.raises(pgatomic.UniqueViolation):
            cur.execute(f"INSERT INTO {table} VALUES (%s, 'dup')", (1,))  # RELEASE + SAVEPOINT + INSERT
        cur.execute("ROLLBACK TO SAVEPOINT sa_savepoint_2")              # deferred
        db.commit()                                                      # ROLLBACK TO + COMMIT
    assert trips(db, body) == 3
    assert rows(table) == [(1, "a")]


def test_named_savepoints_without_sql(db, table, rows):
    cur = db.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert db.savepoint("s1") == "s1"
    cur.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    db.rollback_to_savepoint("s1")           # the savepoint stays, as on the server
    cur.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    db.release_savepoint("s1")
    with pytest.raises(pgatomic.ProgrammingError):
        db.release_savepoint("s1")
    db.commit()
    assert rows(table) == [(1, "a"), (3, "c")]


def test_isolation_level_applies_to_the_next_begin(db):
    assert db.isolation_level is None and db.read_only is None and db.deferrable is None
    db.isolation_level = "serializable"
    db.read_only = True
    assert db.isolation_level == "SERIALIZABLE" and db.read_only is True
    cur = db.cursor()

    def body():
        cur.execute("SELECT current_setting('transaction_isolation'),"
                    " current_setting('transaction_read_only')")
    assert trips(db, body) == 1                  # the BEGIN with its modes rode along
    assert cur.fetchone() == ("serializable", "on")
    with pytest.raises(pgatomic.ProgrammingError):
        db.isolation_level = "read committed"    # BEGIN was sent
    db.rollback()
    for value, words in ((1, "READ UNCOMMITTED"), (3, "REPEATABLE READ"),
                         (pgatomic.Isolation.READ_COMMITTED, "READ COMMITTED"), (None, None)):
        db.isolation_level = value
        assert db.isolation_level == words
    db.read_only = None
    db.deferrable = False
    assert db.deferrable is False
    with pytest.raises(ValueError):
        db.isolation_level = "chaotic"
    assert cur.execute("SHOW transaction_isolation").fetchone() == ("read committed",)


def test_two_phase_commit_through_the_dbapi(db, table, rows):
    xid = db.xid(1, "dbapi-gtrid", "bqual")
    db.tpc_begin(xid)
    db.cursor().execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "a"))
    db.tpc_prepare()
    db.close()                  # the prepared transaction outlives its connection
    assert rows(table) == []
    other = dbapi.connect(_dsn())
    try:
        assert xid in other.tpc_recover()
        other.tpc_commit(xid)
    finally:
        other.close()
    assert rows(table) == [(1, "a")]


def test_info_reads_what_the_server_reported(db):
    """psycopg's connection.info for the parts code written for psycopg reads
    (Django's PostgreSQL backend): no round trip."""
    before = db.round_trips
    info = db.info
    assert info.server_version == db.server_version >= 150000
    assert info.parameter_status("client_encoding") == "UTF8"
    assert info.encoding == "utf-8"
    assert db.round_trips == before
