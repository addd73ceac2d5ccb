"""API.md 1.3: the error tree, SQLSTATE classes, .sqlstate and .diag,
CommitOutcomeUnknown, and the binding's table covering every core code."""

import os
import queue
import signal
import threading
import time

import pytest

import pgatomic
from pgatomic import _pgatomic, errors, transaction

NAMES = ["Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
         "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
         "TransactionManagementError", "CommitOutcomeUnknown", "UniqueViolation",
         "ForeignKeyViolation", "NotNullViolation", "CheckViolation",
         "ExclusionViolation", "SerializationFailure", "DeadlockDetected",
         "QueryCanceled", "Warning"]


def test_names_importable_and_tree():
    for name in NAMES:
        assert getattr(pgatomic, name) is getattr(errors, name)
    assert transaction.TransactionManagementError is pgatomic.TransactionManagementError
    E = pgatomic
    assert issubclass(E.InterfaceError, E.Error) and issubclass(E.DatabaseError, E.Error)
    for base, subs in {
        E.DatabaseError: [E.DataError, E.OperationalError, E.IntegrityError,
                          E.InternalError, E.ProgrammingError, E.NotSupportedError],
        E.ProgrammingError: [E.TransactionManagementError],
        E.OperationalError: [E.CommitOutcomeUnknown, E.SerializationFailure,
                             E.DeadlockDetected, E.QueryCanceled],
        E.IntegrityError: [E.UniqueViolation, E.ForeignKeyViolation, E.NotNullViolation,
                           E.CheckViolation, E.ExclusionViolation],
    }.items():
        for sub in subs:
            assert issubclass(sub, base), (sub, base)
    assert E.Error.__module__ == "pgatomic"


def test_every_core_code_and_kind_has_a_class():
    for name in _pgatomic.error_names():
        assert name in errors._CONDITIONS, name
    for kind in _pgatomic.kind_names():
        assert kind in errors._KINDS, kind


@pytest.mark.parametrize("sql,cls,sqlstate", [
    ("SELECT 1/0", pgatomic.DataError, "22012"),
    ("SELECT * FROM no_such_relation", pgatomic.ProgrammingError, "42P01"),
    ("SELECT 'x'::int", pgatomic.DataError, "22P02"),
    ("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END$$",
     pgatomic.SerializationFailure, "40001"),
    ("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END$$",
     pgatomic.DeadlockDetected, "40P01"),
    ("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000'; END$$",
     pgatomic.NotSupportedError, "0A000"),
    ("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = 'XX000'; END$$",
     pgatomic.InternalError, "XX000"),
    ("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '53100'; END$$",
     pgatomic.OperationalError, "53100"),
    ("DO $$BEGIN RAISE EXCEPTION 'plpgsql'; END$$", pgatomic.ProgrammingError, "P0001"),
    ("DO $$BEGIN RAISE EXCEPTION USING ERRCODE = '38000'; END$$",
     pgatomic.OperationalError, "38000"),
])
def test_sqlstate_classes(conn, sql, cls, sqlstate):
    with pytest.raises(pgatomic.DatabaseError) as info:
        conn.execute(sql)
    assert isinstance(info.value, cls) and info.value.sqlstate == sqlstate
    assert type(info.value).__name__ == PSYCOPG_CLASSES[sqlstate][0]


