"""The database: URL normalisation, a lazily created async engine, and the session dependency.

Nothing here opens a socket until the first query: importing and creating the app is free even
when the database is down, and a broken DATABASE_URL is reported, not fatal.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_

from app.core.config import Settings
from app.core.errors import DATABASE_UNAVAILABLE_ERRORS, DatabaseUnavailable
from app.core.reads import DROPPED_WHILE_IDLE, Query, ReadPool

logger = logging.getLogger("app.db")

_POSTGRES_DRIVERS = {
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+pg8000",
}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_SSL_ALIASES = {
    "true": "require",
    "1": "require",
    "on": "require",
    "false": "disable",
    "0": "disable",
    "off": "disable",
}
# Query keys asyncpg takes as connect arguments; libpq-only ones (channel_binding, options,
# application_name, ...) are dropped because asyncpg or PgBouncer would reject them.
_KEPT_QUERY_KEYS = {"host", "port"}


class DatabaseURLError(ValueError):
    """DATABASE_URL cannot be used; the message never contains the URL or its password."""


@dataclass(frozen=True)
class DatabaseTarget:
    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    pgbouncer: bool = False
    dropped_params: tuple[str, ...] = ()

    @property
    def masked(self) -> str:
        return self.url.render_as_string(hide_password=True)


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def parse_database_url(raw: str | None, *, pgbouncer: bool = False) -> DatabaseTarget:
    """Turn any URL form an operator pastes into one SQLAlchemy + asyncpg accept.

    Accepts postgres://, postgresql://, postgresql+<driver>:// with libpq query parameters,
    surrounding whitespace and quotes. Raises DatabaseURLError for anything else.
    """
    if raw is None or not raw.strip().strip("'\"").strip():
        raise DatabaseURLError("DATABASE_URL is not set")
    cleaned = raw.strip().strip("'\"").strip()
    try:
        url = make_url(cleaned)
    except (sa_exc.ArgumentError, ValueError):
        raise DatabaseURLError("DATABASE_URL is not a valid database URL") from None
    if url.drivername not in _POSTGRES_DRIVERS:
        raise DatabaseURLError(f"DATABASE_URL must be a PostgreSQL URL, not {url.drivername!r}")
    query_host = url.query.get("host")
    if not url.host and not query_host:
        raise DatabaseURLError("DATABASE_URL has no host")
    if not url.database:
        raise DatabaseURLError("DATABASE_URL has no database name")

    connect_args: dict[str, Any] = {}
    ssl_value = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl_value, tuple):
        ssl_value = ssl_value[-1]
    if ssl_value is not None:
        mode = _SSL_ALIASES.get(ssl_value.lower(), ssl_value.lower())
        if mode not in _SSL_MODES:
            raise DatabaseURLError(f"DATABASE_URL has an unknown sslmode {ssl_value!r}")
        connect_args["ssl"] = mode

    kept = {k: v for k, v in url.query.items() if k in _KEPT_QUERY_KEYS}
    dropped = tuple(sorted(k for k in url.query if k not in _KEPT_QUERY_KEYS | {"sslmode", "ssl"}))
    url = url.set(drivername="postgresql+asyncpg", query=kept)

    hosts = [url.host or "", *([query_host] if isinstance(query_host, str) else query_host or [])]
    uses_pooler = pgbouncer or any("-pooler" in h for h in hosts if h)
    if uses_pooler:
        # PgBouncer in transaction mode hands each transaction to any server connection, so a
        # named prepared statement may not exist where it is next used.
        connect_args.update(
            statement_cache_size=0,
            prepared_statement_cache_size=0,
            prepared_statement_name_func=_unique_statement_name,
        )
    return DatabaseTarget(url, connect_args, uses_pooler, dropped)


def _ping_on_checkout(engine: AsyncEngine, timeout: float) -> None:
    """pool_pre_ping with a deadline. SQLAlchemy's own pre-ping waits as long as any query
    (DB_COMMAND_TIMEOUT), so a database that stops answering would hold every request that
    long. A pooled connection that does not answer a simple-protocol SELECT 1 (no prepared
    statement: PgBouncer-safe) within `timeout` is discarded and the pool connects afresh."""

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            await_(dbapi_connection.driver_connection.execute("SELECT 1", timeout=timeout))
        except (*DATABASE_UNAVAILABLE_ERRORS, *DROPPED_WHILE_IDLE) as exc:
            raise sa_exc.DisconnectionError(f"pre-ping failed: {type(exc).__name__}") from exc


def migration_url(settings: Settings) -> str:
    """The URL Alembic uses: MIGRATION_DATABASE_URL (Neon's direct endpoint) wins."""
    raw = settings.migration_database_url or settings.database_url
    target = parse_database_url(raw, pgbouncer=settings.db_pgbouncer)
    return target.url.render_as_string(hide_password=False)


class Database:
    """One lazily created engine per app (so per process), plus outage bookkeeping."""

    # After a failed connection, fail fast for this long instead of letting every request wait
    # for its own connect timeout; the next request after it probes the database again.
    FAIL_FAST_SECONDS = 1.0

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._down_since: float | None = None
        self._last_failure: float = 0.0
        self.engines_created = 0
        self._reads: ReadPool | None = None
        self.target: DatabaseTarget | None = None
        self.config_error: str | None = None
        try:
            self.target = parse_database_url(settings.database_url, pgbouncer=settings.db_pgbouncer)
        except DatabaseURLError as exc:
            self.config_error = str(exc)
            logger.error("%s; database-backed routes will answer 503", exc)
        else:
            self._reads = ReadPool(
                self.target.url.set(drivername="postgresql").render_as_string(hide_password=False),
                self.target.connect_args,
                settings,
            )
            if self.target.dropped_params:
                logger.warning(
                    "DATABASE_URL parameters ignored (asyncpg does not accept them): %s",
                    ", ".join(self.target.dropped_params),
                )

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
        if self.target is None:
            raise DatabaseUnavailable(f"The database is not configured ({self.config_error}).")
        s = self._settings
        connect_args = {
            "timeout": s.db_connect_timeout,
            "command_timeout": s.db_command_timeout,
            **self.target.connect_args,
        }
        engine = create_async_engine(
            self.target.url,
            pool_size=s.db_pool_size,
            max_overflow=s.db_max_overflow,
            pool_timeout=s.db_pool_timeout,
            pool_recycle=s.db_pool_recycle,
            connect_args=connect_args,
        )
        _ping_on_checkout(engine, s.db_connect_timeout)
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.engines_created += 1
        logger.info(
            "database engine created for %s (pgbouncer=%s)",
            self.target.masked,
            self.target.pgbouncer,
        )
        return engine

    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        self.engine  # noqa: B018 - creates the engine and sessionmaker on first use
        assert self._sessionmaker is not None
        return self._sessionmaker

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
            reason = str(exc) or "no answer within the timeout"  # asyncpg's timeouts say nothing
            logger.error("database unavailable: %s: %s", type(exc).__name__, reason)

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
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One session, one transaction: committed on success, rolled back on error; an
        unreachable database is reported and raised as DatabaseUnavailable."""
        self.check_available()
        async with self.sessionmaker()() as session:
            try:
                yield session
                # A request that never touched the database (a cache hit) skips the commit's
                # greenlet round: measurable on the hottest public routes.
                if session.in_transaction() or session.new or session.dirty or session.deleted:
                    await session.commit()
            except DATABASE_UNAVAILABLE_ERRORS as exc:
                self.report_failure(exc)
                raise DatabaseUnavailable() from exc
            except BaseException:
                if session.in_transaction():
                    await session.rollback()
                raise
            self.report_success()

    async def fetch(self, query: Query, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        """Run a read-only `query` on the read pool (`app.core.reads`), outside any
        transaction. Outages are reported and raised exactly as through `session()`."""
        arguments = query.arguments(params)
        self.check_available()
        assert self._reads is not None  # check_available: the URL is usable
        try:
            rows = await self._reads.fetch(query.sql, arguments)
        except DATABASE_UNAVAILABLE_ERRORS as exc:
            self.report_failure(exc)
            raise DatabaseUnavailable() from exc
        self.report_success()
        return rows

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
        if self._engine is None:
            return None
        pool: Any = self._engine.pool
        return {
            "size": pool.size(),
            "checked_out": pool.checkedout(),
            "overflow": max(0, pool.overflow()),  # SQLAlchemy counts down from -pool_size
            "checked_in": pool.checkedin(),
        }

    def read_pool_status(self) -> dict[str, int] | None:
        return self._reads.status() if self._reads is not None else None

    async def dispose(self) -> None:
        if self._reads is not None:
            await self._reads.close()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessionmaker = None


async def get_database(request: Request) -> Database:  # async: no thread-pool hop
    return request.app.state.database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One request, one session, one transaction (`Database.session`)."""
    async with request.app.state.database.session() as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success reply for a write that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
