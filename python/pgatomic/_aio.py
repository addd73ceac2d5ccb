"""asyncio: ``await pgatomic.connect_async()``, ``AsyncConnection``, the
current task's connections (``aconnections``, ``aconnection``) and
``AsyncPool``.

The same core machine as the blocking API, driven from the event loop: an
operation is begun by a ``_*_start`` of the binding (it never waits), is
stepped whenever ``loop.add_reader``/``add_writer`` reports the socket
ready, and ends in the binding's one finish, the blocking methods' own.  No
thread per query, and no transaction logic here: the core decides, this
module waits.  ``async with pgatomic.atomic()`` lives with the rest of
``atomic`` in ``pgatomic.transaction``.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
import weakref
from typing import (
    Any, AsyncIterator, Awaitable, Callable, Dict, Iterable, Iterator, List, Optional,
    Sequence, Tuple,
)

from . import _pgatomic
from ._connections import Result, _dsn_for, _hook_guard, _timeout_ms
from .errors import (
    ROLLBACK_FLAG_OUTSIDE,
    Error,
    InterfaceError,
    PoolTimeout,
    TransactionManagementError,
)

__all__ = ["AsyncConnection", "AsyncPool", "AsyncStream", "connect_async", "aconnections",
           "aconnection", "get_async_connection", "in_async_context"]

logger = logging.getLogger("pgatomic")

READ = 1     # PGA_WANT_READ, PGA_READY_READ
WRITE = 2    # PGA_WANT_WRITE, PGA_READY_WRITE

# How long a cancelled task waits for the server to end its statement
# before the session is given up: the blocking API's Ctrl-C waits as long.
CANCEL_WAIT = 2.0


# -- the driver -------------------------------------------------------------
#
# A connection keeps a reader on its socket from its first wait on, so a
# statement costs no selector registration; a writer, and the timer of a
# deadline, last one wait.  A watched descriptor must never be closed
# behind the loop's back: epoll forgets a closed descriptor, and the loop's
# stale entry would make the next socket given that number silent
# (libuv's poll.rst: stop watching before the descriptor closes).  So every
# path that may close it (close(), a failed operation, handing the session
# to a pool) stops watching first or checks right after.

def _wake(fut: "asyncio.Future[int]", mask: int) -> None:
    # Readiness may be reported twice in one loop iteration (reader and
    # writer) or after the waiter gave up; the first report wins.
    if not fut.done():
        fut.set_result(mask)


async def _wait(conn: "AsyncConnection", c: Any, want: int,
                timeout: Optional[float] = None) -> int:
    """Wait until c's socket is ready as want asks, or until the core's next
    deadline (connect_timeout, the statement timeout, a cancel in flight)
    or timeout passes (0: step anyway, and the core acts on its deadline).
    Socket and deadline are read again every time: libpq may switch
    sockets while connecting."""
    loop = asyncio.get_running_loop()
    fd = c._socket()
    deadline = c._timeout_ms()
    if deadline >= 0 and (timeout is None or deadline < timeout * 1000):
        timeout = deadline / 1000
    if conn._rfd != fd or conn._rloop is not loop:
        conn._unwatch()
        loop.add_reader(fd, conn._readable)
        conn._rfd, conn._rloop = fd, loop
    fut = conn._fut = loop.create_future()
    if want & WRITE:
        loop.add_writer(fd, _wake, fut, WRITE)
        conn._wfd = fd
    timer = loop.call_later(timeout, _wake, fut, 0) if timeout is not None else None
    try:
        return await fut
    finally:
        conn._fut = None
        if conn._wfd == fd:
            loop.remove_writer(fd)
            conn._wfd = -1
        if timer is not None:
            timer.cancel()


async def _run(conn: "AsyncConnection", c: Any, start: Callable[..., int], *args: Any,
               cancel: bool = True) -> Any:
    """Run one operation: start(*args) begins it (one of c's ``_*_start``,
    which also takes the first step), then step it whenever the socket is
    ready, and return its outcome as the blocking method would.
    cancel=False for a connect: a cancelled task then drops the half-open
    session instead of cancelling a statement."""
    rc = 0
    try:
        rc = start(*args)
        while rc:
            rc = c._step(await _wait(conn, c, rc))
        return c._finish(0)
    except asyncio.CancelledError:
        await _cancelled(conn, c, rc, cancel)
        raise
    except BaseException:
        # A failure may have closed the socket (libpq drops a lost
        # connection, the core closes a hung one): stop watching it now.
        if conn._rfd >= 0 and c._socket() != conn._rfd:
            conn._unwatch()
        raise


async def _cancelled(conn: "AsyncConnection", c: Any, rc: int, cancel: bool) -> None:
    """The task was cancelled (task.cancel(), asyncio.timeout()) while its
    operation waited.  As Ctrl-C in the blocking API: ask the server to
    cancel the statement, then wait for it to end, at most CANCEL_WAIT and
    through further cancellations, so the block stack stays in step with
    the server (the block is then broken and rolls back when it exits).  A
    server that answers neither, like a connect, loses its session.  The
    operation's own outcome is dropped: the task gets its CancelledError."""
    if not cancel:
        conn._drop(c)
        return
    c.cancel()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CANCEL_WAIT
    try:
        while rc:
            left = deadline - loop.time()
            if left <= 0:
                conn._drop(c)
                return
            try:
                ready = await _wait(conn, c, rc, left)
            except asyncio.CancelledError:
                continue          # cancelled again: already cancelling
            rc = c._step(ready)
        c._finish(0)
    except Error:
        pass                      # QueryCanceled, most likely: it is the cancel
    if conn._rfd >= 0 and c._socket() != conn._rfd:
        conn._unwatch()


