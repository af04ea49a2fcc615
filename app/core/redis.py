"""Redis, optional: a lazily created client that the service uses while Redis answers.

Callers ask `client()` for a connection and fall back to in-process state when it returns None.
After a failure the client is left alone for RETRY_SECONDS, then tried again, so the service
goes back to Redis on its own when Redis returns.

redis-py (its sync, async and cluster clients, ~40 ms of a worker's boot) is imported with the
first client, so a process without REDIS_URL never loads it and one with it loads it in a
thread of the startup task that connects, beside the first requests. `redis_errors()` is what
callers catch.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import time
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("app.redis")

RedisStatus = Literal["disabled", "not_connected", "connected", "unavailable"]


def redis_errors() -> tuple[type[BaseException], ...]:
    """What a Redis call raises: redis-py's errors and the socket's. Called in `except` clauses
    (evaluated only when an exception is raised): until redis-py is loaded, no client exists
    to raise its errors."""
    loaded = sys.modules.get("redis.exceptions")
    return (loaded.RedisError, OSError) if loaded is not None else (OSError,)


class RedisState:
    RETRY_SECONDS = 2.0

    def __init__(self, url: str | None, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._client: Redis | None = None
        self._failed_at: float | None = None
        self._ever_connected = False

    @property
    def enabled(self) -> bool:
        return self._url is not None

    @property
    def status(self) -> RedisStatus:
        if not self.enabled:
            return "disabled"
        if self._failed_at is not None:
            return "unavailable"
        return "connected" if self._ever_connected else "not_connected"

    def _get_client(self) -> Redis:
        if self._client is None:
            assert self._url is not None
            from redis.asyncio import Redis

            self._client = Redis.from_url(
                self._url,
                socket_connect_timeout=self._timeout,
                socket_timeout=self._timeout,
                retry_on_timeout=False,
                health_check_interval=30,
            )
        return self._client

    def client(self) -> Redis | None:
        """The client while Redis is believed up (or due for a retry), else None."""
        if not self.enabled:
            return None
        if self._failed_at is not None and time.monotonic() - self._failed_at < self.RETRY_SECONDS:
            return None
        return self._get_client()

    def mark_failed(self, exc: BaseException) -> None:
        if self._failed_at is None:
            logger.warning(
                "redis unavailable, using in-process fallback: %s: %s", type(exc).__name__, exc
            )
        self._failed_at = time.monotonic()

    def mark_ok(self) -> None:
        if self._failed_at is not None:
            logger.info("redis reachable again")
        self._failed_at = None
        self._ever_connected = True

    async def ping(self) -> float:
        """PING Redis; return the round trip in milliseconds. Raises on failure."""
        client = self._get_client()
        started = time.perf_counter()
        try:
            await client.ping()
        except redis_errors() as exc:
            self.mark_failed(exc)
            raise
        self.mark_ok()
        return (time.perf_counter() - started) * 1000

    async def connect(self) -> None:
        """Startup task: connect once so the first request finds Redis ready. redis-py is
        imported in a thread, so the event loop answers the first requests meanwhile."""
        if not self.enabled:
            logger.info("REDIS_URL not set; rate limits and caches are kept in process")
            return
        await asyncio.to_thread(importlib.import_module, "redis.asyncio")
        try:
            await self.ping()
        except redis_errors():
            return
        logger.info("redis connected")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
