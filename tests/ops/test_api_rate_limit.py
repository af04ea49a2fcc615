"""The general per-client limit on /api/* (RATE_LIMIT_PER_MINUTE): a 429 in the error shape
with Retry-After once a client address has used its minute, other addresses unaffected, the
probes never counted, and one count for the whole fleet (two instances behind nginx)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from app.core.config import Settings
from tests.support.cluster import start_cluster
from tests.support.helpers import assert_error, make_client

LIMIT = 3
ORIGIN = "https://hiremebahamas.com"


@pytest.fixture
async def limited_app(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings], redis: Redis
) -> Any:
    return await start_app(make_settings(rate_limit_per_minute=LIMIT))


async def test_a_client_over_its_minute_gets_429_with_retry_after(limited_app: Any) -> None:
    async with make_client(limited_app, client_ip="203.0.113.7") as client:
        for _ in range(LIMIT):
            assert (await client.get("/api/jobs")).status_code == 200
        refused = await client.get("/api/jobs", headers={"Origin": ORIGIN})
        body = assert_error(refused, 429, "RATE_LIMITED")
        assert body["message"] == "Too many requests. Try again later."
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # A browser can read it: CORS headers are on the refusal too.
        assert refused.headers["access-control-allow-origin"] == ORIGIN
        # Every API route counts, not only the one that used the minute up.
        assert_error(await client.get("/api/stats"), 429, "RATE_LIMITED")

    async with make_client(limited_app, client_ip="203.0.113.8") as other:
        assert (await other.get("/api/jobs")).status_code == 200


async def test_the_probes_and_metrics_are_never_limited(limited_app: Any) -> None:
    async with make_client(limited_app, client_ip="203.0.113.9") as client:
        for _ in range(LIMIT + 2):
            for path in ("/health", "/live", "/ready", "/ready/db", "/health/detailed"):
                assert (await client.get(path)).status_code == 200, path
            assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/api/jobs")).status_code == 200


async def test_the_client_is_the_address_trusted_proxies_resolve(limited_app: Any) -> None:
    # The peer is a trusted proxy (127.0.0.1): each X-Forwarded-For client has its own minute.
    async with make_client(limited_app, client_ip="127.0.0.1") as proxy:
        for client in ("198.51.100.1", "198.51.100.2"):
            headers = {"X-Forwarded-For": client}
            for _ in range(LIMIT):
                assert (await proxy.get("/api/jobs", headers=headers)).status_code == 200
            assert_error(await proxy.get("/api/jobs", headers=headers), 429, "RATE_LIMITED")


async def test_the_limit_is_documented_on_api_operations(limited_app: Any) -> None:
    async with make_client(limited_app) as client:
        schema = (await client.get("/openapi.json")).json()
    assert "429" in schema["paths"]["/api/jobs"]["get"]["responses"]


async def _fleet_count(redis: Redis, client: str) -> int:
    keys = [key async for key in redis.scan_iter(f"hmb:ratelimit:api:*:{client}")]
    return sum(int(value or 0) for value in await redis.mget(keys)) if keys else 0


async def test_counts_far_below_the_limit_reach_redis_in_the_background(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings], redis: Redis
) -> None:
    """Far below its limit a client's requests are counted in process and added in Redis by
    the next flush (FleetRateLimit.FLUSH_SECONDS), not one round trip each."""
    app = await start_app(make_settings(rate_limit_per_minute=100))
    async with make_client(app, client_ip="203.0.113.20") as client:
        for _ in range(5):
            assert (await client.get("/api/stats")).status_code == 200
        assert await _fleet_count(redis, "203.0.113.20") in (1, 5)  # the first waits for it
        for _ in range(40):
            if await _fleet_count(redis, "203.0.113.20") == 5:
                break
            await asyncio.sleep(0.05)
        assert await _fleet_count(redis, "203.0.113.20") == 5


async def test_an_instance_knows_what_the_others_counted_from_a_clients_first_request(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings], redis: Redis
) -> None:
    """Two instances (two apps on one Redis): a client that used its minute on one is refused
    on its first request to the other, and near the limit the count is exact."""
    first = await start_app(make_settings(rate_limit_per_minute=30))
    second = await start_app(make_settings(rate_limit_per_minute=30))
    async with (
        make_client(first, client_ip="203.0.113.21") as a,
        make_client(second, client_ip="203.0.113.21") as b,
    ):
        for _ in range(15):
            assert (await a.get("/api/stats")).status_code == 200
        await asyncio.sleep(0.3)  # the first instance's flush
        statuses = [(await b.get("/api/stats")).status_code for _ in range(20)]
    assert statuses == [200] * 15 + [429] * 5
    assert await _fleet_count(redis, "203.0.113.21") == 35


async def test_without_redis_the_limit_holds_per_instance(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(
        make_settings(rate_limit_per_minute=25, redis_url="redis://127.0.0.1:1/0")
    )
    async with make_client(app, client_ip="203.0.113.22") as client:
        statuses = [(await client.get("/api/stats")).status_code for _ in range(27)]
    assert statuses == [200] * 25 + [429] * 2


@pytest.mark.slow
def test_one_count_for_both_instances(
    database_url: str, redis_url: str | None, tmp_path: Path
) -> None:
    if redis_url is None:
        pytest.skip("needs Redis: set REDIS_URL")
    cluster = start_cluster(
        database_url, redis_url, workdir=tmp_path, env={"RATE_LIMIT_PER_MINUTE": "4"}
    )
    try:
        with cluster.client() as http:
            allowed = [http.get("/api/jobs") for _ in range(4)]
            assert [r.status_code for r in allowed] == [200] * 4
            assert {cluster.served_by(r) for r in allowed} == {0, 1}  # two each
            refused = [http.get("/api/jobs") for _ in range(2)]
            for response in refused:
                assert_error(response, 429, "RATE_LIMITED")
                assert int(response.headers["retry-after"]) >= 1
            assert {cluster.served_by(r) for r in refused} == {0, 1}
            assert http.get("/health").status_code == 200
    finally:
        cluster.stop()