# -- connections -------------------------------------------------------------

def _session_property(name: str, fresh: Any, doc: str) -> Any:
    def get(self: "AsyncConnection") -> Any:
        c = self._c
        return fresh if c is None else getattr(c, name)
    return property(get, doc=doc)


class AsyncConnection:
    """A PostgreSQL session for asyncio: the coroutine twins of
    ``pgatomic.Connection``'s methods, and the same atomic blocks.

    ``await pgatomic.connect_async(dsn)`` opens one.  Methods that talk to
    the server are coroutines (``execute``, ``executemany``, ``commit``,
    ``rollback``, ``close``, ``connect``, ``set_autocommit``, ``cancel``);
    those that only change what the core will send later (savepoints, the
    rollback flag, ``on_commit``) are plain methods, as in the blocking
    API.  One operation at a time: a second task using the connection while
    an operation waits gets ``InterfaceError`` (use a connection per task:
    ``pgatomic.aconnection``, or an ``AsyncPool``)."""

    __module__ = "pgatomic"
    __slots__ = ("_c", "_rfd", "_rloop", "_wfd", "_fut", "__weakref__")

    def __init__(self, _session: Any = None) -> None:
        self._c = _session
        self._rfd = -1                  # the socket our reader watches
        self._rloop: Optional[asyncio.AbstractEventLoop] = None
        self._wfd = -1                  # the socket a wait's writer watches
        self._fut: Optional["asyncio.Future[int]"] = None    # the wait in progress

    def _readable(self) -> None:
        fut = self._fut
        if fut is None:
            # Data nobody asked for (a notice, the FATAL of a terminated
            # session) while no operation waits: stop watching until the
            # next wait, or the level-triggered loop would spin on it.
            self._unwatch()
        elif not fut.done():
            fut.set_result(READ)

    def _unwatch(self) -> None:
        if self._rfd >= 0:
            self._rloop.remove_reader(self._rfd)
            self._rfd = -1
            self._rloop = None
        if self._wfd >= 0:
            asyncio.get_running_loop().remove_writer(self._wfd)
            self._wfd = -1

    def _drop(self, c: Any) -> None:
        """Close the session c, watching nothing of it any more; a wait in
        progress (another task's) ends and its next step finds the
        connection closed."""
        fut = self._fut
        self._unwatch()
        c.close()
        if fut is not None:
            _wake(fut, 0)

    # The session: always there for an independent connection; a task's
    # alias connection takes one from its pool on first use.  Methods ask
    # _ready() (no await on the hot path) and only when it has none,
    # await _session().
    def _ready(self) -> Any:
        return self._c

    async def _session(self) -> Any:
        return self._c

    # -- statements -------------------------------------------------------------
    async def execute(self, sql: str, params: Optional[Sequence[Any]] = None) -> Result:
        """Run one statement with ``$n`` parameters and return its Result
        (a script of several commands without parameters: ``nextset()``)."""
        c = self._ready() or await self._session()
        return await _run(self, c, c._execute_start, sql, params)

    def stream(self, sql: str, params: Optional[Sequence[Any]] = None, *,
               size: int = 1000) -> "AsyncStream":
        """The rows of one statement, read ``size`` at a time, as an async
        iterator: ``async with conn.stream(sql) as rows: async for row in
        rows: ...`` (the blocking ``Connection.stream()``'s twin; the
        statement is sent on the first ``__anext__``).  Leave it with
        ``aclose()`` or ``async with``: the rows left are read and dropped
        without blocking the loop.  A stream left unclosed is drained by
        the connection's next statement, blocking the loop meanwhile."""
        return AsyncStream(self, sql, params, size)

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter sequence: in one round trip
        inside a transaction, one statement after another outside one."""
        c = self._ready() or await self._session()
        await _run(self, c, c._executemany_start, sql, seq)

    # -- life cycle ---------------------------------------------------------------
    async def connect(self, dsn: Optional[str] = None) -> None:
        """Open the session (again after ``close()``: with the same string)."""
        c = self._c if self._c is not None else await self._session()
        await _run(self, c, c._connect_start, dsn, cancel=False)

    async def close(self) -> None:
        """Close the session.  Inside a block, leaving it then sends nothing
        and statements raise, as in the blocking API.  An operation another
        task is waiting on ends with ``InterfaceError``."""
        if self._c is not None:
            self._drop(self._c)

    async def __aenter__(self) -> "AsyncConnection":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def cancel(self) -> bool:
        """Ask the server to cancel the running statement (from any task)."""
        c = self._c
        if c is None or not c.cancel():
            return False
        # A request still connecting (TCP: a pooler, a remote host) is
        # finished by the connection's next steps: wake the waiting
        # operation so that it steps, and its next wait takes the core's
        # short tick (pga_conn_timeout_ms()) until the request is written.
        fut = self._fut
        if fut is not None:
            _wake(fut, 0)
        return True

    @property
    def timeout(self) -> Optional[float]:
        """The client deadline of every round trip, in seconds (None: none),
        as ``pgatomic.Connection.timeout``: the statement is cancelled at
        the deadline, the session closed 0.5 s later if the server answers
        nothing.  A task's alias connection takes its pool's."""
        c = self._c
        ms = c._get_timeout() if c is not None else 0
        return ms / 1000 if ms else None

    @timeout.setter
    def timeout(self, seconds: Optional[float]) -> None:
        c = self._c
        if c is None:
            raise InterfaceError("this task's connection has no session yet: set its pool's "
                                 "timeout with pgatomic.aconnections.configure(timeout=...)")
        c._set_timeout(_timeout_ms(seconds))

    # -- manual mode ----------------------------------------------------------------
    def get_autocommit(self) -> bool:
        c = self._c
        return True if c is None else c.get_autocommit()

    async def set_autocommit(self, autocommit: bool) -> None:
        """Django's manual mode (a coroutine, as psycopg's: a task's alias
        connection may first have to take its session from the pool)."""
        c = self._ready() or await self._session()
        c.set_autocommit(autocommit)

    async def commit(self) -> None:
        """Commit the manual transaction, then run its on_commit hooks."""
        c = self._ready() or await self._session()
        try:
            await _run(self, c, c._commit_start)
        finally:
            hooks = c._take_hooks()
        await _arun_hooks(hooks)

    async def rollback(self) -> None:
        """Roll back the manual transaction (its hooks are dropped)."""
        c = self._ready() or await self._session()
        try:
            await _run(self, c, c._rollback_start)
        finally:
            c._take_hooks()

    # -- django.db.transaction as methods ----------------------------------------------
    def atomic(self, savepoint: bool = True, durable: bool = False, *,
               isolation: Any = None, read_only: Optional[bool] = None,
               deferrable: Optional[bool] = None, retries: Optional[int] = None) -> Any:
        """``async with conn.atomic():`` (or ``@conn.atomic(...)`` on an
        ``async def``)."""
        from .transaction import Atomic
        return Atomic(self, savepoint, durable, isolation, read_only, deferrable, retries)

    def on_commit(self, func: Callable[[], Any], robust: bool = False) -> None:
        from .transaction import on_commit
        on_commit(func, using=self, robust=robust)

    def get_rollback(self) -> bool:
        c = self._c
        if c is None:
            raise TransactionManagementError(ROLLBACK_FLAG_OUTSIDE)
        return c._get_rollback()

    def set_rollback(self, rollback: bool) -> None:
        c = self._c
        if c is None:
            raise TransactionManagementError(ROLLBACK_FLAG_OUTSIDE)
        c._set_rollback(rollback)

    def savepoint(self) -> Optional[str]:
        c = self._c
        return None if c is None else c._savepoint()

    def savepoint_commit(self, sid: Optional[str]) -> None:
        if sid is not None and self._c is not None:
            self._c._savepoint_commit(sid)

    def savepoint_rollback(self, sid: Optional[str]) -> None:
        if sid is not None and self._c is not None:
            self._c._savepoint_rollback(sid)

    def clean_savepoints(self) -> None:
        """Kept for Django compatibility: the core names savepoints itself."""

    def mark_for_rollback_on_error(self) -> Any:
        from .transaction import mark_for_rollback_on_error
        return mark_for_rollback_on_error(using=self)

    # -- properties (a task's connection without a session yet reads as a
    # fresh one: autocommit, no block) -------------------------------------------------
    closed = _session_property("closed", True, "True when no healthy session is open.")
    in_atomic_block = _session_property("in_atomic_block", False, "True inside an atomic block.")
    needs_rollback = _session_property(
        "needs_rollback", False, "The innermost block's rollback flag (False outside blocks).")
    savepoint_ids = _session_property(
        "savepoint_ids", (), "The savepoint names of the enclosing blocks.")
    autocommit = _session_property("autocommit", True, "False in manual transaction management.")
    atomic_depth = _session_property("atomic_depth", 0, "The number of active atomic blocks.")
    round_trips = _session_property(
        "round_trips", 0, "Protocol round trips since the session opened.")
    transaction_status = _session_property(
        "transaction_status", "U", "libpq's transaction status: I, T, E, A or U.")

    def __repr__(self) -> str:
        c = self._c
        inner = "no session yet" if c is None else repr(c).replace("<pgatomic.Connection ", "")[:-1]
        return f"<pgatomic.AsyncConnection {inner}>"


class AsyncStream:
    """``AsyncConnection.stream()``: the rows of one statement, a batch at a
    time.  ``columns`` once the first batch arrived; ``status`` and
    ``rowcount`` once every row was read (None and -1 before)."""

    __module__ = "pgatomic"
    __slots__ = ("_conn", "_c", "_start", "_rows", "_pos", "_open", "columns", "status",
                 "rowcount")

    def __init__(self, conn: AsyncConnection, sql: str, params: Optional[Sequence[Any]],
                 size: int) -> None:
        self._conn = conn
        self._c: Any = None
        self._start: Optional[Tuple[str, Optional[Sequence[Any]], int]] = (sql, params, size)
        self._rows: List[Tuple[Any, ...]] = []
        self._pos = 0
        self._open = False
        self.columns: Optional[List[str]] = None
        self.status: Optional[str] = None
        self.rowcount = -1

    def _take(self, batch: Result) -> None:
        self._rows = batch.rows
        self._pos = 0
        if self.columns is None:
            self.columns = batch.columns
        if not self._c._stream_more():
            self._open = False
            self.status = batch.status
            self.rowcount = batch.rowcount

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> Tuple[Any, ...]:
        while True:
            if self._pos < len(self._rows):
                row = self._rows[self._pos]
                self._pos += 1
                return row
            if self._start is not None:
                sql, params, size = self._start
                self._start = None
                c = self._c = self._conn._ready() or await self._conn._session()
                self._open = True
                try:
                    batch = await _run(self._conn, c, c._stream_start, sql, params, size)
                except BaseException:
                    self._open = c._stream_more()
                    raise
            elif self._open:
                try:
                    batch = await _run(self._conn, self._c, self._c._stream_next_start)
                except BaseException:
                    self._open = self._c._stream_more()
                    raise
            else:
                raise StopAsyncIteration
            self._take(batch)

    async def aclose(self) -> None:
        """Stop reading: the rows left are read and dropped (never
        cancelled); an error among them is raised here."""
        self._rows = []
        self._start = None
        if self._open and self._c._stream_more():
            self._open = False
            await _run(self._conn, self._c, self._c._stream_close_start)
        self._open = False

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


async def connect_async(dsn: Optional[str] = None, *,
                        timeout: Optional[float] = None) -> AsyncConnection:
    """Open an independent connection without blocking the event loop
    (``dsn`` None: libpq's defaults; ``timeout``: see
    ``AsyncConnection.timeout``; connect_timeout in the string bounds the
    connect itself).  libpq still looks host names up synchronously: a host
    given as an address or a socket directory avoids that."""
    c = _pgatomic.Connection()
    c._set_timeout(_timeout_ms(timeout))
    conn = AsyncConnection(c)
    await conn.connect(dsn)
    return conn


# -- on_commit hooks after an async block -------------------------------------

def _is_coroutine_function(func: Any) -> bool:
    """An ``async def`` (or a partial of one, or an object whose
    ``__call__`` is one)."""
    return (inspect.iscoroutinefunction(func)
            or inspect.iscoroutinefunction(getattr(func, "__call__", None)))


async def _arun_hooks(hooks: Sequence[Tuple[Callable[[], Any], bool]]) -> None:
    """Run committed on_commit hooks in order, awaiting what they return
    when it is awaitable; failures as in the blocking API (robust: logged,
    the next runs; otherwise it propagates and the rest are dropped)."""
    for func, robust in hooks:
        with _hook_guard(func, robust, "during transaction "):
            result = func()
            if inspect.isawaitable(result):
                await result


_now_tasks: "weakref.WeakSet[asyncio.Task[Any]]" = weakref.WeakSet()


def _run_now(func: Callable[[], Any], robust: bool) -> None:
    """on_commit() with no transaction open, in a task: a plain function runs
    at once, as in the blocking API; a coroutine function is started as a
    task of its own at once (there is nobody to await it: on_commit() is
    not a coroutine), and its failure is logged like a robust hook's."""
    if not _is_coroutine_function(func):
        with _hook_guard(func, robust, ""):
            func()
        return

    async def run() -> None:
        with _hook_guard(func, True, ""):
            await func()
    task = asyncio.get_running_loop().create_task(run())
    _now_tasks.add(task)


