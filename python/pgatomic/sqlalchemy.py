"""``postgresql+pgatomic``: SQLAlchemy 2's PostgreSQL dialect on pgatomic.

    engine = create_engine("postgresql+pgatomic://user:pw@host:5432/app")
    engine = create_engine("postgresql+pgatomic://user@/app?host=/run/postgresql")
    engine = create_async_engine("postgresql+pgatomic_async://user@/app")   # asyncio

``pip install`` registers it (entry point ``sqlalchemy.dialects``:
``postgresql.pgatomic``).  It is SQLAlchemy's own PostgreSQL dialect
(``PGDialect``: SQL, types, reflection) over ``pgatomic.dbapi``, with the
driver-facing parts chosen so the core decides when control statements
travel:

- SQLAlchemy's implicit BEGIN is the DB-API's: it rides with the first
  statement of the transaction, never a round trip of its own;
- ``begin_nested()`` savepoints are the core's deferred, named ones: the
  SAVEPOINT rides with the next statement, RELEASE and ROLLBACK TO with the
  one after (or with COMMIT), and an empty one costs nothing;
- isolation levels, read-only and deferrable are attributes of the DB-API
  connection folded into the next BEGIN (psycopg's model), not ``SET
  SESSION CHARACTERISTICS`` plus a COMMIT;
- a COMMIT the server answers with ROLLBACK raises (``InternalError``), and
  a connection lost while COMMIT was in flight raises
  ``pgatomic.sqlalchemy.CommitOutcomeUnknown``, which is SQLAlchemy's
  ``OperationalError`` and ``pgatomic.CommitOutcomeUnknown`` at once;
- parameters are PostgreSQL's own ``$n`` (``numeric_dollar``): nothing is
  rewritten on the way.

``stream_results`` and ``yield_per`` read a server-side cursor
(``pgatomic.dbapi`` named cursors: DECLARE, then FETCH FORWARD n).
Not supported: range and multirange values (they arrive as their text).
json and jsonb arrive decoded (by ``json.loads``, or by ``json_deserializer``
when the engine is given one), except inside arrays (``json.loads``).
"""

from __future__ import annotations

import decimal
from typing import Any

from sqlalchemy import event, exc, util
from sqlalchemy.dialects.postgresql import json as pg_json
from sqlalchemy.dialects.postgresql.array import ARRAY as PGARRAY
from sqlalchemy.dialects.postgresql.base import (
    _DECIMAL_TYPES,
    _FLOAT_TYPES,
    _INT_TYPES,
    ENUM,
    INTERVAL,
    OID,
    REGCLASS,
    REGCONFIG,
    PGCompiler,
    PGDialect,
    PGExecutionContext,
    PGIdentifierPreparer,
)
from sqlalchemy.dialects.postgresql.pg_catalog import INT2VECTOR, OIDVECTOR, _SpaceVector
from sqlalchemy.dialects.postgresql.types import BIT, BYTEA, CITEXT
from sqlalchemy.engine import processors
from sqlalchemy.sql import sqltypes

from . import errors as _errors

__all__ = ["CommitOutcomeUnknown", "PGDialect_pgatomic", "PGDialectAsync_pgatomic", "dialect",
           "dialect_async"]


class CommitOutcomeUnknown(exc.OperationalError, _errors.CommitOutcomeUnknown):
    """The connection was lost while COMMIT was in flight: the transaction
    may or may not have been committed.  What Session.commit() and
    Connection.commit() raise then: SQLAlchemy's OperationalError (``.orig``
    is the driver's exception, the connection is invalidated) and
    ``pgatomic.CommitOutcomeUnknown`` at once, so either ``except`` catches
    it."""

    __module__ = "pgatomic.sqlalchemy"

    @classmethod
    def from_wrapped(cls, wrapped: Any) -> "CommitOutcomeUnknown":
        new = cls(wrapped.statement, wrapped.params, wrapped.orig,
                  hide_parameters=wrapped.hide_parameters,
                  connection_invalidated=wrapped.connection_invalidated,
                  ismulti=wrapped.ismulti)
        orig = wrapped.orig
        new.sqlstate, new.diag = orig.sqlstate, orig.diag
        new._pga_code = getattr(orig, "_pga_code", None)
        return new


