"""The database: URL normalisation, a lazily created async engine, and the session dependency.

Nothing here opens a socket until the first query: importing and creating the app is free even
when the database is down, and a broken DATABASE_URL is reported, not fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

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

F = TypeVar("F", bound=Callable[..., Any])

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


def parse_database_url(
    raw: str | None, *, pgbouncer: bool = False, name: str = "DATABASE_URL"
) -> DatabaseTarget:
    """Turn any URL form an operator pastes into one SQLAlchemy + asyncpg accept.

    Accepts postgres://, postgresql://, postgresql+<driver>:// with libpq query parameters,
    surrounding whitespace and quotes. Raises DatabaseURLError for anything else; its message
    names the variable (`name`) the URL came from.
    """
    if raw is None or not raw.strip().strip("'\"").strip():
        raise DatabaseURLError(f"{name} is not set")
    cleaned = raw.strip().strip("'\"").strip()
    try:
        url = make_url(cleaned)
    except (sa_exc.ArgumentError, ValueError):
        raise DatabaseURLError(f"{name} is not a valid database URL") from None
    if url.drivername not in _POSTGRES_DRIVERS:
        raise DatabaseURLError(f"{name} must be a PostgreSQL URL, not {url.drivername!r}")
    query_host = url.query.get("host")
    if not url.host and not query_host:
        raise DatabaseURLError(f"{name} has no host")
    if not url.database:
        raise DatabaseURLError(f"{name} has no database name")

    connect_args: dict[str, Any] = {}
    ssl_value = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl_value, tuple):
        ssl_value = ssl_value[-1]
    if ssl_value is not None:
        mode = _SSL_ALIASES.get(ssl_value.lower(), ssl_value.lower())
        if mode not in _SSL_MODES:
            raise DatabaseURLError(f"{name} has an unknown sslmode {ssl_value!r}")
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


# What the server answers a login it will not take now: the database does not exist (dropped,
# a deleted Neon branch), the role or its password is refused, no connection slot is free, it is
# starting or shutting down. asyncpg raises them as server errors, which SQLAlchemy would pass
# on as a query's error (a 500); to a request they are the database being unavailable.
_LOGIN_REFUSED = (
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
)


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect, with its network failures (refused, unknown host, DB_CONNECT_TIMEOUT)
    and the server's refusals of the login marked as the database's."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except (OSError, *_LOGIN_REFUSED) as exc:
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


class _Pool:
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
            pool_size=self._pool_size,
            max_overflow=self._max_overflow,
            pool_timeout=s.db_pool_timeout,
            pool_recycle=s.db_pool_recycle,
            connect_args=connect_args,
        )
        _guard_connections(engine, s.db_ping_timeout)
        _classify_driver_errors(engine)
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        # GET and HEAD: the same pool, its connections in autocommit: no BEGIN and no COMMIT
        # round trip around their SELECTs; a write attempted on one is refused. Not behind
        # PgBouncer in transaction mode: there only a transaction keeps asyncpg's prepare and
        # execute of one statement on the same server connection
        # (tests/faults/test_pgbouncer.py).
        self._read_engine = (
            engine
            if self.target.pgbouncer
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
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

    def status(self) -> dict[str, int] | None:
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
            self._read_engine = None


# Seconds the replica is behind the primary: 0 when it has replayed all it received (an idle
# primary sends nothing, and "time since the last replayed transaction" would grow without any
# lag), else the age of the last transaction it replayed. A server that is not in recovery (a
# promoted replica, a primary's URL) is never behind.
_REPLICA_LAG_SQL = text(
    "SELECT CASE"
    " WHEN NOT pg_is_in_recovery() THEN 0.0"
    " WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0.0)"
    " END::float8"
)


class ReadReplica:
    """DATABASE_READ_URL: the pool that serves anonymous public reads while the replica is
    reachable and no further behind than DB_READ_MAX_LAG_SECONDS.

    Whether it is, is known from a check (`check`: one SELECT of its lag) that runs in the
    background at most once every CHECK_EVERY_SECONDS, started by the request that finds the
    last result older than that: no request waits for it, and until the first check has
    answered every read goes to the primary. A request that finds the replica unreachable marks
    it so at once; the next check after CHECK_EVERY_SECONDS lets it back in."""

    CHECK_EVERY_SECONDS = 2.0

    def __init__(self, target: DatabaseTarget, settings: Settings) -> None:
        self._pool = _Pool(target, settings, pool_size=settings.db_read_pool_size, max_overflow=0)
        self._max_lag = settings.db_read_max_lag_seconds
        self._timeout = settings.db_ping_timeout
        self._checked_at = -float("inf")
        self._checking: asyncio.Task[dict[str, Any]] | None = None
        self.state: dict[str, Any] = {"state": "unknown"}

    @property
    def target(self) -> DatabaseTarget:
        return self._pool.target

    @property
    def engine_created(self) -> bool:
        return self._pool.engine_created

    def usable(self) -> bool:
        """Whether public reads go to the replica now (the last check's verdict); starts the
        next check when that verdict is due for renewal."""
        now = time.monotonic()
        if now - self._checked_at >= self.CHECK_EVERY_SECONDS and (
            self._checking is None or self._checking.done()
        ):
            self._checked_at = now
            self._checking = asyncio.get_running_loop().create_task(self.check())
        return self.state["state"] == "ok"

    async def check(self) -> dict[str, Any]:
        """Measure the replica's lag (bounded by DB_PING_TIMEOUT); record and return its state:
        ok, lagging, timeout or unavailable."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                async with self._pool.read_engine.connect() as conn:
                    lag = float((await conn.execute(_REPLICA_LAG_SQL)).scalar_one())
        except TimeoutError:
            self._record({"state": "timeout", "timeout_s": self._timeout})
        except Exception as exc:  # any failure means "not now", never a crash of a request
            self._record({"state": "unavailable", "error": type(exc).__name__}, _describe(exc))
        else:
            self._record(
                {
                    "state": "ok" if lag <= self._max_lag else "lagging",
                    "lag_s": round(lag, 3),
                    "max_lag_s": self._max_lag,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )
        return self.state

    def report_failure(self, exc: BaseException) -> None:
        self._checked_at = time.monotonic()
        self._record({"state": "unavailable", "error": type(exc).__name__}, _describe(exc))

    def _record(self, state: dict[str, Any], reason: str | None = None) -> None:
        """Keep the replica's state (what the probes show: no host names, no messages) and log
        each change between usable and not, with the reason."""
        was_ok = self.state["state"] == "ok"
        self.state = state
        if was_ok and state["state"] != "ok":
            logger.warning(
                "read replica not used (%s); public reads go to the primary",
                reason or ", ".join(f"{k}={v}" for k, v in state.items()),
            )
        elif not was_ok and state["state"] == "ok":
            logger.info("read replica in use for public reads (lag %.3f s)", state["lag_s"])

    async def open_session(self) -> AsyncSession | None:
        """A read-only session on the replica, its connection already taken (so a replica that
        went away is found here, not in the middle of a route), or None: use the primary."""
        if not self.usable():
            return None
        session = self._pool.sessionmaker(read_only=True)()
        try:
            await session.connection()
        except DATABASE_UNAVAILABLE_ERRORS as exc:
            await session.close()
            self.report_failure(exc)
            return None
        return session

    def pool_status(self) -> dict[str, int] | None:
        return self._pool.status()

    async def dispose(self) -> None:
        if self._checking is not None and not self._checking.done():
            self._checking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checking
        await self._pool.dispose()


class Database:
    """The primary's lazily created engine (one per app, so per process), outage bookkeeping,
    and the optional read replica (DATABASE_READ_URL) for anonymous public reads."""

    # After a failed connection, fail fast for this long instead of letting every request wait
    # for its own connect timeout; the next request after it probes the database again.
    FAIL_FAST_SECONDS = 1.0

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._primary: _Pool | None = None
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
            self._primary = _Pool(
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

    def _pool(self) -> _Pool:
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
        async with self.sessionmaker(read_only=read_only or public)() as session:
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


async def get_database(request: Request) -> Database:  # async: no thread-pool hop
    return request.app.state.database


_SAFE_METHODS = frozenset(("GET", "HEAD"))


_PUBLIC_READ = "_hmb_public_read"


def serves_public_reads(endpoint: F) -> F:
    """Mark an endpoint whose anonymous GET and HEAD are the same for everyone (the
    `public_get` pages): their sessions may be on the read replica."""
    setattr(endpoint, _PUBLIC_READ, True)
    return endpoint


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One request, one session, one transaction (`Database.session`); GET and HEAD, which
    must not write (HTTP's safe methods), get a read-only one. An anonymous GET of a public
    page may be served by the read replica; a signed-in caller (any Authorization header)
    reads from the primary, so an owner sees their own writes at once."""
    scope = request.scope
    read_only = scope["method"] in _SAFE_METHODS
    public = (
        read_only
        and getattr(scope.get("endpoint"), _PUBLIC_READ, False)
        and "authorization" not in request.headers
    )
    async with request.app.state.database.session(read_only=read_only, public=public) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success reply for a write that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