# -- the current task's connections ---------------------------------------------

def in_async_context() -> bool:
    """True inside a running event loop, where ``pgatomic.transaction``'s
    functions act on the current task's connections (unless
    PGATOMIC_ALLOW_ASYNC_UNSAFE keeps the thread's synchronous ones)."""
    return (asyncio._get_running_loop() is not None
            and not os.environ.get("PGATOMIC_ALLOW_ASYNC_UNSAFE"))


class AsyncPool:
    """A pool of sessions for asyncio tasks: at most ``max_size`` open at
    once; a task waiting longer than ``acquire_timeout`` seconds for one
    gets ``PoolTimeout``.  Sessions are opened when needed, handed back in
    the state a task left them in only if that state is clean (no block,
    autocommit on, no operation in flight), else closed.

        pool = pgatomic.AsyncPool("postgresql:///app", max_size=10)
        async with pool.connection() as conn:
            async with conn.atomic():
                await conn.execute(...)

    The current task's ``pgatomic.aconnections[alias]`` draws from one pool
    per alias and event loop (``aconnections.configure()`` sets its size)."""

    __module__ = "pgatomic"

    def __init__(self, dsn: Optional[str] = None, *, max_size: int = 10,
                 acquire_timeout: float = 30.0, timeout: Optional[float] = None) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"max_size must be an int >= 1, not {max_size!r}")
        if not isinstance(acquire_timeout, (int, float)) or acquire_timeout <= 0:
            raise ValueError(f"acquire_timeout must be > 0 seconds, not {acquire_timeout!r}")
        self.dsn = dsn
        self.max_size = max_size
        self.acquire_timeout = float(acquire_timeout)
        self.timeout = timeout
        self._timeout_ms = _timeout_ms(timeout)     # every session's, each time it is lent
        self._idle: List[Any] = []
        self._size = 0               # sessions open or being opened
        self._waiters: List["asyncio.Future[Any]"] = []
        self._closed = False

    @property
    def size(self) -> int:
        """Sessions open (idle or lent) or being opened."""
        return self._size

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def _take(self) -> Any:
        """A session of the pool, opened if none is idle and there is room,
        else the next one handed back, within acquire_timeout."""
        if self._closed:
            raise InterfaceError("the pool is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.acquire_timeout
        while True:
            while self._idle:
                c = self._idle.pop()
                if c._alive():
                    c._set_timeout(self._timeout_ms)
                    return c
                self._size -= 1          # the server closed it while idle
            if self._size < self.max_size:
                self._size += 1
                try:
                    conn = await connect_async(self.dsn, timeout=self.timeout)
                except BaseException:
                    self._size -= 1
                    self._hand_on()
                    raise
                conn._unwatch()          # the borrower's connection will watch it
                return conn._c
            left = deadline - loop.time()
            if left <= 0:
                raise PoolTimeout(
                    f"no connection of the pool became free within {self.acquire_timeout:g} s "
                    f"(max_size={self.max_size}, all in use)")
            fut = loop.create_future()
            self._waiters.append(fut)
            timer = loop.call_later(left, _wake, fut, None)
            try:
                c = await fut
            except BaseException:
                if fut.done() and not fut.cancelled() and fut.result() is not None:
                    self._give_back(fut.result())   # handed over as we left
                raise
            finally:
                timer.cancel()
                if fut in self._waiters:
                    self._waiters.remove(fut)
            if c is not None:
                return c
            # Woken without a session (the timer, or room to open one): look again.

    def _hand_on(self) -> None:
        """Room for one more session: let the first waiter look again."""
        while self._waiters:
            fut = self._waiters.pop(0)
            if not fut.done():
                fut.set_result(None)
                return

    def _give_back(self, c: Any) -> None:
        clean = (not self._closed and not c.closed and not c.in_atomic_block
                 and c.autocommit and c.transaction_status == "I")
        if not clean:
            c.close()
            self._size -= 1
            self._hand_on()
            return
        while self._waiters:
            fut = self._waiters.pop(0)
            if not fut.done():
                fut.set_result(c)
                return
        self._idle.append(c)

    async def acquire(self) -> AsyncConnection:
        """An AsyncConnection on a session of the pool; ``release()`` it."""
        return AsyncConnection(await self._take())

    def release(self, conn: AsyncConnection) -> None:
        """Hand a connection from ``acquire()`` back (closed if it is left
        inside a block or a transaction)."""
        c, conn._c = conn._c, None
        if c is not None:
            conn._unwatch()
            self._give_back(c)

    def connection(self) -> "_PoolLease":
        """``async with pool.connection() as conn:`` acquire and release."""
        return _PoolLease(self)

    async def close(self) -> None:
        """Close the idle sessions, and each lent one when it comes back;
        waiting tasks get InterfaceError."""
        self._closed = True
        idle, self._idle = self._idle, []
        for c in idle:
            c.close()
            self._size -= 1
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_exception(InterfaceError("the pool is closed"))

    def __repr__(self) -> str:
        return (f"<pgatomic.AsyncPool size={self._size} idle={len(self._idle)} "
                f"max_size={self.max_size}>")


class _PoolLease:
    __slots__ = ("pool", "conn")

    def __init__(self, pool: AsyncPool) -> None:
        self.pool = pool
        self.conn: Optional[AsyncConnection] = None

    async def __aenter__(self) -> AsyncConnection:
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, *exc: Any) -> None:
        if self.conn is not None:
            self.pool.release(self.conn)


