"""DATABASE_READ_URL: the read replica that serves anonymous public reads while it keeps up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db.engine import Pool
from app.core.db.errors import DATABASE_UNAVAILABLE_ERRORS, describe
from app.core.db.url import DatabaseTarget

logger = logging.getLogger("app.db")

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
        self._pool = Pool(target, settings, pool_size=settings.db_read_pool_size, max_overflow=0)
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
            self._record({"state": "unavailable", "error": type(exc).__name__}, describe(exc))
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
        self._record({"state": "unavailable", "error": type(exc).__name__}, describe(exc))

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