def _commit_outcome_unknown(context: Any) -> Any:
    if (isinstance(context.original_exception, _errors.CommitOutcomeUnknown)
            and isinstance(context.sqlalchemy_exception, exc.OperationalError)):
        return CommitOutcomeUnknown.from_wrapped(context.sqlalchemy_exception)
    return None


# -- types ---------------------------------------------------------------------
# pgatomic sends text untyped and every other value typed by its Python type
# (int as int2/4/8 by value, float8, numeric, bool, bytea, date/time types,
# interval, uuid, jsonb, arrays); rendering the column type's cast ($1::INTEGER)
# keeps the server from guessing where SQLAlchemy knows better.  Results
# arrive decoded by the core (ints, Decimal, floats, datetimes, UUID, parsed
# JSON, lists).

class _CastString(sqltypes.String):
    render_bind_cast = True


class _CastCHAR(sqltypes.CHAR):
    render_bind_cast = True


class _CastARRAY(PGARRAY):
    render_bind_cast = True


class _CastTime(sqltypes.Time):
    render_bind_cast = True


class _CastDate(sqltypes.Date):
    render_bind_cast = True


class _CastDateTime(sqltypes.DateTime):
    render_bind_cast = True


class _CastBoolean(sqltypes.Boolean):
    render_bind_cast = True


class _CastInteger(sqltypes.Integer):
    render_bind_cast = True


class _CastSmallInteger(sqltypes.SmallInteger):
    render_bind_cast = True


class _CastBigInteger(sqltypes.BigInteger):
    render_bind_cast = True


class _CastBIT(BIT):
    render_bind_cast = True


class _CastBYTEA(BYTEA):
    render_bind_cast = True


class _CastREGCONFIG(REGCONFIG):
    render_bind_cast = True


class _CastREGCLASS(REGCLASS):
    render_bind_cast = True


class _CastOID(OID):
    render_bind_cast = True


class _CastENUM(ENUM):
    render_bind_cast = True


class _Interval(INTERVAL):
    render_bind_cast = True

    @classmethod
    def adapt_emulated_to_native(cls, interval: Any, **kw: Any) -> "_Interval":
        return _Interval(precision=interval.second_precision)


class _JSON(pg_json.JSON):
    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None     # the core parses json


class _JSONB(pg_json.JSONB):
    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


class _JSONIntIndexType(sqltypes.JSON.JSONIntIndexType):
    __visit_name__ = "json_int_index"
    render_bind_cast = True


class _JSONStrIndexType(sqltypes.JSON.JSONStrIndexType):
    __visit_name__ = "json_str_index"
    render_bind_cast = True


class _INT2VECTOR(_SpaceVector, INT2VECTOR):
    pass      # arrives as its text, "1 2 3"


class _OIDVECTOR(_SpaceVector, OIDVECTOR):
    pass


class _Numeric(sqltypes.Numeric):
    """numeric arrives as Decimal and float4/8 as float: convert only when
    the column's Python type asks for the other."""

    render_bind_cast = True

    def bind_processor(self, dialect: Any) -> None:
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if coltype in _FLOAT_TYPES:
            if self.asdecimal:
                return processors.to_decimal_processor_factory(
                    decimal.Decimal, self._effective_decimal_return_scale)
            return None
        if coltype in _DECIMAL_TYPES or coltype in _INT_TYPES:
            return None if self.asdecimal else processors.to_float
        raise exc.InvalidRequestError("Unknown PG numeric type: %d" % coltype)


class _Float(_Numeric, sqltypes.Float):
    __visit_name__ = "float"
    render_bind_cast = True


# -- dialect -------------------------------------------------------------------

_server_side_id = util.counter()


class PGExecutionContext_pgatomic(PGExecutionContext):
    def create_server_side_cursor(self) -> Any:
        # stream_results / yield_per: a named cursor (DECLARE, FETCH FORWARD
        # n), named as SQLAlchemy's psycopg dialect names them.
        ident = "c_%s_%s" % (hex(id(self))[2:], hex(_server_side_id())[2:])
        return self._dbapi_connection.cursor(ident)


class PGCompiler_pgatomic(PGCompiler):
    pass


class PGIdentifierPreparer_pgatomic(PGIdentifierPreparer):
    pass


