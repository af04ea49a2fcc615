"""The primary database of the app: its lazily created pool, outage bookkeeping (fail fast while
it is down, log when it is back) and the optional read replica."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db.engine import Pool
from app.core.db.errors import DATABASE_UNAVAILABLE_ERRORS, DatabaseUnreachable, describe
from app.core.db.reads import Record
from app.core.db.replica import ReadReplica
from app.core.db.url import DatabaseTarget, DatabaseURLError, parse_database_url
from app.core.errors import DatabaseUnavailable

logger = logging.getLogger("app.db")


class Database:
    """The primary's lazily created engine (one per app, so per process), outage bookkeeping,
    and the optional read replica (DATABASE_READ_URL) for anonymous public reads."""

    # After a failed connection, fail fast for this long instead of letting every request wait
    # for its own connect timeout; the next request after it probes the database again.
    FAIL_FAST_SECONDS = 1.0

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._primary: Pool | None = None
        self._down_since: float | None = None
        self._last_failure: float = 0.0
        self.target: DatabaseTarget | None = None
        self.config_error: str | None = None
        self.replica: ReadReplica | None = None
        self.replica_config_error: str | None = None
        try:
            self.target = parse_database_url(settings.database_url, pgbouncer=settings.db_pgbouncer)
        except DatabaseURLError as exc:
            self.config_error = str(exc)
            logger.error("%s; database-backed routes will answer 503", exc)
        else:
            self._primary = Pool(
                self.target,
                settings,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
            )
            _warn_dropped("DATABASE_URL", self.target)
        if settings.database_read_url is not None:
            try:
                replica = parse_database_url(
                    settings.database_read_url,
                    pgbouncer=settings.db_pgbouncer,
                    name="DATABASE_READ_URL",
                )
            except DatabaseURLError as exc:
                self.replica_config_error = str(exc)
                logger.error("%s; every read goes to the primary", exc)
            else:
                self.replica = ReadReplica(replica, settings)
                _warn_dropped("DATABASE_READ_URL", replica)

    def _pool(self) -> Pool:
        if self._primary is None:
            raise DatabaseUnavailable(f"The database is not configured ({self.config_error}).")
        return self._primary

    @property
    def engine(self) -> AsyncEngine:
        return self._pool().engine

    @property
    def engine_created(self) -> bool:
        return self._primary is not None and self._primary.engine_created

    @property
    def engines_created(self) -> int:
        return 0 if self._primary is None else self._primary.engines_created

    def sessionmaker(self, *, read_only: bool = False) -> async_sessionmaker[AsyncSession]:
        return self._pool().sessionmaker(read_only=read_only)

    def check_available(self) -> None:
        """Fail fast while a recent connection attempt failed."""
        if self.target is None:
            raise DatabaseUnavailable(f"The database is not configured ({self.config_error}).")
        if self._down_since is not None and (
            time.monotonic() - self._last_failure < self.FAIL_FAST_SECONDS
        ):
            raise DatabaseUnavailable()

    def report_failure(self, exc: BaseException) -> None:
        if isinstance(exc, sa_exc.TimeoutError):
            return  # pool exhausted: the database is busy, not down
        self._last_failure = time.monotonic()
        if self._down_since is None:
            self._down_since = self._last_failure
            reason = str(exc) if isinstance(exc, DatabaseUnreachable) else describe(exc)
            logger.error("database unavailable: %s", reason)

    def report_success(self) -> None:
        if self._down_since is not None:
            logger.info(
                "database reachable again after %.1f s", time.monotonic() - self._down_since
            )
            self._down_since = None

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    @asynccontextmanager
    async def session(
        self, *, read_only: bool = False, public: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """One session, one transaction: committed on success, rolled back on error; an
        unreachable database is reported and raised as DatabaseUnavailable. A `read_only`
        session (GET, HEAD) runs its SELECTs in autocommit: no BEGIN, no COMMIT. A `public`
        one (an anonymous public read) is on the read replica while it is usable, else like
        any read-only session on the primary."""
        replica = self.replica if public else None
        replica_session = None if replica is None else await replica.open_session()
        if replica is not None and replica_session is not None:
            async with replica_session:
                try:
                    yield replica_session
                except DATABASE_UNAVAILABLE_ERRORS as exc:
                    replica.report_failure(exc)
                    raise DatabaseUnavailable() from exc
            return
        self.check_available()
        read_only = read_only or public
        # A read-only session (every GET and HEAD) is on an autocommit connection
        # (app/core/db/engine.py): nothing to commit, each SELECT being its own transaction;
        # closing it is enough, one greenlet round fewer on every signed-in read.
        commits = not read_only
        async with self.sessionmaker(read_only=read_only)() as session:
            try:
                yield session
                # A request that never touched the database (a cache hit) skips the commit's
                # greenlet round: measurable on the hottest public routes.
                if commits and (
                    session.in_transaction() or session.new or session.dirty or session.deleted
                ):
                    await session.commit()
            except DATABASE_UNAVAILABLE_ERRORS as exc:
                raise self._unavailable(exc) from exc
            except BaseException:
                if session.in_transaction():
                    await session.rollback()
                raise
            self.report_success()

    async def rows(self, stmt: Select[Any], params: Mapping[str, Any]) -> list[Record]:
        """The primary's rows of a statement built once, read through the driver
        (app/core/db/reads.py): no session. For the reads on every signed-in request, where
        the session's machinery cost more than the statement."""
        self.check_available()
        try:
            rows = await self._pool().fetch(stmt, params)
        except DATABASE_UNAVAILABLE_ERRORS as exc:
            raise self._unavailable(exc) from exc
        self.report_success()
        return rows

    def _unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        """The 503 of a failure to reach the database; an outage unless it was one dropped
        connection (DatabaseUnreachable.connection_lost)."""
        if not getattr(exc, "connection_lost", False):
            self.report_failure(exc)
        return DatabaseUnavailable()

    async def ping(self) -> float:
        """Run SELECT 1; return the round trip in milliseconds."""
        self.check_available()
        started = time.perf_counter()
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except DATABASE_UNAVAILABLE_ERRORS as exc:
            self.report_failure(exc)
            raise
        self.report_success()
        return (time.perf_counter() - started) * 1000

    def pool_status(self) -> dict[str, int] | None:
        return None if self._primary is None else self._primary.status()

    def replica_pool_status(self) -> dict[str, int] | None:
        return None if self.replica is None else self.replica.pool_status()

    async def dispose(self) -> None:
        if self._primary is not None:
            await self._primary.dispose()
        if self.replica is not None:
            await self.replica.dispose()


def _warn_dropped(variable: str, target: DatabaseTarget) -> None:
    if target.dropped_params:
        logger.warning(
            "%s parameters ignored (asyncpg does not accept them): %s",
            variable,
            ", ".join(target.dropped_params),
        )
