"""Connections: ``connect()``, ``configure()``, ``connections[alias]`` (one
per thread per alias, opened lazily, reopened after ``close()`` outside any
block, as Django's are) and the ``connection`` proxy."""

from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from typing import (
    Any, Callable, ContextManager, Dict, Iterable, Iterator, List, Literal, Optional,
    Sequence, Tuple,
)

from . import _pgatomic
from ._pipeline import PipelinedResult
from ._tpc import TwoPhaseCommit
from .errors import ProgrammingError

__all__ = ["Connection", "connect", "configure", "connections", "connection",
           "get_connection"]

Result = _pgatomic.Result
Stream = _pgatomic.Stream


class Connection(TwoPhaseCommit, _pgatomic.Connection):
    """A PostgreSQL session with Django-style atomic blocks, and the DB-API's
    two-phase commit (``tpc_begin()`` ... ``tpc_recover()``).

    The C base type does the work with positional arguments; this class adds
    keywords and defaults.  A connection belongs to the thread that made it.
    """

    __module__ = "pgatomic"

    # The alias this thread's connection serves (errors name it); None for
    # an independent connection.
    _alias: Optional[str] = None

    # What a statement queued in a pipelined transaction gives back, for
    # the DB-API cursor (bindings/python/cursor.c) as for execute().
    _pipelined_result = PipelinedResult

    def __init__(self, dsn: Optional[str] = None, *, timeout: Optional[float] = None,
                 busy_poll_us: Optional[int] = None, _connect: bool = True) -> None:
        if timeout is not None:
            self.timeout = timeout
        if busy_poll_us is not None:
            self.busy_poll_us = busy_poll_us
        if _connect:
            self._connect(dsn)

    @property
    def timeout(self) -> Optional[float]:
        """The client deadline of every round trip, in seconds (None: none).
        When the server has not answered by then, the statement is cancelled
        (``QueryCanceled``); if the server does not answer the cancel either
        within 0.5 s more (a hung host), the connection is closed and the
        statement raises ``OperationalError`` (``CommitOutcomeUnknown`` for
        a COMMIT in flight).  Kept across ``connect()``."""
        ms = self._get_timeout()
        return ms / 1000 if ms else None

    @timeout.setter
    def timeout(self, seconds: Optional[float]) -> None:
        self._set_timeout(_timeout_ms(seconds))

    @property
    def prepare_threshold(self) -> Optional[int]:
        """How many times a statement text runs on this connection before it
        is prepared on the server (psycopg's name and meaning: 0 prepares at
        the first run, None never).  Default 4, i.e. at the 5th run (or
        ``PGA_PREPARE_THRESHOLD``, the core's count); a rollback forgets
        them all (``DEALLOCATE ALL`` rides behind it, as psycopg sends it);
        never behind a pooler that hides the server's process id
        (PgBouncer): set None to be sure."""
        n = self._get_prepare_threshold()
        return n - 1 if n > 0 else None

    @prepare_threshold.setter
    def prepare_threshold(self, n: Optional[int]) -> None:
        if n is None:
            self._set_prepare_threshold(0)
            return
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"prepare_threshold must be an int >= 0 or None, not {n!r}")
        self._set_prepare_threshold(n + 1)

    @property
    def busy_poll_us(self) -> int:
        """How many microseconds a thread waiting for the server's answer
        polls the socket before it sleeps (0: it sleeps at once).  A sleeping
        thread is woken late on many virtual machines; polling a little
        first catches a quick answer on time, at the cost of that much CPU
        when the answer is slow.  The core adapts: after answers that keep
        coming later than the budget it stops polling, and tries again now
        and then (pgatomic.h "Busy polling").  The GIL is released while
        polling, as while sleeping.  Default 150, or the environment's
        ``PGA_BUSY_POLL_US``; at most 1,000,000.  Kept across ``connect()``."""
        return self._get_busy_poll()

    @busy_poll_us.setter
    def busy_poll_us(self, us: int) -> None:
        self._set_busy_poll(_busy_poll_us(us))

    # -- statements ---------------------------------------------------------
    def execute(self, sql: str, params: Optional[Sequence[Any]] = None) -> Result:
        """Run one statement with ``$n`` parameters and return its Result.

        Without parameters ``sql`` may be a script of several commands: the
        Result holds the first command's rows and ``nextset()`` moves to the
        next, as psycopg's cursor does.  A COMMIT given as SQL that ends a
        transaction begun as SQL (or in manual mode) runs the on_commit hooks
        of its blocks before this returns; a ROLLBACK drops them."""
        try:
            # In a pipelined transaction: a PipelinedResult, read when first
            # touched (python/pgatomic/_pipeline.py).
            return self._execute_lazy(sql, params, PipelinedResult)
        finally:
            if self._hooks_ready:
                _run_hooks(self._take_hooks())

    def stream(self, sql: str, params: Optional[Sequence[Any]] = None, *,
               size: int = 1000) -> Stream:
        """Run one statement and iterate over its rows without holding them
        all: they are read ``size`` at a time (at most one batch is held), the
        GIL released while waiting for the next.  ``for row in
        conn.stream(sql, params):`` yields tuples; the Stream also has
        ``columns``, and ``status`` / ``rowcount`` once every row was read.

        Inside an atomic block it is one of the block's statements (BEGIN or
        SAVEPOINT ride with it); an error while rows arrive raises from the
        iteration and breaks the block like any failed statement.  Stopping
        early (``break``, ``close()``, the ``with`` block's end, or the next
        statement on the connection) reads the rows left and drops them, so
        the statement completes as it would have and the connection is free;
        call ``cancel()`` first to stop a long one sooner (it then fails with
        ``QueryCanceled``).  One statement only: no scripts, no BEGIN/COMMIT.
        """
        return self._stream(sql, params, size)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter sequence.  In a pipelined
        transaction each joins the flight (nothing waits)."""
        if self._pipeline_active():
            for params in seq:
                self._execute_lazy(sql, params, PipelinedResult)
            return
        self._executemany(sql, seq)

    # -- life cycle -----------------------------------------------------------
    def connect(self) -> None:
        """Open the session again after ``close()`` (same connection string)."""
        self._connect(None)

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> Literal[False]:
        self.close()
        return False

    # -- manual mode ------------------------------------------------------------
    def commit(self) -> None:
        """Commit the manual transaction, then run its on_commit hooks."""
        if self._tpc_xid is not None:
            raise ProgrammingError("commit() cannot be used during a two-phase transaction")
        try:
            self._commit()
        finally:
            hooks = self._take_hooks()
        _run_hooks(hooks)

    def rollback(self) -> None:
        """Roll back the manual transaction (its hooks are dropped)."""
        if self._tpc_xid is not None:
            raise ProgrammingError("rollback() cannot be used during a two-phase transaction")
        try:
            self._rollback()
        finally:
            self._take_hooks()

    # -- django.db.transaction as methods ---------------------------------------
    def atomic(self, savepoint: bool = True, durable: bool = False, *,
               isolation: Any = None, read_only: Optional[bool] = None,
               deferrable: Optional[bool] = None, retries: Optional[int] = None,
               pipeline: bool = False) -> Any:
        from .transaction import Atomic
        return Atomic(self, savepoint, durable, isolation, read_only, deferrable, retries,
                      pipeline)

    def on_commit(self, func: Callable[[], Any], robust: bool = False) -> None:
        from .transaction import on_commit
        on_commit(func, using=self, robust=robust)

    def get_rollback(self) -> bool:
        return self._get_rollback()

    def set_rollback(self, rollback: bool) -> None:
        self._set_rollback(rollback)

    def savepoint(self) -> Optional[str]:
        return self._savepoint()

    def savepoint_commit(self, sid: Optional[str]) -> None:
        if sid is not None:
            self._savepoint_commit(sid)

    def savepoint_rollback(self, sid: Optional[str]) -> None:
        if sid is not None:
            self._savepoint_rollback(sid)

    def clean_savepoints(self) -> None:
        """Django resets its savepoint counter here; the core names
        savepoints itself, so there is nothing to reset."""
        self.get_autocommit()   # the usual guard: open object, right thread

    def mark_for_rollback_on_error(self) -> ContextManager[None]:
        from .transaction import mark_for_rollback_on_error
        return mark_for_rollback_on_error(using=self)


def _timeout_ms(seconds: Optional[float]) -> int:
    """A timeout in seconds (None: none) as the core's milliseconds (0: none)."""
    if seconds is None:
        return 0
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, not {seconds!r}")
    return max(1, int(seconds * 1000))