class PGDialect_pgatomic(PGDialect):
    driver = "pgatomic"
    supports_statement_cache = True
    # stream_results / yield_per read a named cursor of pgatomic.dbapi
    # (DECLARE ... CURSOR, FETCH FORWARD n), as on SQLAlchemy's psycopg dialect.
    supports_server_side_cursors = True
    default_paramstyle = "numeric_dollar"
    supports_sane_multi_rowcount = True     # executemany() sums its counts

    execution_ctx_cls = PGExecutionContext_pgatomic
    statement_compiler = PGCompiler_pgatomic
    preparer = PGIdentifierPreparer_pgatomic

    colspecs = util.update_copy(
        PGDialect.colspecs,
        {
            sqltypes.String: _CastString,
            sqltypes.CHAR: _CastCHAR,
            sqltypes.ARRAY: _CastARRAY,
            BIT: _CastBIT,
            CITEXT: CITEXT,
            REGCONFIG: _CastREGCONFIG,
            REGCLASS: _CastREGCLASS,
            OID: _CastOID,
            sqltypes.Time: _CastTime,
            sqltypes.Date: _CastDate,
            sqltypes.DateTime: _CastDateTime,
            sqltypes.Interval: _Interval,
            INTERVAL: _Interval,
            sqltypes.Boolean: _CastBoolean,
            sqltypes.Integer: _CastInteger,
            sqltypes.SmallInteger: _CastSmallInteger,
            sqltypes.BigInteger: _CastBigInteger,
            sqltypes.Numeric: _Numeric,
            sqltypes.Float: _Float,
            sqltypes.JSON: _JSON,
            pg_json.JSONB: _JSONB,
            sqltypes.JSON.JSONIntIndexType: _JSONIntIndexType,
            sqltypes.JSON.JSONStrIndexType: _JSONStrIndexType,
            sqltypes.LargeBinary: _CastBYTEA,
            sqltypes.Enum: _CastENUM,
            INT2VECTOR: _INT2VECTOR,
            OIDVECTOR: _OIDVECTOR,
        },
    )

    def __init__(self, paramstyle: Any = None, **kwargs: Any) -> None:
        # pgatomic.dbapi.paramstyle says "pyformat" (what generic DB-API code
        # writes); SQLAlchemy writes PostgreSQL's own $n unless told otherwise.
        super().__init__(paramstyle=paramstyle or self.default_paramstyle, **kwargs)

    @classmethod
    def import_dbapi(cls) -> Any:
        from . import dbapi
        return dbapi

    @classmethod
    def engine_created(cls, engine: Any) -> None:
        event.listen(engine, "handle_error", _commit_outcome_unknown, retval=True)

    @classmethod
    def load_provisioning(cls) -> None:
        # The test fixtures (temp tables, databases per process) are the
        # PostgreSQL dialect's; SQLAlchemy would look for pgatomic.provision.
        __import__("sqlalchemy.dialects.postgresql.provision")

    def create_connect_args(self, url: Any) -> Any:
        opts = url.translate_connect_args(username="user", database="dbname")
        multihosts, multiports = self._split_multihost_from_url(url)
        opts.update(url.query)
        # ?busy_poll_us=150 arrives as text; connect_args gives an int.
        util.coerce_kw_type(opts, "busy_poll_us", int)
        if multihosts:
            opts["host"] = ",".join(h or "" for h in multihosts)
            ports = ",".join(str(p) if p else "" for p in multiports)
            if ports.strip(","):
                opts["port"] = ports
        return ([], opts)

    def on_connect(self) -> Any:
        deserializer = self._json_deserializer
        if deserializer is None:
            return None

        def use_json_deserializer(dbapi_connection: Any) -> None:
            # The driver reads json and jsonb with it (they arrive decoded).
            dbapi_connection.json_loads = deserializer
        return use_json_deserializer

    def do_execute(self, cursor: Any, statement: str, parameters: Any,
                   context: Any = None) -> None:
        # No parameters: the text goes as written (pgatomic.dbapi applies
        # psycopg's %-rules only when parameters are given).
        cursor.execute(statement, parameters or None)

    # -- transactions ----------------------------------------------------------

    def get_isolation_level_values(self, dbapi_connection: Any) -> Any:
        return ("AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED",
                "REPEATABLE READ", "SERIALIZABLE")

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        if level == "AUTOCOMMIT":
            dbapi_connection.autocommit = True
            dbapi_connection.isolation_level = None
        else:
            dbapi_connection.autocommit = False
            dbapi_connection.isolation_level = level

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        idle = dbapi_connection.transaction_status == "I"
        level = super().get_isolation_level(dbapi_connection)
        if idle:
            # Asking opened a transaction (in manual mode); end it.
            dbapi_connection.rollback()
        return level

    # Two-phase commit through the DB-API's tpc_* methods (the core's
    # pga_prepare and COMMIT/ROLLBACK PREPARED), as psycopg's dialect does:
    # PREPARE ends the transaction in hand, and COMMIT PREPARED is sent with
    # no BEGIN before it.
    def do_begin_twophase(self, connection: Any, xid: Any) -> None:
        connection.connection.dbapi_connection.tpc_begin(xid)

    def do_prepare_twophase(self, connection: Any, xid: Any) -> None:
        connection.connection.dbapi_connection.tpc_prepare()

    def _do_twophase(self, connection: Any, commit: bool, xid: Any, recover: bool) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        finish = dbapi_connection.tpc_commit if commit else dbapi_connection.tpc_rollback
        if not recover:
            finish()
            return
        # Recovering a transaction prepared elsewhere: this connection's own
        # (idle-time) transaction must end first.
        if dbapi_connection.transaction_status != "I":
            dbapi_connection.rollback()
        finish(xid)

    def do_rollback_twophase(self, connection: Any, xid: Any, is_prepared: bool = True,
                             recover: bool = False) -> None:
        self._do_twophase(connection, False, xid, recover)

    def do_commit_twophase(self, connection: Any, xid: Any, is_prepared: bool = True,
                           recover: bool = False) -> None:
        self._do_twophase(connection, True, xid, recover)

    def do_recover_twophase(self, connection: Any) -> Any:
        return [str(xid) for xid in connection.connection.dbapi_connection.tpc_recover()]

    def detect_autocommit_setting(self, dbapi_connection: Any) -> bool:
        return bool(dbapi_connection.autocommit)

    def set_readonly(self, connection: Any, value: bool) -> None:
        connection.read_only = value

    def get_readonly(self, connection: Any) -> bool:
        return bool(connection.read_only)

    def set_deferrable(self, connection: Any, value: bool) -> None:
        connection.deferrable = value

    def get_deferrable(self, connection: Any) -> bool:
        return bool(connection.deferrable)

    def do_ping(self, dbapi_connection: Any) -> bool:
        # A session the server ended while we were idle shows on the socket:
        # the core reads it without a round trip (pga_conn_probe).
        if not dbapi_connection._alive():
            return False
        # Else ask the server, outside any transaction, as psycopg's dialect
        # does: a ping must not open the caller's transaction early.
        autocommit = dbapi_connection.autocommit
        if not autocommit:
            dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(self._dialect_specific_select_one)
            finally:
                cursor.close()
        finally:
            if not autocommit and not dbapi_connection.closed:
                dbapi_connection.autocommit = False
        return True

    def is_disconnect(self, e: Any, connection: Any, cursor: Any) -> bool:
        if not isinstance(e, self.dbapi.Error):
            return False
        if connection is not None and connection.closed:
            return True
        return getattr(e, "_pga_code", None) in _DISCONNECT_CODES


