"""The hot read lane: Core statements compiled once (`Query`) and run on a pool of plain asyncpg
connections of their own (`ReadPool`), behind `Database.fetch`.

The public job page and search are most of the traffic and each is one SELECT. Through
SQLAlchemy's pool every read paid for a checkout and check-in in greenlets and a pre-ping round
trip: ~270 us of CPU per read against ~80 us here (64 concurrent job-page reads on 10
connections, in process), the largest part of the gap between the job page and its floor.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql.expression import Executable

from app.core.config import Settings
from app.core.errors import DatabaseUnavailable

_COMPILE_DIALECT = PGDialect_asyncpg()
# Connect arguments that SQLAlchemy's asyncpg dialect consumes itself; asyncpg rejects them.
_DIALECT_ONLY_ARGS = {"prepared_statement_cache_size", "prepared_statement_name_func"}
# What the first statement on a pooled connection raises when the server dropped it while it
# sat idle and asyncpg has not taken in the news yet (the server's goodbye, still unread, is an
# error the connection did not expect): not a reason to fail the request, but to use a new one.
DROPPED_WHILE_IDLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)


@dataclass(frozen=True)
class Query:
    """A Core statement compiled once into asyncpg's `$n` SQL: building, caching and compiling
    a statement on each request costs more than the query itself."""

    sql: str
    names: tuple[str, ...]  # bind name of each `$n`, in order
    defaults: Mapping[str, Any]  # values fixed when the statement was built
    processors: Mapping[str, Callable[[Any], Any]]

    @classmethod
    def compile(cls, statement: Executable) -> Query:
        compiled = statement.compile(dialect=_COMPILE_DIALECT)
        names = tuple(compiled.positiontup or ())
        binds = {name: compiled.binds[name] for name in names}
        return cls(
            sql=compiled.string,
            names=names,
            defaults={n: b.effective_value for n, b in binds.items() if not b.required},
            processors=dict(compiled._bind_processors),  # the dialect's own type adaptation
        )

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """Positional arguments; a bind without a value given here or at build time is a
        KeyError, never a silent NULL."""
        values = {**self.defaults, **params}
        processors = self.processors
        return [
            processors[name](values[name]) if name in processors else values[name]
            for name in self.names
        ]


class _Slots:
    """A FIFO semaphore whose waiters give up after `timeout` seconds (DatabaseUnavailable).

    Every waiter has the same timeout, so the oldest always expires first: one timer serves
    the whole queue, where a semaphore under asyncio.timeout() arms and cancels one per wait
    (~30 us of CPU per read with 64 requests queued for 10 connections).
    """

    def __init__(self, size: int, timeout: float) -> None:
        self._free = size
        self._timeout = timeout
        self._waiters: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append((loop.time() + self._timeout, waiter))
        if self._timer is None:
            self._timer = loop.call_at(self._waiters[0][0], self._expire)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        """Hand the slot to the oldest waiter still waiting, else free it."""
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    def _expire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiters = self._waiters
        while waiters and (waiters[0][0] <= now or waiters[0][1].done()):
            _, waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_exception(DatabaseUnavailable())
        if waiters:
            self._timer = loop.call_at(waiters[0][0], self._expire)


class ReadPool:
    """Up to DB_READ_POOL_SIZE asyncpg connections, opened on demand with the engine's connect
    arguments (ssl, PgBouncer's statement settings) and reused most-recent-first.

    Hand-written rather than asyncpg's Pool, which spends a task on every release (shield), a
    timer on every acquire and a reset round trip that a lone SELECT outside a transaction has
    nothing to undo (~155 us of CPU per read through it, ~80 us here, measured as above).

    A read waits at most DB_POOL_TIMEOUT for a connection (then 503, like an exhausted pool)
    and DB_CONNECT_TIMEOUT for its answer, the bound the engine's pre-ping puts on a round
    trip. There is no pre-ping: a connection the server closed is seen closed when taken, or
    fails at once if the news had not arrived yet, and the read runs on a new one; one that
    went silent times out and is discarded; one idle for longer than DB_POOL_RECYCLE is
    closed instead of reused.
    """

    def __init__(self, dsn: str, connect_args: Mapping[str, Any], settings: Settings) -> None:
        self._dsn = dsn
        self._connect_args = {
            **{k: v for k, v in connect_args.items() if k not in _DIALECT_ONLY_ARGS},
            "timeout": settings.db_connect_timeout,  # to connect; each read has its own
        }
        self._size = settings.db_read_pool_size
        self._recycle = settings.db_pool_recycle
        self._read_timeout = settings.db_connect_timeout
        self._slots = _Slots(self._size, settings.db_pool_timeout)
        self._idle: list[tuple[float, asyncpg.Connection]] = []  # (returned at, connection)
        self._in_use = 0

    async def fetch(self, sql: str, arguments: list[Any]) -> list[asyncpg.Record]:
        await self._slots.acquire()
        self._in_use += 1
        try:
            connection = self._take_idle()
            if connection is not None:
                try:
                    return await self._run(connection, sql, arguments)
                except DROPPED_WHILE_IDLE:
                    pass
            connection = await asyncpg.connect(self._dsn, **self._connect_args)
            return await self._run(connection, sql, arguments)
        finally:
            self._in_use -= 1
            self._slots.release()

    async def _run(
        self, connection: asyncpg.Connection, sql: str, arguments: list[Any]
    ) -> list[asyncpg.Record]:
        try:
            rows = await connection.fetch(sql, *arguments, timeout=self._read_timeout)
        except BaseException:
            # Failed, timed out or cancelled mid-query: its state is unknown, so it is closed
            # now rather than handed to the next read.
            connection.terminate()
            raise
        self._idle.append((time.monotonic(), connection))
        return rows

    def _take_idle(self) -> asyncpg.Connection | None:
        """The most recently used open connection; those idle for longer than DB_POOL_RECYCLE
        (the oldest, at the front) are closed instead."""
        idle = self._idle
        if self._recycle >= 0:
            cutoff = time.monotonic() - self._recycle
            stale = 0
            while stale < len(idle) and idle[stale][0] < cutoff:
                idle[stale][1].terminate()
                stale += 1
            del idle[:stale]
        while idle:
            _, connection = idle.pop()
            if not connection.is_closed():
                return connection
        return None

    def status(self) -> dict[str, int]:
        return {"in_use": self._in_use, "idle": len(self._idle)}

    async def close(self) -> None:
        connections = [connection for _, connection in self._idle]
        self._idle = []
        outcomes = await asyncio.gather(
            *(c.close(timeout=self._read_timeout) for c in connections), return_exceptions=True
        )
        for connection, outcome in zip(connections, outcomes, strict=True):
            if isinstance(outcome, Exception):
                connection.terminate()  # no goodbye in time (a silent server): just drop it