def _busy_poll_us(us: Any) -> int:
    """busy_poll_us checked for its type (the core checks the range:
    ValueError, as for the other settings)."""
    if isinstance(us, bool) or not isinstance(us, int):
        raise TypeError(f"busy_poll_us must be an int (microseconds), not {type(us).__name__}")
    return us


def _hook_name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or str(func)


@contextmanager
def _hook_guard(func: Any, robust: bool, when: str) -> Iterator[None]:
    """Django's policy for one on_commit hook, for both drivers: a robust
    hook's failure is logged on the pgatomic logger (``when`` is "" or
    "during transaction ") and the next hook runs; any other failure
    propagates and drops the rest."""
    if not robust:
        yield
        return
    try:
        yield
    except Exception as e:
        logging.getLogger("pgatomic").error(
            f"Error calling {_hook_name(func)} in on_commit() {when}(%s).", e, exc_info=True)


def _run_hooks(hooks: Sequence[Tuple[Callable[[], Any], bool]]) -> None:
    """Run committed on_commit hooks in order (django's
    run_and_clear_commit_hooks)."""
    for func, robust in hooks:
        with _hook_guard(func, robust, "during transaction "):
            func()


def connect(dsn: Optional[str] = None, *, timeout: Optional[float] = None,
            busy_poll_us: Optional[int] = None) -> Connection:
    """Open an independent connection (``dsn`` None: libpq's defaults).
    ``timeout``: see ``Connection.timeout``; connect_timeout in the string
    bounds the connect itself.  ``busy_poll_us``: see
    ``Connection.busy_poll_us`` (None: the core's default)."""
    return Connection(dsn, timeout=timeout, busy_poll_us=busy_poll_us)