def _codes(*names: str) -> frozenset:
    from . import _pgatomic
    all_names = _pgatomic.error_names()     # code -1 first, then -2, ...
    return frozenset(-(all_names.index(n) + 1) for n in names)


# The core's codes for "the session is gone" (pgatomic.h, PGA_ERRNO_MAP).
_DISCONNECT_CODES = _codes("ECONN", "ECOMMITUNKNOWN", "ECLOSED")

dialect = PGDialect_pgatomic


# -- asyncio: postgresql+pgatomic_async ---------------------------------------
# Built as SQLAlchemy's own asyncpg and psycopg async adapters are
# (sqlalchemy.connectors.asyncio): the DB-API seen by the dialect is a thin
# sync facade whose methods await pgatomic.dbapi's AsyncConnection and
# AsyncCursor through SQLAlchemy's greenlet bridge (await_only).  The
# dialect itself is the synchronous one: same types, same SQL, same
# transaction handling, so BEGIN and savepoints cost what they cost there.

def _async_adapters() -> Any:
    from sqlalchemy.connectors.asyncio import (
        AsyncAdapt_dbapi_connection,
        AsyncAdapt_dbapi_cursor,
        AsyncAdapt_dbapi_module,
        AsyncAdapt_dbapi_ss_cursor,
        AsyncAdapt_terminate,
    )
    from sqlalchemy.util.concurrency import await_only

    class AsyncAdapt_pgatomic_cursor(AsyncAdapt_dbapi_cursor):
        __slots__ = ()

    class AsyncAdapt_pgatomic_ss_cursor(AsyncAdapt_dbapi_ss_cursor):
        """stream_results on asyncio: pgatomic.dbapi.AsyncServerCursor."""

        __slots__ = ("_name",)

        def __init__(self, adapt_connection: Any, name: str) -> None:
            self._name = name
            super().__init__(adapt_connection)

        def _make_new_cursor(self, connection: Any) -> Any:
            return connection.cursor(self._name)

        name = property(lambda self: self._name)

    class AsyncAdapt_pgatomic_connection(AsyncAdapt_terminate, AsyncAdapt_dbapi_connection):
        """The DB-API connection attributes the dialect reads and sets.
        None of them waits for the server (the core folds them into the
        next BEGIN), so they go to the session directly."""

        __slots__ = ()
        _cursor_cls = AsyncAdapt_pgatomic_cursor

        def cursor(self, name: Any = None, server_side: bool = False) -> Any:
            # The execution context names its server-side cursors
            # (create_server_side_cursor), as psycopg's dialect does.
            if name:
                return AsyncAdapt_pgatomic_ss_cursor(self, name)
            if server_side:
                return AsyncAdapt_pgatomic_ss_cursor(self, "c_%s" % hex(_server_side_id())[2:])
            return AsyncAdapt_pgatomic_cursor(self)

        def _session(self) -> Any:
            return self._connection._c

        autocommit = property(lambda self: self._session().autocommit,
                              lambda self, v: setattr(self._session(), "autocommit", v))
        isolation_level = property(lambda self: self._session().isolation_level,
                                   lambda self, v: setattr(self._session(), "isolation_level", v))
        read_only = property(lambda self: self._session().read_only,
                             lambda self, v: setattr(self._session(), "read_only", v))
        deferrable = property(lambda self: self._session().deferrable,
                              lambda self, v: setattr(self._session(), "deferrable", v))
        json_loads = property(lambda self: self._session().json_loads,
                              lambda self, v: setattr(self._session(), "json_loads", v))
        transaction_status = property(lambda self: self._session().transaction_status)
        closed = property(lambda self: self._connection.closed)

        def _alive(self) -> bool:
            return bool(self._session()._alive())

        def close(self) -> None:
            self.await_(self._connection.close())

        # terminate(), as asyncpg's adapter has it: the pool calls it for a
        # connection whose task was cancelled mid-operation, and from the
        # garbage collector outside any greenlet.  Closing never waits for
        # the server here, so the graceful and the forced close are one.
        async def _terminate_graceful_close(self) -> None:
            await self._connection.close()

        def _terminate_force_close(self) -> None:
            conn = self._connection
            if conn._c is not None:
                conn._drop(conn._c)

    class PgatomicAdaptDBAPI(AsyncAdapt_dbapi_module):
        def __init__(self, dbapi: Any) -> None:
            self.dbapi = dbapi
            for name, value in vars(dbapi).items():
                if not name.startswith("_") and name != "connect":
                    self.__dict__[name] = value

        def connect(self, *args: Any, **kwargs: Any) -> Any:
            creator = kwargs.pop("async_creator_fn", self.dbapi.connect_async)
            return AsyncAdapt_pgatomic_connection(self, await_only(creator(*args, **kwargs)))

    return PgatomicAdaptDBAPI


class PGDialectAsync_pgatomic(PGDialect_pgatomic):
    """``postgresql+pgatomic_async``, for ``create_async_engine()``."""

    driver = "pgatomic_async"
    is_async = True
    has_terminate = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        from . import dbapi
        return _async_adapters()(dbapi)

    @classmethod
    def get_pool_class(cls, url: Any) -> Any:
        from sqlalchemy import pool
        return pool.AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection._connection

    def do_terminate(self, dbapi_connection: Any) -> None:
        dbapi_connection.terminate()

    def do_begin_twophase(self, connection: Any, xid: Any) -> None:
        # The tpc_* methods exist on the synchronous DB-API connection only.
        raise NotImplementedError(
            "two-phase commit is not available on postgresql+pgatomic_async; "
            "use postgresql+pgatomic")


dialect_async = PGDialectAsync_pgatomic
