"""The bench's preparation (bench/prepare.py) against a real Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from app.core.ratelimit import KEY_PREFIX
from bench.prepare import clear_rate_limits


async def test_a_run_starts_with_no_rate_limit_counted_for_its_accounts(
    redis: Redis, redis_url: str
) -> None:
    """An earlier run's counts (same account ids, within the hour) are gone; the cache stays."""
    counted = [f"{KEY_PREFIX}:LIMITER/write/applications/{n}/30/1/hour" for n in range(1, 1500)]
    await redis.mset(dict.fromkeys(counted, 30))
    await redis.set("cache:jobs:generation", 7)

    assert clear_rate_limits(redis_url) == len(counted)
    assert await redis.keys(f"{KEY_PREFIX}:*") == []
    assert await redis.get("cache:jobs:generation") == b"7"
    assert clear_rate_limits(None) == 0
