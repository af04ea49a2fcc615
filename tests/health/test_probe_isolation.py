"""The probes keep answering when everything behind them is stuck: /health does not need the
threadpool, and /health/detailed bounds every check by HEALTH_CHECK_TIMEOUT."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import httpx

from app.core.config import Settings
from tests.support.helpers import make_client
from tests.support.tcp_fault import TcpFault

WAIT = 30.0  # generous bound: reaching it means a hang, not slowness


async def test_health_answers_while_the_threadpool_is_exhausted(
    start_app: Callable[[Settings], Any], settings: Settings
) -> None:
    """Every threadpool token is held by a blocked call: /health (served inline on the event
    loop) still answers, while /metrics, a plain `def` endpoint, waits for a free thread."""
    app = await start_app(settings)
    release = threading.Event()
    limiter = anyio.to_thread.current_default_thread_limiter()
    blockers = [
        asyncio.create_task(anyio.to_thread.run_sync(release.wait))
        for _ in range(int(limiter.total_tokens))
    ]
    try:
        while limiter.available_tokens > 0:
            await asyncio.sleep(0.01)
        async with make_client(app) as client:
            metrics = asyncio.create_task(client.get("/metrics"))
            for path in ("/health", "/live", "/ready"):
                response = await asyncio.wait_for(client.get(path), WAIT)
                assert response.status_code == 200
            assert not metrics.done()  # the threadpool really was exhausted
            release.set()
            assert (await asyncio.wait_for(metrics, WAIT)).status_code == 200
    finally:
        release.set()
        await asyncio.gather(*blockers)


async def test_detailed_health_is_bounded_when_database_and_redis_hang(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    """Both dependencies accept connections and never answer, and their own timeouts are long:
    /health/detailed still answers, reporting each check as timed out."""
    with TcpFault() as silent_db, TcpFault() as silent_redis:
        app = await start_app(
            make_settings(
                database_url=f"postgresql://u:p@127.0.0.1:{silent_db.port}/db",
                db_connect_timeout=600,
                redis_url=f"redis://127.0.0.1:{silent_redis.port}/2",
                redis_timeout=600,
                health_check_timeout=0.5,
            )
        )
        async with make_client(app) as client:
            response: httpx.Response = await asyncio.wait_for(client.get("/health/detailed"), WAIT)
            ready = await asyncio.wait_for(client.get("/ready/db"), WAIT)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == {"state": "timeout", "timeout_s": 0.5}
    assert body["redis"] == {"state": "timeout", "timeout_s": 0.5}
    assert ready.status_code == 503
    assert ready.json()["database"]["state"] == "timeout"