class _TaskConnection(AsyncConnection):
    """``aconnections[alias]`` for one task: takes a session from the
    alias's pool on first use and gives it back when the task ends.  A
    session closed outside any block (by close(), or by the server) is
    replaced on next use, as Django reopens a thread's connection."""

    __slots__ = ("_alias", "_pool")

    def __init__(self, alias: str, pool: AsyncPool) -> None:
        super().__init__(None)
        self._alias = alias
        self._pool = pool

    def _ready(self) -> Any:
        c = self._c
        if c is not None and c.autocommit and not c.in_atomic_block and not c._alive():
            # The server ended the session while it was idle (restart,
            # pg_terminate_backend, idle_session_timeout), or close() was
            # called inside a block since left: the next statement gets a
            # new one, as a thread's connection is reopened.  Not inside a
            # manual transaction: that must fail where it stands.
            self._release()
            return None
        return c

    async def _session(self) -> Any:
        c = self._c
        if c is not None:
            return c
        self._c = c = await self._pool._take()
        return c

    async def close(self) -> None:
        await super().close()
        self._release()

    def _release(self) -> None:
        c = self._c
        if c is not None and not c.in_atomic_block:
            # Inside a block the closed session stays until the block is
            # left (leaving it sends nothing), as in the blocking API.
            self._c = None
            self._unwatch()
            self._pool._give_back(c)

    def __repr__(self) -> str:
        return f"<pgatomic.aconnections[{self._alias!r}] {super().__repr__()[1:-1]}>"


