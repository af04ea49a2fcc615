"""One lazily created engine, so one connection pool, per database, and its session factories.

Nothing here opens a socket until the first query: importing and creating the app is free even
when the database is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import await_, greenlet_spawn

from app.core.config import Settings
from app.core.db.errors import (
    DROPPED_CONNECTION,
    DatabaseUnreachable,
    classify_driver_errors,
    describe,
)
from app.core.db.fair_pool import FairQueuePool
from app.core.db.reads import Record, compiled
from app.core.db.url import DatabaseTarget

logger = logging.getLogger("app.db")

# A pooled connection that sat idle for longer than this is pinged (SELECT 1, DB_PING_TIMEOUT)
# before use; one handed back and forth under load never is. Under load a connection is idle
# for microseconds between requests, and a ping would be a round trip in every request; after a
# quiet spell (Neon suspends idle computes, a restart, a proxy's idle cut) the ping finds the
# dead ones before a request does.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "hmb_returned_at"


def _guard_connections(engine: AsyncEngine, ping_timeout: float) -> None:
    """Checkout checks without a round trip where they can: a connection asyncpg already knows
    is closed is replaced; one idle for PING_AFTER_IDLE_SECONDS or more must answer a
    simple-protocol SELECT 1 (no prepared statement: PgBouncer-safe) within `ping_timeout`,
    or it is replaced too. SQLAlchemy's own pool_pre_ping pings on every checkout, and with the
    statement deadline (DB_COMMAND_TIMEOUT) rather than a short one of its own."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "connect")
    @event.listens_for(pool, "checkin")
    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver.is_closed():
            raise sa_exc.DisconnectionError("the server closed the connection")
        if time.monotonic() - record.info.get(_RETURNED_AT, 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            await_(driver.execute("SELECT 1", timeout=ping_timeout))
        except (*DROPPED_CONNECTION, OSError) as exc:
            raise sa_exc.DisconnectionError(f"pre-ping failed: {type(exc).__name__}") from exc


class _ReadOnlySession(Session):
    """The session of a GET or HEAD request: its connection is in autocommit, so a write
    would not be atomic; flushing one is a bug, refused before it reaches the database."""


@event.listens_for(_ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    raise RuntimeError("a GET or HEAD request must not write (its session is read-only)")


class Pool:
    """One lazily created engine, so one connection pool, for one database (created once even
    under concurrent first requests), with the session factories of its requests."""

    def __init__(
        self, target: DatabaseTarget, settings: Settings, *, pool_size: int, max_overflow: int
    ) -> None:
        self.target = target
        self._settings = settings
        self._pool_size = pool_size
        self._max_overflow = max_overflow
        self._lock = threading.Lock()
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._read_engine: AsyncEngine | None = None
        self.engines_created = 0

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_engine()
        return self._engine

    @property
    def engine_created(self) -> bool:
        return self._engine is not None

    def _create_engine(self) -> AsyncEngine:
        s = self._settings
        connect_args = {
            "timeout": s.db_connect_timeout,
            "command_timeout": s.db_command_timeout,
            **self.target.connect_args,
        }
        engine = create_async_engine(
            self.target.url,
            # First come, first served (app/core/db/fair_pool.py): fair tails under load.
            poolclass=FairQueuePool,
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            pool_timeout=s.db_pool_timeout,
            pool_recycle=s.db_pool_recycle,
            connect_args=connect_args,
        )
        _guard_connections(engine, s.db_ping_timeout)
        classify_driver_errors(engine)
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        # GET and HEAD: the same pool, its connections in autocommit: no BEGIN and no COMMIT
        # round trip around their SELECTs; a write attempted on one is refused. Behind
        # PgBouncer too: an unnamed statement runs self-contained (app/core/db/pooler.py).
        self._read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read_sessionmaker = async_sessionmaker(
            self._read_engine, expire_on_commit=False, sync_session_class=_ReadOnlySession
        )
        self.engines_created += 1
        logger.info(
            "database engine created for %s (pgbouncer=%s)",
            self.target.masked,
            self.target.pgbouncer,
        )
        return engine

    @property
    def read_engine(self) -> AsyncEngine:
        """The engine GET and HEAD sessions use (see _create_engine)."""
        self.engine  # noqa: B018 - creates the engines and sessionmakers on first use
        assert self._read_engine is not None
        return self._read_engine

    def sessionmaker(self, *, read_only: bool = False) -> async_sessionmaker[AsyncSession]:
        self.engine  # noqa: B018 - creates the engine and sessionmakers on first use
        maker = self._read_sessionmaker if read_only else self._sessionmaker
        assert maker is not None
        return maker

    async def fetch(self, stmt: Select[Any], params: Mapping[str, Any]) -> list[Record]:
        """`stmt`'s rows through the driver (app/core/db/reads.py), on a connection of this
        pool checked out for it alone: outside any transaction, as a GET's session reads. A
        connection that fails under the statement (dropped, reset, DB_COMMAND_TIMEOUT) is
        discarded and the failure raised as DatabaseUnreachable, as the engine's own hook
        does (`classify_driver_errors`); the others the checkout's guard finds."""
        read = compiled(stmt, self.engine.dialect)
        connection = await self.engine.raw_connection()
        try:
            driver = connection.driver_connection
            assert driver is not None
            return await driver.fetch(read.sql, *read.args(params), record_class=Record)
        except (*DROPPED_CONNECTION, OSError) as exc:
            await greenlet_spawn(connection.invalidate, exc)
            lost = isinstance(exc, DROPPED_CONNECTION)
            raise DatabaseUnreachable(describe(exc), connection_lost=lost) from exc
        finally:
            if connection.is_valid:
                await greenlet_spawn(connection.close)

    def status(self) -> dict[str, int] | None:
        if self._engine is None:
            return None
        pool: Any = self._engine.pool
        return {
            "size": pool.size(),
            "checked_out": pool.checkedout(),
            "overflow": max(0, pool.overflow()),  # SQLAlchemy counts down from -pool_size
            "checked_in": pool.checkedin(),
            # Checkouts waiting now, those that found every connection in use, their total wait.
            "waiting": pool.queue.waiting,
            "waits": pool.queue.waits,
            "wait_us": round(pool.queue.wait_seconds * 1_000_000),
        }

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessionmaker = self._read_sessionmaker = None
            self._read_engine = None
