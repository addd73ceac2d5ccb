"""One suite, two drivers.  A test written once as an ``async def`` taking
the ``api`` fixture runs twice: against the blocking API (``[sync]``: the
coroutine is stepped without an event loop, and every await in it must
complete at once, since the sync flavour never waits on the loop) and
against the asyncio API (``[async]``: in a fresh event loop, on the current
task's connection).

The test body says ``async with api.atomic():``, ``await api.execute(...)``,
``api.connection.in_atomic_block``; ``pgatomic.transaction``'s plain
functions (``on_commit``, ``get_rollback``, ``savepoint``...) are called
directly, since they act on the current task's connection inside an event
loop and on the thread's outside one.  Only what needs the network is
awaited through ``api``.
"""

import asyncio
import functools
import inspect

import pytest

import pgatomic
from pgatomic import transaction


def _conn_like(x):
    return isinstance(x, (pgatomic.Connection, pgatomic.AsyncConnection))


def step_through(coro):
    """Run a coroutine that never suspends to its end, without a loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the synchronous flavour awaited something that did not "
                         "complete at once (an event loop primitive?)")


class _SyncBlock:
    """A synchronous Atomic seen through ``async with`` and as a decorator
    of ``async def`` test helpers: the block itself is the real one."""

    def __init__(self, block):
        self.block = block

    async def __aenter__(self):
        return self.block.__enter__()

    async def __aexit__(self, *exc):
        return self.block.__exit__(*exc)

    def __call__(self, func):
        return _sync_decorated(self.block, func)


def _sync_decorated(decorate, func):
    """decorate (a sync @atomic) applied to a synchronous twin of func (an
    async def whose awaits complete at once), seen again as an async def."""
    def twin(*args, **kwargs):
        return step_through(func(*args, **kwargs))
    try:
        twin = functools.wraps(func)(twin)
    except AttributeError:
        pass
    decorated = decorate(twin)

    @functools.wraps(decorated)
    async def wrapper(*args, **kwargs):
        return decorated(*args, **kwargs)
    return wrapper


class SyncAPI:
    name = "sync"
    Connection = pgatomic.Connection

    @property
    def connection(self):
        return pgatomic.connection

    def connections(self, alias):
        return pgatomic.connections[alias]

    def atomic(self, *args, **kwargs):
        if (len(args) == 1 and not kwargs and callable(args[0])
                and not isinstance(args[0], str) and not _conn_like(args[0])):
            return _sync_decorated(pgatomic.atomic, args[0])
        return _SyncBlock(pgatomic.atomic(*args, **kwargs))

    def _conn(self, using):
        return using if _conn_like(using) else pgatomic.connections[using or "default"]

    async def execute(self, sql, params=None, using=None):
        return self._conn(using).execute(sql, params)

    async def executemany(self, sql, seq, using=None):
        return self._conn(using).executemany(sql, seq)

    async def commit(self, using=None):
        transaction.commit(using)

    async def rollback(self, using=None):
        transaction.rollback(using)

    async def set_autocommit(self, on, using=None):
        transaction.set_autocommit(on, using)

    async def close(self, using=None):
        self._conn(using).close()

    async def connect(self, dsn=None):
        return pgatomic.connect(dsn)

    async def run_in_transaction(self, func, *args, **kwargs):
        return transaction.run_in_transaction(
            lambda *a: step_through(func(*a)), *args, **kwargs)

    def run(self, coro):
        return step_through(coro)


class AsyncAPI:
    name = "async"
    Connection = pgatomic.AsyncConnection

    @property
    def connection(self):
        return pgatomic.aconnection

    def connections(self, alias):
        return pgatomic.aconnections[alias]

    atomic = staticmethod(pgatomic.atomic)

    def _conn(self, using):
        return using if _conn_like(using) else pgatomic.aconnections[using or "default"]

    async def execute(self, sql, params=None, using=None):
        return await self._conn(using).execute(sql, params)

    async def executemany(self, sql, seq, using=None):
        return await self._conn(using).executemany(sql, seq)

    async def commit(self, using=None):
        await self._conn(using).commit()

    async def rollback(self, using=None):
        await self._conn(using).rollback()

    async def set_autocommit(self, on, using=None):
        await self._conn(using).set_autocommit(on)

    async def close(self, using=None):
        await self._conn(using).close()

    async def connect(self, dsn=None):
        return await pgatomic.connect_async(dsn)

    async def run_in_transaction(self, func, *args, **kwargs):
        return await transaction.arun_in_transaction(func, *args, **kwargs)

    def run(self, coro):
        async def main():
            try:
                return await coro
            finally:
                await pgatomic.aconnections.close_all()
        result = asyncio.run(main())
        # The asyncio flavour must not have fallen back on the thread's
        # synchronous alias connections anywhere.
        assert pgatomic.connections.all() == []
        return result


@pytest.fixture(params=[SyncAPI(), AsyncAPI()], ids=["sync", "async"])
def api(request):
    return request.param


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests: in the flavour of their ``api`` fixture, or
    in an event loop of their own when they take none."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    funcargs = pyfuncitem.funcargs
    kwargs = {name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    runner = funcargs.get("api") or AsyncAPI()
    runner.run(pyfuncitem.obj(**kwargs))
    return True
