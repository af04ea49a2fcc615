"""The real server the fuzzer talks to (one per module: the world is rebuilt per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from tests.fuzz.world import Actor, build_world
from tests.server_process import ServerProcess, start_server


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str | None
) -> Iterator[ServerProcess]:
    if redis_url is not None:
        # Rate-limit windows of an earlier run must not turn this one's answers into 429s.
        with Redis.from_url(redis_url) as client:
            client.flushdb()
    server = start_server(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Thousands of back-to-back keep-alive requests would recycle the worker every few
            # seconds (max_requests), and a request racing the close of its idle connection is
            # reset before the app reads it. That is HTTP keep-alive, not input handling: the
            # recycle is tested in tests/faults, and here it stays off.
            "GUNICORN_MAX_REQUESTS": "0",
            # GET /api/events never ends on its own: let each stream last a second, so the
            # fuzzer's reads of it finish (it declares its reply, text/event-stream).
            "EVENTS_STREAM_MAX_SECONDS": "1",
        },
        log_path=tmp_path_factory.mktemp("fuzz") / "server.log",
    )
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def actor(role: str, fuzz_server: ServerProcess, database_url: str) -> Actor:
    return await build_world(fuzz_server.base_url, database_url, role)
