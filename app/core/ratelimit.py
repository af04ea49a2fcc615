"""Rate limits shared by every instance through Redis, with an in-process fallback.

Built on the `limits` library (fixed windows; its Redis scripts make each hit one atomic round
trip). While Redis is disabled or failing, counters live in this process's memory: limits then
hold per instance rather than across the fleet, and the service keeps answering.
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import Redis

from app.core.errors import RateLimited
from app.core.redis import REDIS_ERRORS, RedisState

KEY_PREFIX = "hmb:ratelimit"


class RateLimiter:
    def __init__(self, redis: RedisState) -> None:
        self._redis = redis
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._shared: FixedWindowRateLimiter | None = None
        self._shared_client: Redis | None = None

    def _redis_limiter(self) -> FixedWindowRateLimiter | None:
        client = self._redis.client()
        if client is None:
            return None
        if client is not self._shared_client:
            # Reuse the app's Redis connection pool rather than opening a second one.
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                connection_pool=client.connection_pool,
            )
            self._shared = FixedWindowRateLimiter(storage)
            self._shared_client = client
        return self._shared

    async def hit(self, item: RateLimitItem, *identifiers: str, message: str | None = None) -> None:
        """Count one event against the limit; raise RateLimited (429) once it is exhausted."""
        limiter = self._redis_limiter()
        if limiter is not None:
            try:
                verdict = await self._hit(limiter, item, identifiers)
            except REDIS_ERRORS as exc:
                self._redis.mark_failed(exc)
            else:
                self._redis.mark_ok()
                self._raise_if_denied(verdict, message)
                return
        self._raise_if_denied(await self._hit(self._memory, item, identifiers), message)

    @staticmethod
    async def _hit(
        limiter: FixedWindowRateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]
    ) -> float | None:
        """None when allowed, else the epoch second at which the window resets."""
        if await limiter.hit(item, *identifiers):
            return None
        return await limiter.storage.get_expiry(item.key_for(*identifiers))

    async def refund(self, item: RateLimitItem, *identifiers: str) -> None:
        """Give back one event counted by `hit` (a login that turned out to be right)."""
        key = item.key_for(*identifiers)
        storages: list[Storage] = [self._memory.storage]
        limiter = self._redis_limiter()
        if limiter is not None:
            storages.insert(0, limiter.storage)
        for storage in storages:
            try:
                if await storage.get(key) > 0:
                    await storage.incr(key, item.get_expiry(), amount=-1)
                return
            except REDIS_ERRORS as exc:
                self._redis.mark_failed(exc)

    async def clear(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Forget everything counted against the limit (an operator unlocking an account):
        here and in Redis. False when there is no Redis, so only this process forgot.
        Redis errors propagate: the caller must not report success."""
        key = item.key_for(*identifiers)
        await self._memory.storage.clear(key)
        limiter = self._redis_limiter()
        if limiter is None:
            return False
        try:
            await limiter.storage.clear(key)
        except REDIS_ERRORS as exc:
            self._redis.mark_failed(exc)
            raise
        return True

    @staticmethod
    def _raise_if_denied(reset_at: float | None, message: str | None) -> None:
        if reset_at is not None:
            raise RateLimited(math.ceil(reset_at - time.time()), message)


async def get_rate_limiter(request: Request) -> RateLimiter:  # async: no thread-pool hop
    return request.app.state.rate_limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