_task_handles: "contextvars.ContextVar[Optional[Tuple[weakref.ref[asyncio.Task[Any]], Dict[str, _TaskConnection]]]]" = \
    contextvars.ContextVar("pgatomic_aconnections", default=None)

# One pool per alias and event loop: sessions are not tied to a loop, but
# a waiting task's future is.
_loop_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[str, AsyncPool]]" = \
    weakref.WeakKeyDictionary()
_pool_options: Dict[str, Dict[str, Any]] = {}


def _alias_pool(alias: str) -> AsyncPool:
    loop = asyncio.get_running_loop()
    pools = _loop_pools.get(loop)
    if pools is None:
        pools = _loop_pools[loop] = {}
    pool = pools.get(alias)
    if pool is None or pool._closed:
        pool = pools[alias] = AsyncPool(_dsn_for(alias), **_pool_options.get(alias, {}))
    return pool


def _current_handles() -> Dict[str, _TaskConnection]:
    """The current task's alias connections.  The mapping lives in a
    context variable, but a task never uses one it inherited: a task
    created inside another's block copies that context, and must not share
    the block."""
    task = asyncio.current_task()
    if task is None:
        raise InterfaceError("pgatomic.aconnections is used from inside an asyncio task")
    entry = _task_handles.get()
    if entry is not None and entry[0]() is task:
        return entry[1]
    handles: Dict[str, _TaskConnection] = {}
    _task_handles.set((weakref.ref(task), handles))
    task.add_done_callback(lambda _t: _release_all(handles))
    return handles