# -- aliases -------------------------------------------------------------------

_config_lock = threading.Lock()
_config: Dict[str, Optional[str]] = {}
_generation = 0          # bumped by configure(): old per-thread connections retire
_local = threading.local()


class ConnectionDoesNotExist(KeyError):
    """No such alias was configured."""

    __module__ = "pgatomic"


def configure(**aliases: Optional[str]) -> None:
    """Name connection strings, like Django's DATABASES:
    ``configure(default="postgresql:///app", other="...")``."""
    global _generation
    for alias, dsn in aliases.items():
        if dsn is not None and not isinstance(dsn, str):
            raise TypeError(f"the connection string of {alias!r} must be a str or None")
    with _config_lock:
        _config.clear()
        _config.update(aliases)
        _generation += 1


def _dsn_for(alias: str) -> Optional[str]:
    with _config_lock:
        if alias in _config:
            return _config[alias]
    if alias == "default":
        return os.environ.get("DATABASE_URL") or None
    raise ConnectionDoesNotExist(f"The connection '{alias}' doesn't exist.")


def _thread_connections() -> Dict[str, Tuple[Connection, int]]:
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    return conns


def get_connection(using: Any = None, *, reopen: bool = True) -> Connection:
    """The current thread's connection for an alias (or ``using`` itself
    when it is a Connection), opened on first use and reopened when it was
    closed and no block is active."""
    if isinstance(using, _pgatomic.Connection):
        return using  # type: ignore[return-value]
    alias = "default" if using is None else using
    if not isinstance(alias, str):
        raise TypeError(f"using must be an alias (str) or None, not {type(alias).__name__}")
    conns = _thread_connections()
    entry = conns.get(alias)
    if entry is not None:
        conn, generation = entry
        if generation == _generation or conn.in_atomic_block or not reopen:
            # _alive() also notices a session the server ended while we were
            # idle (restart, pg_terminate_backend), so the next statement
            # runs on a new session instead of failing once.
            if reopen and not conn.in_atomic_block and not conn._alive():
                conn.connect()
            return conn
        conn.close()        # configure() changed the aliases: retire it
        del conns[alias]
    conn = Connection(_dsn_for(alias))
    conn._alias = alias
    conns[alias] = (conn, _generation)
    return conn


class _Connections:
    """``connections[alias]``: the current thread's connection for alias."""

    def __getitem__(self, alias: str) -> Connection:
        return get_connection(alias)

    def __iter__(self) -> Iterator[str]:
        with _config_lock:
            names = list(_config) or ["default"]
        return iter(names)

    def all(self) -> List[Connection]:
        """This thread's open connections."""
        return [conn for conn, _ in _thread_connections().values()]

    def close_all(self) -> None:
        """Close this thread's connections."""
        for conn in self.all():
            conn.close()

    def __repr__(self) -> str:
        return "<pgatomic.connections>"


connections = _Connections()


class _ConnectionProxy:
    """``pgatomic.connection``: the current thread's "default" connection."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(get_connection(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(get_connection(), name, value)

    def __dir__(self) -> Iterable[str]:
        return dir(Connection)

    def __repr__(self) -> str:
        return f"<pgatomic.connection proxy for {get_connection()!r}>"


connection: Any = _ConnectionProxy()

