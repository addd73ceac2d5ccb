"""``pgatomic.transaction``: django.db.transaction on the pgatomic core.

Outside Django, ``from pgatomic import transaction`` gives Django's API on
pgatomic's own connections: blocks, savepoints, the rollback flag and
on_commit hooks behave as Django's do on PostgreSQL.  (Inside a Django
project, Django's own ``transaction`` on the ``pgatomic.django`` backend is
the way: the ORM's queries then run in the blocks.)  This module resolves arguments and
aliases, then makes one call into the binding; the block stack, savepoint
names and hook scoping live in the C core.

The same ``atomic`` works under asyncio: ``async with atomic():`` and
``@atomic`` on an ``async def`` use the current task's connection
(``pgatomic.aconnections``); inside a running event loop the functions
below act on it.  What leaving a block does and when a retry happens is
written once here, for both drivers.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import logging
import os
import random
import contextvars
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Literal, Optional, TypeVar, Union, overload

from . import _pgatomic
from ._aio import (
    AsyncConnection,
    _arun_hooks,
    _run,
    _is_coroutine_function,
    _run_now,
    get_async_connection,
    in_async_context,
)
from ._connections import Connection, _hook_name, _run_hooks, get_connection
from .errors import (
    ON_COMMIT_NOT_CALLABLE,
    DatabaseError,
    Error,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
    SynchronousOnlyOperation,
    TransactionManagementError,
)

__all__ = [
    "Atomic", "Isolation", "TransactionManagementError", "atomic", "on_commit",
    "get_rollback", "set_rollback", "savepoint", "savepoint_commit",
    "savepoint_rollback", "clean_savepoints", "mark_for_rollback_on_error",
    "get_autocommit", "set_autocommit", "commit", "rollback", "get_connection",
    "run_in_transaction", "last_attempts", "retryable", "RETRY_BASE_MS", "RETRY_CAP_MS",
    "DatabaseError", "Error", "IntegrityError", "ProgrammingError",
]

logger = logging.getLogger("pgatomic")

F = TypeVar("F", bound=Callable[..., Any])
Using = Union[str, Connection, AsyncConnection, None]


class Isolation(str, enum.Enum):
    """Isolation levels for the outermost block."""

    __module__ = "pgatomic"

    READ_COMMITTED = "read committed"
    REPEATABLE_READ = "repeatable read"
    SERIALIZABLE = "serializable"


_ISOLATION_FLAGS = {
    "read committed": _pgatomic.ISO_READ_COMMITTED,
    "repeatable read": _pgatomic.ISO_REPEATABLE_READ,
    "serializable": _pgatomic.ISO_SERIALIZABLE,
    "read uncommitted": _pgatomic.ISO_READ_UNCOMMITTED,
}


def _block_flags(savepoint: bool, durable: bool, isolation: Any,
                 read_only: Optional[bool], deferrable: Optional[bool]) -> int:
    flags = 0
    if savepoint:
        flags |= _pgatomic.SAVEPOINT
    if durable:
        flags |= _pgatomic.DURABLE
    if isolation is not None:
        key = isolation.value if isinstance(isolation, Isolation) else isolation
        if not isinstance(key, str) or key.lower() not in _ISOLATION_FLAGS:
            raise ValueError(
                f"isolation must be one of 'read committed', 'repeatable read', "
                f"'serializable' or a pgatomic.Isolation, not {isolation!r}")
        flags |= _ISOLATION_FLAGS[key.lower()]
    if read_only is not None:
        flags |= _pgatomic.READ_ONLY if read_only else _pgatomic.READ_WRITE
    if deferrable is not None:
        flags |= _pgatomic.DEFERRABLE if deferrable else _pgatomic.NOT_DEFERRABLE
    return flags


# Backoff between attempts of a retried transaction, in milliseconds: the
# pause before retry n is uniform in [0, min(cap, base * 2**(n-1))]
# (pga_retry_delay_ms, "full jitter").  Module-level so an application (or a
# test) can tune them once.
RETRY_BASE_MS = 10
RETRY_CAP_MS = 1000

RETRIES_IN_WITH = (
    "atomic(retries=...) cannot be used as a 'with' block, since a 'with' body "
    "cannot be run again: decorate a function with @atomic(retries=N) or call "
    "pgatomic.run_in_transaction(func, *args, retries=N).")

PIPELINE_ASYNC = (
    "atomic(pipeline=True) is not supported in 'async with' blocks yet: use it "
    "in a synchronous block.")

ON_COMMIT_COROUTINE = (
    "on_commit() got the coroutine function {name!r} for a synchronous block, "
    "which could never await it: register it inside 'async with pgatomic.atomic():'.")

SYNC_BLOCK_ON_ASYNC = (
    "an AsyncConnection's block is entered with 'async with', not 'with'.")

ASYNC_BLOCK_ON_SYNC = (
    "'async with atomic()' needs an AsyncConnection or an alias, not a synchronous "
    "pgatomic.Connection, whose statements would block the event loop.")

# A context variable: per thread for threads, per task under asyncio.
_attempts_var: "contextvars.ContextVar[int]" = contextvars.ContextVar(
    "pgatomic_last_attempts", default=0)

# Django's wording and escape hatch (DJANGO_ALLOW_ASYNC_UNSAFE): the
# synchronous block belongs to the thread's connection, which every task of
# an event loop shares, so task B's failure would roll back task A's
# committed-looking block.
ASYNC_UNSAFE = (
    "You cannot use the synchronous atomic() from a running event loop: every "
    "task of this thread would share one connection and one transaction. Use "
    "the asyncio API instead, 'async with pgatomic.atomic():' on the current "
    "task's connection (or 'conn = await pgatomic.connect_async()'), or run the "
    "synchronous code in a thread with asyncio.to_thread(). Set "
    "PGATOMIC_ALLOW_ASYNC_UNSAFE=1 to allow it anyway.")

ASYNC_AWAIT = (
    "{call} waits for the server and cannot be called from a running event "
    "loop: await the current task's connection instead, "
    "'await pgatomic.aconnection.{call}' (or the AsyncConnection's own).")

ASYNC_GENERATOR = (
    "@atomic cannot decorate the async generator function {name!r}: the block "
    "would end before the generator runs. Open 'async with pgatomic.atomic():' "
    "inside it instead.")


def _refuse_in_event_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    if not os.environ.get("PGATOMIC_ALLOW_ASYNC_UNSAFE"):
        raise SynchronousOnlyOperation(ASYNC_UNSAFE)


def last_attempts() -> int:
    """How many attempts the current thread's (or asyncio task's) last
    retrying call made (1: no retry was needed; 0: no retrying call has run
    here).  Set by ``@atomic(retries=...)``, ``run_in_transaction()`` and
    ``arun_in_transaction()``, success or not."""
    return _attempts_var.get()


def retryable(exc: BaseException) -> bool:
    """True when a failed outermost block that raised ``exc`` may be run
    again: the core's rule (``pga_retryable``), i.e. a serialization failure
    (40001) or deadlock (40P01) reported by the server, directly or as the
    cause of the block being broken; never an unknown COMMIT outcome, a lost
    connection or any other error."""
    code = getattr(exc, "_pga_code", None)
    if not isinstance(exc, Error) or not isinstance(code, int):
        return False
    sqlstate = exc.sqlstate
    if sqlstate is None and isinstance(exc.__cause__, Error):
        # A broken block (TransactionManagementError): the error that broke it.
        sqlstate = exc.__cause__.sqlstate
    return bool(_pgatomic.retryable(code, sqlstate))


def retry_delay_ms(attempt: int) -> int:
    """The pause before retry number ``attempt`` (1 for the first retry)."""
    return int(_pgatomic.retry_delay_ms(attempt, RETRY_BASE_MS, RETRY_CAP_MS,
                                        random.getrandbits(32)))


def _check_retries(retries: Optional[int]) -> Optional[int]:
    if retries is None:
        return None
    if isinstance(retries, bool) or not isinstance(retries, int):
        raise TypeError(f"retries must be an int or None, not {type(retries).__name__}")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, not {retries}")
    return retries


class Atomic:
    """A context manager and decorator for one atomic block.

    It holds only options: the stack of blocks lives on the connection, so
    one instance can be reused, and nested inside itself.
    """

    __module__ = "pgatomic"

    def __init__(self, using: Using = None, savepoint: bool = True, durable: bool = False,
                 isolation: Any = None, read_only: Optional[bool] = None,
                 deferrable: Optional[bool] = None, retries: Optional[int] = None,
                 pipeline: bool = False) -> None:
        self.using = using
        self.savepoint = savepoint
        self.durable = durable
        self.isolation = isolation
        self.read_only = read_only
        self.deferrable = deferrable
        self.retries = _check_retries(retries)
        self.pipeline = bool(pipeline)
        self._flags = _block_flags(savepoint, durable, isolation, read_only, deferrable)
        if self.pipeline:
            self._flags |= _pgatomic.PIPELINE

    def __enter__(self) -> None:
        if self.retries is not None:
            # Raised before anything is sent or pushed: the block never opened.
            raise TransactionManagementError(RETRIES_IN_WITH)
        if isinstance(self.using, AsyncConnection):
            raise TypeError(SYNC_BLOCK_ON_ASYNC)
        _refuse_in_event_loop()
        get_connection(self.using)._atomic_enter(self._flags)

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Literal[False]:
        # No reopening here: a connection closed inside the block stays
        # closed until the block is left (leaving then sends nothing).
        conn = get_connection(self.using, reopen=False)
        failed = exc_type is not None
        with _exit_policy(conn, failed, exc_value):
            conn._atomic_exit(failed)
        _run_hooks(conn._take_hooks())
        return False

    async def __aenter__(self) -> None:
        if self.retries is not None:
            raise TransactionManagementError(RETRIES_IN_WITH)
        if self.pipeline:
            raise NotSupportedError(PIPELINE_ASYNC)
        conn = _async_target(self.using)
        c = conn._ready() or await conn._session()
        c._atomic_enter(self._flags)

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Literal[False]:
        conn = _async_target(self.using)
        c = conn._c
        failed = exc_type is not None
        with _exit_policy(c, failed, exc_value):
            await _run(conn, c, c._atomic_exit_start, failed)
        await _arun_hooks(c._take_hooks())
        return False

    def __call__(self, func: F) -> F:
        if inspect.isasyncgenfunction(func):
            raise TypeError(ASYNC_GENERATOR.format(name=getattr(func, "__qualname__", func)))
        # functools.wraps copies what a callable object has and skips the
        # rest, so instances with __call__ work as well as functions.
        if _is_coroutine_function(func):
            return self._wrap_async(func)
        if self.retries is not None:
            @functools.wraps(func)
            def retrying(*args: Any, **kwargs: Any) -> Any:
                return self._run(func, args, kwargs)
            return retrying  # type: ignore[return-value]

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return inner  # type: ignore[return-value]

    def _wrap_async(self, func: Any) -> Any:
        """@atomic on an async def: the block is entered with async with
        around each await of the coroutine, so it is the calling task's."""
        if self.retries is not None:
            @functools.wraps(func)
            async def retrying(*args: Any, **kwargs: Any) -> Any:
                return await self._arun(func, args, kwargs)
            return retrying

        @functools.wraps(func)
        async def inner(*args: Any, **kwargs: Any) -> Any:
            async with self:
                return await func(*args, **kwargs)
        return inner

    def _once(self) -> "Atomic":
        return Atomic(self.using, self.savepoint, self.durable, self.isolation,
                      self.read_only, self.deferrable, pipeline=self.pipeline)

    def _run(self, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """Run func in this block, again after a retryable failure of the
        outermost block, at most self.retries more times."""
        block = self._once()
        conn = get_connection(self.using)
        # Only a transaction can be re-run: inside a block (or a manual
        # transaction) this block is a savepoint and its error goes up
        # unchanged, for the outermost block to decide.
        attempts = _Attempts(func, self.retries, not conn.in_atomic_block and conn.autocommit)
        while True:
            try:
                with block:
                    result = func(*args, **kwargs)
            except BaseException as exc:
                pause = attempts.pause_after(exc)
                if pause is None:
                    raise
                time.sleep(pause)
                continue
            attempts.succeeded()
            return result

    async def _arun(self, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """_run for a coroutine function, under asyncio."""
        block = self._once()
        conn = _async_target(self.using)
        attempts = _Attempts(func, self.retries, not conn.in_atomic_block and conn.autocommit)
        while True:
            try:
                async with block:
                    result = await func(*args, **kwargs)
            except BaseException as exc:
                pause = attempts.pause_after(exc)
                if pause is None:
                    raise
                await asyncio.sleep(pause)
                continue
            attempts.succeeded()
            return result

    def __repr__(self) -> str:
        return (f"<pgatomic.Atomic using={self.using!r} savepoint={self.savepoint} "
                f"durable={self.durable}"
                + (f" retries={self.retries}" if self.retries is not None else "") + ">")


@contextmanager
def _exit_policy(conn: Any, failed: bool, exc_value: Any) -> Iterator[None]:
    """What happens when leaving a block fails, for both drivers.  Without
    an exception in the block, the failed COMMIT or RELEASE is the news
    (and the hooks of what did not commit are dropped).  With one, cleanup
    never hides it (psycopg's _exit_gen): a failed rollback is logged and
    the block's exception goes on; only an interruption (Ctrl-C, a task's
    cancellation) is let through, since swallowing it would keep a
    cancelled task running."""
    try:
        yield
    except Exception:
        if not failed:
            conn._take_hooks()
            raise
        logger.warning("Error while rolling back an atomic block after %r",
                       exc_value, exc_info=True)
    except BaseException:
        if not failed:
            conn._take_hooks()
        raise


class _Attempts:
    """The retry policy of one retrying call, shared by the blocking and the
    asyncio loop (which differ only in how they wait): which failure is
    re-run (the core's rule, outermost blocks only), after what pause, and
    the count left in last_attempts() and on the last exception."""

    __slots__ = ("func", "retries", "outermost", "attempt")

    def __init__(self, func: Any, retries: Optional[int], outermost: bool) -> None:
        self.func = func
        self.retries = retries or 0
        self.outermost = outermost
        self.attempt = 1

    def pause_after(self, exc: BaseException) -> Optional[float]:
        """Seconds to wait before the next attempt, or None: give up (and
        record the attempts made on exc)."""
        attempt = self.attempt
        if self.outermost and attempt <= self.retries and retryable(exc):
            delay = retry_delay_ms(attempt)
            logger.debug("retrying %s after %s (SQLSTATE %s): attempt %d of %d in %d ms",
                         _hook_name(self.func), type(exc).__name__,
                         getattr(exc, "sqlstate", None)
                         or getattr(exc.__cause__, "sqlstate", None),
                         attempt + 1, self.retries + 1, delay)
            self.attempt += 1
            return delay / 1000.0
        _attempts_var.set(attempt)
        try:
            exc.attempts = attempt  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass
        return None

    def succeeded(self) -> None:
        _attempts_var.set(self.attempt)


def _async_target(using: Any) -> AsyncConnection:
    if isinstance(using, _pgatomic.Connection):
        raise TypeError(ASYNC_BLOCK_ON_SYNC)
    return get_async_connection(using)


def _target(using: Any, reopen: bool = True) -> Any:
    """The connection the functions below act on: the current task's in a
    running event loop (or an AsyncConnection given), else the thread's."""
    if isinstance(using, AsyncConnection) or (
            not isinstance(using, _pgatomic.Connection) and in_async_context()):
        return get_async_connection(using)
    return get_connection(using, reopen=reopen)


@overload
def atomic(using: F) -> F: ...
@overload
def atomic(using: Using = None, savepoint: bool = True, durable: bool = False, *,
           isolation: Any = None, read_only: Optional[bool] = None,
           deferrable: Optional[bool] = None, retries: Optional[int] = None,
           pipeline: bool = False) -> Atomic: ...


def atomic(using: Any = None, savepoint: bool = True, durable: bool = False, *,
           isolation: Any = None, read_only: Optional[bool] = None,
           deferrable: Optional[bool] = None, retries: Optional[int] = None,
           pipeline: bool = False) -> Any:
    """Django's ``transaction.atomic``: ``with atomic():``, ``@atomic`` and
    ``@atomic(...)``.  The outermost block is a transaction, a nested one a
    savepoint (or, with ``savepoint=False``, part of the enclosing block).

    ``retries=N`` (decorator only) re-runs the function up to N more times
    when the outermost block fails with a serialization failure or a
    deadlock, after a jittered exponential pause; see ``run_in_transaction``.

    ``pipeline=True`` on the outermost block makes it a pipelined
    transaction: ``execute()`` returns a result read when first touched, and
    a block that reads nothing before COMMIT costs one round trip, nested
    blocks included (docs/pipeline.md).  Ignored on a nested block.
    """
    if callable(using) and not isinstance(using, (str, _pgatomic.Connection, AsyncConnection)):
        # Bare decorator: @atomic
        return Atomic(None, savepoint, durable, isolation, read_only, deferrable,
                      retries, pipeline)(using)
    return Atomic(using, savepoint, durable, isolation, read_only, deferrable, retries,
                  pipeline)


def run_in_transaction(func: Callable[..., Any], *args: Any, retries: int = 0,
                       **atomic_options: Any) -> Any:
    """Call ``func(*args)`` in an atomic block (``atomic_options``: using,
    savepoint, durable, isolation, read_only, deferrable) and return its
    result.  When the outermost block fails with a serialization failure
    (40001) or a deadlock (40P01), the block is rolled back, its on_commit
    hooks are dropped, and ``func`` runs again, up to ``retries`` more times,
    after a pause (full jitter, ``RETRY_BASE_MS`` doubling up to
    ``RETRY_CAP_MS``).  Never retried: an unknown COMMIT outcome
    (``CommitOutcomeUnknown``), a lost connection, any other error, and any
    block nested in another (its error propagates unchanged).  The last
    exception gets ``.attempts``; ``last_attempts()`` tells either way."""
    if not callable(func):
        raise TypeError("run_in_transaction()'s func must be a callable")
    block = Atomic(retries=_check_retries(retries) or 0, **atomic_options)
    return block._run(func, args, {})


async def arun_in_transaction(func: Callable[..., Any], *args: Any, retries: int = 0,
                              **atomic_options: Any) -> Any:
    """``run_in_transaction`` for asyncio: awaits ``func(*args)`` (a
    coroutine function) in an async atomic block of the current task's
    connection, re-running it on the same failures, after the same pauses
    (``asyncio.sleep``)."""
    if not callable(func):
        raise TypeError("arun_in_transaction()'s func must be a callable")
    block = Atomic(retries=_check_retries(retries) or 0, **atomic_options)
    return await block._arun(func, args, {})


def on_commit(func: Callable[[], Any], using: Using = None, robust: bool = False) -> None:
    """Run ``func`` after the outermost COMMIT; at once when no transaction
    is open; never if its transaction or savepoint rolls back.  Inside an
    async block ``func`` may be a coroutine function: it is awaited, in
    order with the others, after the COMMIT."""
    if not callable(func):
        raise TypeError(ON_COMMIT_NOT_CALLABLE)
    conn = _target(using)
    if isinstance(conn, AsyncConnection):
        c = conn._c
        if c is None or not c._hook_add((func, bool(robust))):
            _run_now(func, bool(robust))
        return
    if _is_coroutine_function(func):
        raise TypeError(ON_COMMIT_COROUTINE.format(name=_hook_name(func)))
    if conn._hook_add((func, bool(robust))):
        return
    # No transaction in progress and in autocommit mode: run it now.
    if robust:
        try:
            func()
        except Exception as e:
            logger.error(f"Error calling {_hook_name(func)} in on_commit() (%s).",
                         e, exc_info=True)
    else:
        func()


def get_rollback(using: Using = None) -> bool:
    """The rollback flag of the innermost block."""
    return _target(using, reopen=False).get_rollback()


def set_rollback(rollback: bool, using: Using = None) -> None:
    """Force (or clear) the rollback of the innermost block on exit."""
    _target(using, reopen=False).set_rollback(rollback)


def savepoint(using: Using = None) -> Optional[str]:
    """Create a savepoint and return its id (None outside a transaction)."""
    return _target(using).savepoint()


def savepoint_commit(sid: Optional[str], using: Using = None) -> None:
    """Release a savepoint made by ``savepoint()``."""
    _target(using).savepoint_commit(sid)


def savepoint_rollback(sid: Optional[str], using: Using = None) -> None:
    """Roll back to a savepoint made by ``savepoint()``."""
    _target(using).savepoint_rollback(sid)


def clean_savepoints(using: Using = None) -> None:
    """Kept for Django compatibility: the core names savepoints itself."""
    _target(using).clean_savepoints()


@contextmanager
def mark_for_rollback_on_error(using: Using = None) -> Iterator[None]:
    """An exception inside marks the current transaction for rollback (no
    effect outside a block), and propagates."""
    try:
        yield
    except Exception:
        conn = _target(using, reopen=False)
        if conn.in_atomic_block:
            conn.set_rollback(True)
        raise


def get_autocommit(using: Using = None) -> bool:
    return _target(using).get_autocommit()


def set_autocommit(autocommit: bool, using: Using = None) -> None:
    """Django's manual mode: with autocommit off the first statement opens a
    transaction that ``commit()`` or ``rollback()`` ends.  (In an event
    loop: ``await pgatomic.aconnection.set_autocommit(...)``.)"""
    _sync_target(using, "set_autocommit(...)").set_autocommit(autocommit)


def commit(using: Using = None) -> None:
    """Commit the manual transaction.  (In an event loop: ``await
    pgatomic.aconnection.commit()``.)"""
    _sync_target(using, "commit()").commit()


def rollback(using: Using = None) -> None:
    """Roll back the manual transaction.  (In an event loop: ``await
    pgatomic.aconnection.rollback()``.)"""
    _sync_target(using, "rollback()").rollback()


def _sync_target(using: Using, call: str) -> Connection:
    """The thread's connection for a function that must wait for the
    server, refused where the current task's connection is meant (a
    running event loop, an AsyncConnection given): that one is awaited."""
    if isinstance(using, AsyncConnection) or (
            not isinstance(using, _pgatomic.Connection) and in_async_context()):
        raise SynchronousOnlyOperation(ASYNC_AWAIT.format(call=call))
    return get_connection(using)