def _psycopg_classes():
    path = os.path.join(os.path.dirname(__file__), "psycopg_sqlstates.tsv")
    with open(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
    return {code: (name, base) for code, name, base in rows}


PSYCOPG_CLASSES = _psycopg_classes()


def test_every_psycopg_sqlstate_has_psycopg_class():
    """Table test over psycopg's 254 codes: the same class name, importable
    from pgatomic.errors, directly on the same PEP 249 base."""
    assert len(PSYCOPG_CLASSES) == 254
    for code, (name, base) in PSYCOPG_CLASSES.items():
        cls = errors.lookup(code)
        assert (code, cls.__name__) == (code, name)
        assert cls.__bases__ == (getattr(errors, base),), (code, cls.__bases__, base)
        assert getattr(errors, name) is cls
        assert cls("x").sqlstate == code
    assert {c for c, _, _ in _pgatomic.sqlstate_table()} == set(PSYCOPG_CLASSES)


def test_every_psycopg_sqlstate_raised_by_the_server(conn):
    """The same table end to end: the server raises each code, pgatomic
    raises psycopg's class with the code and the server's words."""
    conn.execute("CREATE FUNCTION pg_temp.raise_code(code text) RETURNS void"
                 " LANGUAGE plpgsql AS $$BEGIN"
                 " RAISE EXCEPTION 'raised %', code USING ERRCODE = code; END$$")
    for code, (name, base) in PSYCOPG_CLASSES.items():
        with pytest.raises(pgatomic.DatabaseError) as info:
            conn.execute("SELECT pg_temp.raise_code($1)", [code])
        e = info.value
        assert (code, type(e).__name__, e.sqlstate) == (code, name, code)
        assert isinstance(e, getattr(pgatomic, base))
        assert e.diag.message_primary == f"raised {code}"


def test_lock_not_available_is_operational_error(conn, observer, table):
    conn.execute(f"INSERT INTO {table} VALUES (1, 'x')")
    with observer.atomic():
        observer.execute(f"SELECT * FROM {table} WHERE id = 1 FOR UPDATE")
        with pytest.raises(pgatomic.OperationalError) as info:
            conn.execute(f"SELECT * FROM {table} WHERE id = 1 FOR UPDATE NOWAIT")
        assert type(info.value) is errors.LockNotAvailable
        assert info.value.sqlstate == "55P03"
        with conn.atomic():
            conn.execute("SET LOCAL lock_timeout = '50ms'")
            with pytest.raises(errors.LockNotAvailable):
                conn.execute(f"UPDATE {table} SET v = 'y' WHERE id = 1")


@pytest.mark.parametrize("sql", [
    "COPY (SELECT 1) TO STDOUT",
    "COPY {table} FROM STDIN",
    "SELECT 1; COPY {table} FROM STDIN",
])
def test_copy_is_refused_as_not_supported(conn, table, sql):
    with pytest.raises(pgatomic.NotSupportedError) as info:
        conn.execute(sql.format(table=table))
    assert not isinstance(info.value, pgatomic.QueryCanceled)
    assert type(info.value) is pgatomic.NotSupportedError
    assert "COPY" in str(info.value) and info.value.sqlstate is None
    assert conn.execute("SELECT 1").scalar() == 1
    with pytest.raises(pgatomic.TransactionManagementError) as broken:
        with conn.atomic():
            with pytest.raises(pgatomic.NotSupportedError):
                conn.execute(sql.format(table=table))
            conn.execute("SELECT 1")
    assert isinstance(broken.value.__cause__, pgatomic.NotSupportedError)


def test_integrity_subclasses_and_diag(conn, tables):
    parent = tables.make("id int PRIMARY KEY")
    child = tables.make(f"id int PRIMARY KEY, p int REFERENCES {parent}(id),"
                        " n int NOT NULL DEFAULT 0 CHECK (n >= 0)")
    conn.execute(f"INSERT INTO {parent} VALUES (1)")
    cases = [
        (f"INSERT INTO {parent} VALUES (1)", pgatomic.UniqueViolation, "23505"),
        (f"INSERT INTO {child} (id, p) VALUES (1, 99)", pgatomic.ForeignKeyViolation, "23503"),
        (f"INSERT INTO {child} (id, n) VALUES (1, NULL)", pgatomic.NotNullViolation, "23502"),
        (f"INSERT INTO {child} (id, n) VALUES (1, -1)", pgatomic.CheckViolation, "23514"),
    ]
    for sql, cls, state in cases:
        with pytest.raises(pgatomic.IntegrityError) as info:
            conn.execute(sql)
        e = info.value
        assert type(e) is cls and e.sqlstate == state
        assert e.diag.message_primary and e.diag.schema_name == "public"
        assert e.diag.table_name in (parent, child)
    with pytest.raises(pgatomic.UniqueViolation) as info:
        conn.execute(f"INSERT INTO {parent} VALUES (1)")
    d = info.value.diag
    assert d.constraint_name == f"{parent}_pkey" and d.detail == "Key (id)=(1) already exists."
    assert d.hint is None
    with pytest.raises(pgatomic.NotNullViolation) as info:
        conn.execute(f"INSERT INTO {child} (id, n) VALUES (1, NULL)")
    assert info.value.diag.column_name == "n"


def test_exclusion_violation(conn, tables):
    t = tables.make("r int4range, EXCLUDE USING gist (r WITH &&)")
    conn.execute(f"INSERT INTO {t} VALUES ('[1,5)')")
    with pytest.raises(pgatomic.ExclusionViolation) as info:
        conn.execute(f"INSERT INTO {t} VALUES ('[3,7)')")
    assert info.value.sqlstate == "23P01"


def test_deferred_constraint_failure_at_commit_rolls_back(tables, rows):
    parent = tables.make("id int PRIMARY KEY")
    child = tables.make(f"id int, p int REFERENCES {parent}(id) DEFERRABLE INITIALLY DEFERRED")
    conn = pgatomic.connections["default"]
    seen = []
    with pytest.raises(pgatomic.ForeignKeyViolation):
        with transaction.atomic():
            conn.execute(f"INSERT INTO {child} VALUES (1, 42)")
            transaction.on_commit(lambda: seen.append("never"))
    assert rows(child) == [] and seen == []
    assert not conn.in_atomic_block
    conn.execute(f"INSERT INTO {parent} VALUES (1)")
    assert rows(parent) == [(1,)]


def test_connection_lost_during_commit_is_CommitOutcomeUnknown(tables, observer):
    t = tables.make("id int")
    observer.execute(f"""
        CREATE FUNCTION {t}_slow() RETURNS trigger LANGUAGE plpgsql AS
        $$BEGIN PERFORM pg_sleep(30); RETURN NULL; END$$""")
    observer.execute(f"""
        CREATE CONSTRAINT TRIGGER {t}_slow AFTER INSERT ON {t}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {t}_slow()""")
    conn = pgatomic.connect()
    # Read inside the block: through a transaction-mode pooler only an open
    # transaction pins the server session, so a pid read before it may name
    # another session (and the killer would wait out its deadline).
    pid_in_block = queue.Queue()

    def kill():
        # Only once COMMIT is running the deferred trigger's sleep: killing
        # earlier would be a plain lost connection (rolled back).  The kill
        # ends the sleep; its 30 s only bound a kill that never comes (2 s
        # could pass between seeing it and killing on a loaded machine).
        pid = pid_in_block.get(timeout=10)
        killer = pgatomic.connect()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if killer.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
                              " AND wait_event = 'PgSleep'", [pid]).scalar():
                break
            time.sleep(0.02)
        killer.execute("SELECT pg_terminate_backend($1)", [pid])
        killer.close()

    k = threading.Thread(target=kill)
    k.start()
    try:
        with pytest.raises(pgatomic.CommitOutcomeUnknown) as info:
            with conn.atomic():
                pid_in_block.put(conn.execute("SELECT pg_backend_pid()").scalar())
                conn.execute(f"INSERT INTO {t} VALUES (1)")
        assert isinstance(info.value, pgatomic.OperationalError)
        assert "may or may not have been committed" in str(info.value)
    finally:
        k.join()
    assert not conn.in_atomic_block
    conn.close()
    observer.execute(f"DROP FUNCTION {t}_slow() CASCADE")


