"""The test Redis: the one REDIS_URL names (flushed: point it at a disposable one). Under
pytest-xdist worker i of REDIS_URL's database b uses database (b - i) mod 16, so workers never
flush each other's. Without REDIS_URL the tests that need Redis are skipped, unless
HMB_REQUIRE_REDIS=1 (CI) makes that a failure."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis


def worker_redis_url(url: str, worker: str | None) -> str:
    """REDIS_URL for xdist worker `worker` ("gw<i>"): database (b - i) mod 16 of REDIS_URL's b."""
    if not worker:
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = (base - int(worker.removeprefix("gw"))) % 16
    return urlunsplit(parts._replace(path=f"/{database}"))


def pytest_configure(config: pytest.Config) -> None:
    # Set once per worker process, so subprocesses that inherit the environment (the CLI, the
    # servers a test starts with os.environ) use the worker's database too.
    if os.environ.get("REDIS_URL"):
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], worker)


@pytest.fixture(scope="session")
async def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")  # this worker's database (pytest_configure)
    required = os.environ.get("HMB_REQUIRE_REDIS") == "1"
    if not url:
        if required:
            pytest.exit("HMB_REQUIRE_REDIS=1 but REDIS_URL is not set", 2)
        return None
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        if required:
            pytest.exit(f"Redis at REDIS_URL does not answer: {exc}", 2)
        return None
    finally:
        await client.aclose()
    return url


@pytest.fixture
async def redis(redis_url: str | None) -> AsyncIterator[Redis]:
    """A client to the test Redis, flushed before and after. Skips without Redis."""
    if redis_url is None:
        pytest.skip("needs Redis: set REDIS_URL")
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture(autouse=True)
async def _empty_redis(request: pytest.FixtureRequest) -> None:
    """Rate-limit counters and cache entries of one test never reach the next."""
    if "redis_url" not in request.fixturenames:
        return
    url = request.getfixturevalue("redis_url")
    if url is not None:
        client = Redis.from_url(url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()
