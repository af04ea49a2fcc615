"""The pool hands connections out first come, first served (app/core/db/fair_pool.py): a request
that arrives just as a connection is given back waits behind those already waiting, instead of
taking it from them (SQLAlchemy's asyncio queue let it barge, and tails ran 5-16x the median)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc

from app.core.config import Settings
from app.core.db import Database

WAITERS = 3


async def _checkout(database: Database, name: str, order: list[str]) -> None:
    async with database.engine.connect() as connection:
        order.append(name)
        await connection.execute(text("SELECT 1"))


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out waiting for the pool")


async def test_a_newcomer_waits_behind_the_waiters(
    make_settings: Callable[..., Settings],
) -> None:
    database = Database(make_settings(db_pool_size=1, db_max_overflow=0, db_pool_timeout=10))
    pool: Any = database.engine.pool
    order: list[str] = []
    newcomer: list[asyncio.Task[None]] = []

    # The newcomer arrives at the worst moment: scheduled as the connection is checked in, so it
    # runs after the put and before the oldest waiter has woken up.
    @event.listens_for(pool, "checkin")
    def arrive(_dbapi_connection: Any, _record: Any) -> None:
        if order and not newcomer:
            newcomer.append(
                asyncio.get_running_loop().create_task(_checkout(database, "new", order))
            )

    try:
        release = asyncio.Event()

        async def holder() -> None:
            async with database.engine.connect() as connection:
                order.append("holder")
                await connection.execute(text("SELECT 1"))
                await release.wait()

        held = asyncio.create_task(holder())
        await _until(lambda: order == ["holder"])
        waiters = []
        for i in range(WAITERS):
            waiters.append(asyncio.create_task(_checkout(database, f"w{i}", order)))
            await _until(lambda n=i + 1: pool.queue.waiting == n)
        release.set()
        await asyncio.wait_for(asyncio.gather(held, *waiters), 10)
        await _until(lambda: bool(newcomer))
        await asyncio.wait_for(newcomer[0], 10)
    finally:
        await database.dispose()

    assert order == ["holder", *(f"w{i}" for i in range(WAITERS)), "new"]
    assert pool.queue.waits == WAITERS + 1  # the newcomer waited too
    assert pool.queue.wait_seconds > 0


async def test_a_waiter_gives_up_after_the_pool_timeout(
    make_settings: Callable[..., Settings],
) -> None:
    database = Database(make_settings(db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2))
    try:
        async with database.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(sa_exc.TimeoutError, match="QueuePool limit"):
                async with database.engine.connect():
                    pass
            status = database.pool_status()
            assert status is not None
            assert (status["waiting"], status["waits"]) == (0, 1)
            assert status["wait_us"] >= 200_000
        # The connection given back afterwards is not handed to the waiter that gave up.
        async with database.engine.connect() as again:
            assert (await again.execute(text("SELECT 1"))).scalar() == 1
        assert database.pool_status() == {**status, "checked_out": 0, "checked_in": 1}
    finally:
        await database.dispose()


async def test_a_connection_handed_to_a_cancelled_request_goes_to_the_next(
    make_settings: Callable[..., Settings],
) -> None:
    """A request cancelled (its client gone) just after a connection was handed to it passes
    the connection on to the next waiter: none is lost from the pool."""
    database = Database(make_settings(db_pool_size=1, db_max_overflow=0, db_pool_timeout=10))
    pool: Any = database.engine.pool
    order: list[str] = []
    tasks: dict[str, asyncio.Task[None]] = {}

    # Cancel the first waiter as the connection comes back: the cancellation is scheduled
    # before the connection reaches it, so it lands once the hand-over has happened.
    @event.listens_for(pool, "checkin")
    def cancel_first(_dbapi_connection: Any, _record: Any) -> None:
        if "first" in tasks and not tasks["first"].done():
            asyncio.get_running_loop().call_soon(tasks["first"].cancel)

    try:
        async with database.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            for name in ("first", "second"):
                tasks[name] = asyncio.create_task(_checkout(database, name, order))
                await _until(lambda n=len(tasks): pool.queue.waiting == n)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(tasks["first"], 10)
        await asyncio.wait_for(tasks["second"], 10)
        assert order == ["second"]
        status = database.pool_status()
        assert status is not None
        assert (status["checked_out"], status["checked_in"], status["waiting"]) == (0, 1, 0)
    finally:
        await database.dispose()