def _release_all(handles: Dict[str, _TaskConnection]) -> None:
    for handle in handles.values():
        c = handle._c
        if c is not None:
            handle._c = None
            handle._unwatch()
            handle._pool._give_back(c)
    handles.clear()


def get_async_connection(using: Any = None) -> AsyncConnection:
    """The current task's connection for an alias (or ``using`` itself when
    it is an AsyncConnection)."""
    if isinstance(using, AsyncConnection):
        return using
    alias = "default" if using is None else using
    if not isinstance(alias, str):
        raise TypeError(
            f"using must be an alias (str), an AsyncConnection or None, not {type(alias).__name__}")
    handles = _current_handles()
    handle = handles.get(alias)
    if handle is None:
        handle = handles[alias] = _TaskConnection(alias, _alias_pool(alias))
    return handle


class _AsyncConnections:
    """``aconnections[alias]``: the current task's connection for alias."""

    def __getitem__(self, alias: str) -> AsyncConnection:
        return get_async_connection(alias)

    def configure(self, alias: str = "default", *, max_size: int = 10,
                  acquire_timeout: float = 30.0, timeout: Optional[float] = None) -> None:
        """The size limit, acquire timeout and statement deadline
        (``AsyncConnection.timeout``) of the alias's pools (one per event
        loop), for pools made from now on."""
        options = {"max_size": max_size, "acquire_timeout": acquire_timeout, "timeout": timeout}
        AsyncPool(None, **options)      # validates
        _pool_options[alias] = options

    def pool(self, alias: str = "default") -> AsyncPool:
        """The alias's pool in the running event loop."""
        return _alias_pool(alias)

    async def close_all(self) -> None:
        """Close the running loop's alias pools (lent sessions close when
        they come back)."""
        pools = _loop_pools.pop(asyncio.get_running_loop(), {})
        for pool in pools.values():
            await pool.close()

    def __repr__(self) -> str:
        return "<pgatomic.aconnections>"


aconnections = _AsyncConnections()


class _AsyncConnectionProxy:
    """``pgatomic.aconnection``: the current task's "default" connection."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(get_async_connection(), name)

    def __dir__(self) -> Iterable[str]:
        return dir(AsyncConnection)

    def __repr__(self) -> str:
        try:
            return f"<pgatomic.aconnection proxy for {get_async_connection()!r}>"
        except Exception:
            return "<pgatomic.aconnection proxy (no task)>"


aconnection: Any = _AsyncConnectionProxy()
