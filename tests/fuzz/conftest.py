"""The real server the fuzzer talks to and the world it fuzzes, each made once per module; the
world is built again only after an item changed the database (world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from redis import Redis

from tests.fuzz.world import Actor, build_world, fingerprint
from tests.support.database import empty_tables
from tests.support.server_process import ServerProcess, start_server

GENEROUS = "1000000/hour"


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
            # The world's callers make thousands of writes per module, and without Redis the
            # per-account counters live in this process for its whole life; the limits
            # themselves are tested in tests/moderation/test_write_limits.py.
            **{
                f"RATE_LIMIT_{action}": GENEROUS
                for action in ("JOB_POSTS", "APPLICATIONS", "MESSAGES", "REPORTS")
            },
            # A world can outlive the default 15-minute access token.
            "ACCESS_TOKEN_TTL_MINUTES": "1440",
        },
        log_path=tmp_path_factory.mktemp("fuzz") / "server.log",
    )
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@dataclass
class World:
    actors: dict[str, Actor]
    fingerprint: list[tuple[object, ...]]


@pytest.fixture(scope="module")
async def world_holder(database_url: str) -> AsyncIterator[list[World]]:
    """The module's current world (none yet); its tables are emptied when the module ends."""
    holder: list[World] = []
    yield holder
    await empty_tables(database_url)


@pytest.fixture
async def actor(
    role: str, fuzz_server: ServerProcess, database_url: str, world_holder: list[World]
) -> Actor:
    """The caller in `role`, in a world exactly as built: reused while no item changed it."""
    if not world_holder or await fingerprint(database_url) != world_holder[0].fingerprint:
        await empty_tables(database_url)
        actors = await build_world(fuzz_server.base_url, database_url)
        world_holder[:] = [World(actors, await fingerprint(database_url))]
    return world_holder[0].actors[role]
