"""Rate limits shared by every instance through Redis, with an in-process fallback.

Built on the `limits` library (fixed windows; its Redis scripts make each hit one atomic round
trip). While Redis is disabled or failing, counters live in this process's memory: limits then
hold per instance rather than across the fleet, and the service keeps answering.

The library (~55 modules, ~14 ms of a worker's boot) is loaded by the first limit counted: the
domains declare their limits as `Limit("5/15 minutes")`, parsed then.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, NoReturn

from fastapi import Depends, Request

from app.core.errors import RateLimited
from app.core.redis import RedisState, redis_errors
from app.core.services import core_services

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage
    from limits.aio.strategies import FixedWindowRateLimiter
    from redis.asyncio import Redis

KEY_PREFIX = "hmb:ratelimit"


class Limit:
    """A limit in the `limits` library's notation ("5/15 minutes", "30/minute"), parsed at its
    first use."""

    __slots__ = ("_item", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._item: RateLimitItem | None = None

    @property
    def item(self) -> RateLimitItem:
        if self._item is None:
            from limits import parse

            self._item = parse(self.text)
        return self._item


@dataclass(frozen=True)
class Counted:
    """One event counted by RateLimiter.count: the window's count, this event included."""

    value: int
    item: RateLimitItem
    key: str
    storage: Storage
    redis: RedisState

    @property
    def exceeded(self) -> bool:
        return self.value > self.item.amount

    async def refuse(self, message: str | None = None) -> NoReturn:
        """Raise RateLimited, its Retry-After the end of the window."""
        try:
            reset_at = await self.storage.get_expiry(self.key)
        except redis_errors() as exc:
            self.redis.mark_failed(exc)
            reset_at = time.time() + self.item.get_expiry()
        raise RateLimited(math.ceil(reset_at - time.time()), message)


class RateLimiter:
    def __init__(self, redis: RedisState) -> None:
        self._redis = redis
        self._memory_limiter: FixedWindowRateLimiter | None = None
        self._shared: FixedWindowRateLimiter | None = None
        self._shared_client: Redis | None = None

    @property
    def _memory(self) -> FixedWindowRateLimiter:
        if self._memory_limiter is None:
            from limits.aio.storage import MemoryStorage
            from limits.aio.strategies import FixedWindowRateLimiter

            self._memory_limiter = FixedWindowRateLimiter(MemoryStorage())
        return self._memory_limiter

    def _redis_limiter(self) -> FixedWindowRateLimiter | None:
        client = self._redis.client()
        if client is None:
            return None
        if client is not self._shared_client:
            from limits.aio.storage import RedisStorage
            from limits.aio.strategies import FixedWindowRateLimiter

            # Reuse the app's Redis connection pool rather than opening a second one.
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                connection_pool=client.connection_pool,  # type: ignore[arg-type]  # limits types **options as scalars; a pool is a documented option
            )
            self._shared = FixedWindowRateLimiter(storage)
            self._shared_client = client
        return self._shared

    async def hit(self, limit: Limit, *identifiers: str, message: str | None = None) -> None:
        """Count one event against the limit; raise RateLimited (429) once it is exhausted."""
        counted = await self.count(limit, *identifiers)
        if counted.exceeded:
            await counted.refuse(message)

    async def count(self, limit: Limit, *identifiers: str) -> Counted:
        """Count one event against the limit without refusing it: the caller decides (the
        failed sign-in count of an account refuses only addresses it does not know)."""
        item = limit.item
        key = item.key_for(*identifiers)
        limiter = self._redis_limiter()
        if limiter is not None:
            try:
                value = await limiter.storage.incr(key, item.get_expiry())
            except redis_errors() as exc:
                self._redis.mark_failed(exc)
            else:
                self._redis.mark_ok()
                return Counted(value, item, key, limiter.storage, self._redis)
        value = await self._memory.storage.incr(key, item.get_expiry())
        return Counted(value, item, key, self._memory.storage, self._redis)

    async def refund(self, limit: Limit, *identifiers: str) -> None:
        """Give back one event counted by `hit` (a login that turned out to be right)."""
        item = limit.item
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
            except redis_errors() as exc:
                self._redis.mark_failed(exc)

    async def clear(self, limit: Limit, *identifiers: str) -> bool:
        """Forget everything counted against the limit (an operator unlocking an account):
        here and in Redis. False when there is no Redis, so only this process forgot.
        Redis errors propagate: the caller must not report success."""
        key = limit.item.key_for(*identifiers)
        await self._memory.storage.clear(key)
        limiter = self._redis_limiter()
        if limiter is None:
            return False
        try:
            await limiter.storage.clear(key)
        except redis_errors() as exc:
            self._redis.mark_failed(exc)
            raise
        return True


