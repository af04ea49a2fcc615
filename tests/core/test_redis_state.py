"""Redis is optional: lazy, with an in-process fallback while it is unset or down, and back in
use on its own when it returns (DESIGN 1.2, 1.4)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from app.core.cache import Cache, Lookup
from app.core.config import Settings
from app.core.redis import RedisState, redis_errors
from tests.support.helpers import make_client
from tests.support.server_process import free_port
from tests.support.tcp_fault import TcpFault

WAIT = 30.0  # generous bound on every wait below: reaching it means a hang, not slowness


async def _detailed(app: Any) -> dict[str, Any]:
    async with make_client(app) as client:
        response = await client.get("/health/detailed")
    assert response.status_code == 200
    return response.json()


async def _wait_for_warmup(app: Any) -> dict[str, str]:
    deadline = time.monotonic() + WAIT
    while "running" in (status := app.state.services.startup_tasks.status()).values():
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.02)
    return status


async def test_without_redis_url_redis_is_disabled_and_nothing_breaks(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(redis_url=None))
    assert app.state.services.redis.client() is None
    assert app.state.services.redis.status == "disabled"
    assert (await _wait_for_warmup(app))["redis_connect"] == "done"
    assert (await _detailed(app))["redis"] == {"state": "disabled"}


async def test_redis_down_at_startup_falls_back_without_hurting_the_app(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/2"))
    # The connect attempt is a startup task: it fails quietly and the app serves regardless.
    assert (await _wait_for_warmup(app))["redis_connect"] == "done"
    assert app.state.services.redis.status == "unavailable"
    assert app.state.services.redis.client() is None  # callers use their in-process fallback
    detailed = await _detailed(app)
    assert detailed["redis"]["state"] == "unavailable"
    async with make_client(app) as client:
        assert (await client.get("/health")).status_code == 200


async def test_redis_that_never_answers_is_bounded_by_its_timeout(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    with TcpFault() as silent:
        app = await start_app(
            make_settings(redis_url=f"redis://127.0.0.1:{silent.port}/2", redis_timeout=0.5)
        )
        await asyncio.wait_for(_wait_for_warmup(app), WAIT)
        detailed = await asyncio.wait_for(_detailed(app), WAIT)
    assert detailed["redis"]["state"] in {"timeout", "unavailable"}
    assert app.state.services.redis.client() is None


async def test_reconnects_when_redis_comes_back(redis: Redis, redis_url: str) -> None:
    """Redis's port refuses connections, then forwards to the real Redis, then goes away and
    comes back again: the same RedisState hands out a working client after each return (after
    its retry pause), with no restart."""
    real = make_url(redis_url)
    port = free_port()
    state = RedisState(f"redis://127.0.0.1:{port}/{real.database or 0}", timeout=1.0)
    await state.connect()
    assert state.status == "unavailable"
    assert state.client() is None

    for cycle in range(2):  # the second time, the client's pooled connection is a dead one
        with TcpFault((real.host or "127.0.0.1", real.port or 6379), port=port):
            deadline = time.monotonic() + WAIT
            while (client := state.client()) is None:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            try:
                await client.set("hmb:reconnect", cycle)
            except redis_errors() as exc:
                pytest.fail(f"first command after Redis returned failed: {exc!r}")
            state.mark_ok()
            assert state.status == "connected"
            assert await redis.get("hmb:reconnect") == str(cycle).encode()

        # Gone again: the next use fails and callers are sent to their fallback.
        with pytest.raises(redis_errors()):
            await state.ping()
        assert state.status == "unavailable"
        assert state.client() is None
    await state.close()


async def test_connects_in_the_background_when_redis_is_up(
    start_app: Callable[[Settings], Any], settings: Settings, redis: Redis
) -> None:
    app = await start_app(settings)
    assert (await _wait_for_warmup(app))["redis_connect"] == "done"
    assert app.state.services.redis.status == "connected"
    client = app.state.services.redis.client()
    assert client is not None
    await client.set("hmb:lifespan", "1")
    assert await redis.get("hmb:lifespan") == b"1"
    assert (await _detailed(app))["redis"]["state"] == "ok"


async def test_invalidations_made_while_redis_is_down_survive_a_failed_retry(
    redis: Redis, redis_url: str
) -> None:
    """A write's invalidation that could not reach Redis is kept until Redis has it, however
    many attempts fail first; then every instance stops serving the stale entries."""
    real = make_url(redis_url)
    with TcpFault((real.host or "127.0.0.1", real.port or 6379)) as proxy:
        state = RedisState(f"redis://127.0.0.1:{proxy.port}/{real.database or 0}", timeout=1.0)
        state.RETRY_SECONDS = 0  # retry on every use: the test decides when Redis is back
        cache = Cache(state, prefix="hmb-test")
        generation = "hmb-test:jobs:generation"
        await cache.store(("jobs",), "list", b"old", read=Lookup(None, (0,), (0,)), ttl=60)
        hit = (await cache.lookup(("jobs",), "list")).value
        assert hit is not None and hit.body == b"old"

        proxy.refuse()
        await cache.invalidate("jobs")  # a write committed while Redis is down
        assert (await cache.lookup(("jobs",), "list")).value is None  # this instance knows
        proxy.forward()
        assert await redis.get(generation) is None  # Redis never got it

        proxy.refuse()
        await cache.lookup(("jobs",), "list")  # a retry that fails as well
        proxy.forward()
        assert (await cache.lookup(("jobs",), "list")).value is None
        assert await redis.get(generation) == b"1"
        await state.close()
