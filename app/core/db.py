"""The database: URL normalisation, a lazily created async engine, and the session dependency.

Nothing here opens a socket until the first query: importing and creating the app is free even
when the database is down, and a broken DATABASE_URL is reported, not fatal.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import await_

from app.core.config import Settings
from app.core.errors import DatabaseUnavailable

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


class DatabaseUnreachable(Exception):
    """The way to the database failed: refused, reset, unknown host, or no answer within a
    deadline. asyncpg raises these as plain OSErrors (TimeoutError included), which could come
    from anything; the engine's own hooks (`_classify_driver_errors`) turn the ones that come
    from the database connection into this, so that only they count as an outage.

    `connection_lost`: one established connection was found dropped (the server ended it, a
    proxy cut it). The request that found it gets a 503, the pool replaces its connections, and
    the database is not marked down: the next request connects afresh."""

    def __init__(self, reason: str, *, connection_lost: bool = False) -> None:
        super().__init__(reason)
        self.connection_lost = connection_lost


# What the first statement on a pooled connection raises when the server dropped it while it
# sat idle and asyncpg has not taken in the news yet (the server's goodbye, still unread, is an
# error the connection did not expect): the connection is gone, the database may well be fine.
DROPPED_CONNECTION = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

# Failures that mean "the database cannot be reached right now", as opposed to a bug in a
# query: 503 DATABASE_UNAVAILABLE and the fail-fast window. Nothing here is a bare OSError: a
# Redis or SMTP failure inside a route is that route's error, not a database outage.
DATABASE_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    DatabaseUnreachable,
)

# A pooled connection that sat idle for longer than this is pinged (SELECT 1, DB_PING_TIMEOUT)
# before use; one handed back and forth under load never is. Under load a connection is idle
# for microseconds between requests, and a ping would be a round trip in every request; after a
# quiet spell (Neon suspends idle computes, a restart, a proxy's idle cut) the ping finds the
# dead ones before a request does.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "hmb_returned_at"


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


def _describe(exc: BaseException) -> str:
    # asyncpg's timeouts say nothing
    return f"{type(exc).__name__}: {str(exc) or 'no answer within the timeout'}"


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect, with its network failures (refused, unknown host, DB_CONNECT_TIMEOUT)
    marked as the database's."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except OSError as exc:
        raise DatabaseUnreachable(_describe(exc)) from exc


def _classify_driver_errors(engine: AsyncEngine) -> None:
    """Errors raised while a statement, BEGIN or COMMIT runs on a connection: a plain OSError
    there (a reset, a DB_COMMAND_TIMEOUT deadline) and a connection dropped under asyncpg's feet
    are the database's; the connection is discarded. A timeout discards only that connection;
    a reset or a drop makes the pool replace every connection it holds (they likely share the
    cause), as SQLAlchemy does for the disconnects it recognises itself."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def classify(context: ExceptionContext) -> BaseException | None:
        original = context.original_exception
        driver_error = original.__cause__ or original  # the adapter's error wraps asyncpg's
        lost = isinstance(driver_error, DROPPED_CONNECTION)
        if isinstance(original, TimeoutError):
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = False
        elif lost or isinstance(driver_error, OSError) or context.is_disconnect:
            context.is_disconnect = True
        else:
            return None
        return DatabaseUnreachable(_describe(driver_error), connection_lost=lost)

    @event.listens_for(engine.sync_engine, "do_connect")
    def connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["async_creator_fn"] = _connect


class _ReadOnlySession(Session):
    """The session of a GET or HEAD request: its connection is in autocommit, so a write
    would not be atomic; flushing one is a bug, refused before it reaches the database."""


@event.listens_for(_ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    raise RuntimeError("a GET or HEAD request must not write (its session is read-only)")


def migration_target(settings: Settings) -> DatabaseTarget:
    """What Alembic connects to: MIGRATION_DATABASE_URL (Neon's direct endpoint) wins, parsed
    once, so its connect arguments (`sslmode` as asyncpg's `ssl`) reach the DDL connection. A
    URL rendered back to text has lost them: sslmode=verify-full would silently become
    asyncpg's default, `prefer`."""
    raw = settings.migration_database_url or settings.database_url
    return parse_database_url(raw, pgbouncer=settings.db_pgbouncer)


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
        self._read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._down_since: float | None = None
        self._last_failure: float = 0.0
        self.engines_created = 0
        self.target: DatabaseTarget | None = None
        self.config_error: str | None = None
        try:
            self.target = parse_database_url(settings.database_url, pgbouncer=settings.db_pgbouncer)
        except DatabaseURLError as exc:
            self.config_error = str(exc)
            logger.error("%s; database-backed routes will answer 503", exc)
        else:
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
        _guard_connections(engine, s.db_ping_timeout)
        _classify_driver_errors(engine)
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        # GET and HEAD: the same pool, its connections in autocommit: no BEGIN and no COMMIT
        # round trip around their SELECTs; a write attempted on one is refused.
        self._read_sessionmaker = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            sync_session_class=_ReadOnlySession,
        )
        self.engines_created += 1
        logger.info(
            "database engine created for %s (pgbouncer=%s)",
            self.target.masked,
            self.target.pgbouncer,
        )
        return engine

    def sessionmaker(self, *, read_only: bool = False) -> async_sessionmaker[AsyncSession]:
        self.engine  # noqa: B018 - creates the engine and sessionmakers on first use
        maker = self._read_sessionmaker if read_only else self._sessionmaker
        assert maker is not None
        return maker

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
            reason = str(exc) if isinstance(exc, DatabaseUnreachable) else _describe(exc)
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
    async def session(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """One session, one transaction: committed on success, rolled back on error; an
        unreachable database is reported and raised as DatabaseUnavailable. A `read_only`
        session (GET, HEAD) runs its SELECTs in autocommit: no BEGIN, no COMMIT."""
        self.check_available()
        async with self.sessionmaker(read_only=read_only)() as session:
            try:
                yield session
                # A request that never touched the database (a cache hit) skips the commit's
                # greenlet round: measurable on the hottest public routes.
                if session.in_transaction() or session.new or session.dirty or session.deleted:
                    await session.commit()
            except DATABASE_UNAVAILABLE_ERRORS as exc:
                if not getattr(exc, "connection_lost", False):
                    self.report_failure(exc)
                raise DatabaseUnavailable() from exc
            except BaseException:
                if session.in_transaction():
                    await session.rollback()
                raise
            self.report_success()

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

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessionmaker = self._read_sessionmaker = None


async def get_database(request: Request) -> Database:  # async: no thread-pool hop
    return request.app.state.database


_SAFE_METHODS = frozenset(("GET", "HEAD"))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One request, one session, one transaction (`Database.session`); GET and HEAD, which
    must not write (HTTP's safe methods), get a read-only one."""
    read_only = request.scope["method"] in _SAFE_METHODS
    async with request.app.state.database.session(read_only=read_only) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success reply for a write that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
