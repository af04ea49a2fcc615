"""Startup is instant and shutdown is clean (DESIGN 1.4): the lifespan returns before its
background work is done, that work is tracked and can fail harmlessly, and shutdown cancels it,
closes Redis and hands every database connection back to PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.startup_tasks import StartupTasks
from app.main import create_app
from tests.support.helpers import make_client
from tests.support.tcp_fault import TcpFault

WAIT = 30.0  # generous bound on waits: reaching it means a hang, not slowness


async def _wait_until_settled(tasks: StartupTasks) -> dict[str, str]:
    deadline = time.monotonic() + WAIT
    while "running" in (status := tasks.status()).values():
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.02)
    return status


async def test_lifespan_returns_before_the_warm_up_is_done(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(bcrypt_rounds=13))
    async with app.router.lifespan_context(app):
        # The app is serving while bcrypt is still warming up in the background.
        assert app.state.services.startup_tasks.status()["bcrypt_warmup"] == "running"
        async with make_client(app) as client:
            assert (await client.get("/health")).status_code == 200
            warmup = (await client.get("/health/detailed")).json()["warmup"]
        assert set(warmup) == {"bcrypt_warmup", "redis_connect"}
        assert (await _wait_until_settled(app.state.services.startup_tasks)) == {
            "bcrypt_warmup": "done",
            "redis_connect": "done",
        }


async def test_a_failing_startup_task_is_reported_not_fatal() -> None:
    async def broken() -> None:
        raise RuntimeError("warm-up exploded")

    async def fine() -> None:
        return None

    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("app.background").addHandler(handler)
    try:
        tasks = StartupTasks()
        tasks.start("broken", broken())
        tasks.start("fine", fine())
        status = await _wait_until_settled(tasks)
    finally:
        logging.getLogger("app.background").removeHandler(handler)
    assert status == {"broken": "failed: RuntimeError: warm-up exploded", "fine": "done"}
    assert logged == ["startup task broken failed: RuntimeError: warm-up exploded"]
    await tasks.cancel_all()


async def test_shutdown_cancels_unfinished_startup_work(
    make_settings: Callable[..., Settings],
) -> None:
    """Redis accepts and never answers, with a long timeout: the connect task is still running
    at shutdown, and shutdown cancels it instead of waiting for it."""
    with TcpFault() as silent:
        app = create_app(
            make_settings(redis_url=f"redis://127.0.0.1:{silent.port}/2", redis_timeout=600)
        )
        context = app.router.lifespan_context(app)
        await context.__aenter__()
        deadline = time.monotonic() + WAIT
        while silent.accepted == 0:  # the connect attempt is under way
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert app.state.services.startup_tasks.status()["redis_connect"] == "running"

        await asyncio.wait_for(context.__aexit__(None, None, None), WAIT)

    assert app.state.services.startup_tasks.status()["redis_connect"] == "cancelled"


async def _backends(dsn: str, database: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()


async def _redis_clients(redis: Redis, db: int) -> set[str]:
    """The ids of the connections on this Redis database: ids, not a count, because a client
    of an earlier test may still be closing while this one runs."""
    return {c["id"] for c in await redis.client_list() if int(c["db"]) == db}


async def test_shutdown_closes_redis_and_database_connections(
    make_settings: Callable[..., Settings],
    create_database: Callable[..., Any],
    redis: Redis,
    redis_url: str,
) -> None:
    # A database of its own: other tests' apps may still hold connections to the shared one.
    database_url = await create_database()
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    database = make_url(database_url).database
    redis_db = make_url(redis_url).database or 0
    redis_before = await _redis_clients(redis, int(redis_db))

    app = create_app(make_settings(database_url=database_url))
    async with app.router.lifespan_context(app):
        await _wait_until_settled(app.state.services.startup_tasks)
        async with make_client(app) as client:
            assert (await client.get("/ready/db")).status_code == 200
        assert await _backends(dsn, database) >= 1
        apps_own = await _redis_clients(redis, int(redis_db)) - redis_before
        assert apps_own

    assert await _backends(dsn, database) == 0
    assert not apps_own & await _redis_clients(redis, int(redis_db))
    assert not app.state.services.database.engine_created