def test_keyboard_interrupt_cancels_the_query(conn, ctrl_c):
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        conn.execute("SELECT pg_sleep(5)")
    timer.join()
    assert time.monotonic() - t0 < 4
    assert conn.execute("SELECT 2").scalar() == 2


def test_error_attributes_default():
    e = pgatomic.DatabaseError("x")
    assert e.sqlstate is None and e.diag.message_primary is None
    assert pgatomic.UniqueViolation("y").sqlstate == "23505"
    assert errors.lookup("23505") is pgatomic.UniqueViolation
    assert errors.lookup("23999") is pgatomic.IntegrityError
    assert errors.lookup("38000").__bases__ == (pgatomic.OperationalError,)
    assert errors.lookup("P0001").__bases__ == (pgatomic.ProgrammingError,)
    assert errors.lookup("bogus") is pgatomic.DatabaseError


def test_keyboard_interrupt_while_connecting(tmp_path, ctrl_c):
    """A server that accepts and never answers: Ctrl-C ends the connect."""
    import socket
    path = tmp_path / ".s.PGSQL.5999"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            pgatomic.connect(f"host={tmp_path} port=5999 connect_timeout=20")
    finally:
        timer.join()
        listener.close()
    assert time.monotonic() - t0 < 5


def test_query_canceled_by_statement_timeout(conn, table, rows):
    with conn.atomic():
        conn.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        conn.execute("SET LOCAL statement_timeout = 100")
        with pytest.raises(pgatomic.QueryCanceled) as info:
            with conn.atomic():
                conn.execute("SELECT pg_sleep(2)")
        assert info.value.sqlstate == "57014"
        conn.execute(f"INSERT INTO {table} VALUES (2, 'y')")
    assert rows(table) == [(1, "x"), (2, "y")]