async def get_rate_limiter(request: Request) -> RateLimiter:  # async: no thread-pool hop
    return core_services(request).rate_limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


class _ClientCount:
    __slots__ = ("total", "unsent")

    def __init__(self) -> None:
        self.total = 0  # the fleet's count for the minute, as Redis last said (ours included)
        self.unsent = 0  # counted here, not yet added in Redis


class FleetRateLimit:
    """A per-client limit per minute for the whole fleet (the general API limit,
    RATE_LIMIT_PER_MINUTE), without a Redis round trip in most requests.

    Each request is counted here at once. A client's first request of the minute on this
    instance waits for its count in Redis (so an instance learns what the others counted);
    after that, what this instance counted is added to the client's count in Redis by a flush
    that runs FLUSH_SECONDS after the first unsent count (one pipeline for every client
    counted since), and Redis's answer is the fleet's total. So, far below the limit, a
    request does not wait for Redis; in the last tenth of the limit (the last
    ten requests at least) every request flushes its client and waits for the total, so the
    boundary holds across instances up to what the others counted in their last FLUSH_SECONDS
    before they got there; a limit of ten or less is exact. Fixed minute windows, like the
    credential limits. Without Redis, or while it fails, the count is
    this process's own (and the limit is per instance).

    The credential limits (RateLimiter) stay one exact round trip per attempt: they are few
    and must hold to the attempt."""

    FLUSH_SECONDS = 0.1
    WINDOW_SECONDS = 60

    def __init__(self, redis: RedisState, per_minute: int) -> None:
        self._redis = redis
        self.limit = per_minute
        self._exact_from = per_minute - max(per_minute // 10, 10)
        self._window = -1
        self._counts: dict[str, _ClientCount] = {}
        self._flush_pending = False
        self._flushes: set[asyncio.Task[None]] = set()

    async def hit(self, client: str) -> int | None:
        """Count one request of `client`: None when allowed, else the seconds until its
        minute ends (for Retry-After)."""
        now = time.time()
        window = int(now // self.WINDOW_SECONDS)
        if window != self._window:
            self._window, self._counts = window, {}
        count = self._counts.get(client)
        first = count is None
        if count is None:
            count = self._counts[client] = _ClientCount()
        count.unsent += 1
        if first or count.total + count.unsent >= self._exact_from:
            await self._send(window, {client: count})
        elif not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_later(self.FLUSH_SECONDS, self._flush)
        if count.total + count.unsent > self.limit:
            return math.ceil(self.WINDOW_SECONDS - now % self.WINDOW_SECONDS)
        return None

    def _flush(self) -> None:
        self._flush_pending = False
        unsent = {client: count for client, count in self._counts.items() if count.unsent}
        if unsent:
            task = asyncio.create_task(self._send(self._window, unsent))
            self._flushes.add(task)  # a task nobody references may be collected mid-flight
            task.add_done_callback(self._flushes.discard)

    async def _send(self, window: int, counts: dict[str, _ClientCount]) -> None:
        sent = [(client, count, count.unsent) for client, count in counts.items()]
        for _, count, _ in sent:
            count.unsent = 0
        redis = self._redis.client()
        if redis is not None:
            try:
                async with redis.pipeline(transaction=False) as pipe:
                    for client, _, n in sent:
                        key = f"{KEY_PREFIX}:api:{window}:{client}"
                        pipe.incrby(key, n)
                        pipe.expire(key, 2 * self.WINDOW_SECONDS)
                    replies = await pipe.execute()
            except redis_errors() as exc:
                self._redis.mark_failed(exc)
            else:
                self._redis.mark_ok()
                for (_, count, _), total in zip(sent, replies[::2], strict=True):
                    count.total = max(count.total, int(total))
                return
        for _, count, n in sent:  # counted here only
            count.total += n