def test_error_text_carries_detail_and_hint(conn, table):
    """str(exc) shows the server's DETAIL and HINT as psycopg's does."""
    conn.execute(f"INSERT INTO {table} VALUES (1, 'x')")
    with pytest.raises(pgatomic.UniqueViolation) as info:
        conn.execute(f"INSERT INTO {table} VALUES (1, 'y')")
    e = info.value
    assert str(e) == (f"{e.diag.message_primary}\nDETAIL:  {e.diag.detail}")
    assert e.diag.detail == "Key (id)=(1) already exists."
    with pytest.raises(pgatomic.DatabaseError) as info:
        conn.execute("DO $$BEGIN RAISE EXCEPTION 'primary' USING DETAIL = 'the detail',"
                     " HINT = 'the hint'; END$$")
    assert str(info.value) == "primary\nDETAIL:  the detail\nHINT:  the hint"
    with pytest.raises(pgatomic.ProgrammingError) as info:
        conn.execute("SELECT no_such_column FROM pg_class")
    assert str(info.value) == info.value.diag.message_primary     # nothing to add


def test_savepoint_errors_name_the_savepoint(conn):
    with conn.atomic():
        sid = conn.savepoint()
        conn.savepoint_commit(sid)
        for call in (conn.savepoint_commit, conn.savepoint_rollback):
            with pytest.raises(pgatomic.ProgrammingError) as info:
                call(sid)
            assert repr(sid) in str(info.value), str(info.value)
            with pytest.raises(pgatomic.ProgrammingError) as info:
                call("pga_no_such")
            assert "'pga_no_such'" in str(info.value)


def test_connection_errors_name_the_alias():
    other = pgatomic.connections["default"]
    other.close()
    with pytest.raises(pgatomic.InterfaceError) as info:
        with pgatomic.atomic():
            other.close()
            other.execute("SELECT 1")
    assert str(info.value) == "the connection 'default' is closed"
    c = pgatomic.connect()
    c.close()
    with pytest.raises(pgatomic.InterfaceError) as info:
        c.execute("SELECT 1")
    assert str(info.value) == "the connection is closed"
