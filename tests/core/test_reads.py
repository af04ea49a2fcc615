"""The hot read lane (app/core/reads.py): statements compiled once, and the read pool's
connections: bounded, reused, replaced when the server drops them, never left half-used."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, func, literal, select, text

from app.core.config import Settings
from app.core.db import Database
from app.core.errors import DatabaseUnavailable
from app.core.reads import Query

PID = Query.compile(select(func.pg_backend_pid().label("pid")))
TERMINATE = Query.compile(
    select(func.pg_terminate_backend(bindparam("pid", type_=Integer)).label("done"))
)
ALIVE = Query.compile(
    select(func.count().label("n"))
    .select_from(text("pg_stat_activity"))
    .where(text("pid = :pid").bindparams(bindparam("pid", type_=Integer)))
)


@pytest.fixture
async def open_database(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[Callable[..., Database]]:
    """Databases on the test settings with the given overrides, all disposed at teardown."""
    opened: list[Database] = []

    def open_(**overrides: Any) -> Database:
        opened.append(Database(make_settings(**overrides)))
        return opened[-1]

    yield open_
    for database in opened:
        await database.dispose()


@pytest.fixture
def admin(open_database: Callable[..., Database]) -> Database:
    """A second client of the test database, to end and look up the read pool's backends."""
    return open_database()


async def _pid(database: Database) -> int:
    return (await database.fetch(PID, {}))[0]["pid"]


async def _alive(database: Database, pid: int) -> bool:
    return (await database.fetch(ALIVE, {"pid": pid}))[0]["n"] == 1


async def test_fetch_runs_a_statement_compiled_once_with_fixed_and_given_values(
    open_database: Callable[..., Database],
) -> None:
    query = Query.compile(
        select(
            literal("a value").label("fixed"), (bindparam("n", type_=Integer) * 2).label("twice")
        )
    )
    assert "$1" in query.sql and "a value" not in query.sql  # values are bound, not inlined
    database = open_database()
    rows = await database.fetch(query, {"n": 21})
    assert [dict(r) for r in rows] == [{"fixed": "a value", "twice": 42}]
    with pytest.raises(KeyError):
        await database.fetch(query, {})  # a missing value is never a silent NULL
    # The read's connection went back to the read pool, and the failed call took none.
    assert database.read_pool_status() == {"in_use": 0, "idle": 1}
    assert not database.engine_created  # reads never touch the session engine


async def test_fetch_of_an_unconfigured_database_is_database_unavailable(
    open_database: Callable[..., Database],
) -> None:
    database = open_database(database_url=None)
    with pytest.raises(DatabaseUnavailable):
        await database.fetch(Query.compile(select(literal(1))), {})


async def test_reads_never_hold_more_than_the_read_pool_size_of_connections(
    make_settings: Callable[..., Settings], create_database: Callable[..., Any]
) -> None:
    """Concurrent reads beyond DB_READ_POOL_SIZE share its connections; the database sees at
    most that many, and they stay open for the next reads."""
    url = await create_database("hmb_read_pool", migrate=False)  # no other test connects to it
    database = Database(make_settings(database_url=url, db_read_pool_size=2))
    slow = Query.compile(
        select(func.pg_sleep(0.2), func.pg_backend_pid().label("pid"), literal(1).label("one"))
    )
    backends = Query.compile(
        select(func.count().label("n"))
        .select_from(text("pg_stat_activity"))
        .where(text("datname = current_database()"))
    )
    try:
        results = await asyncio.gather(*(database.fetch(slow, {}) for _ in range(6)))
        assert [rows[0]["one"] for rows in results] == [1] * 6
        assert len({rows[0]["pid"] for rows in results}) == 2
        assert database.read_pool_status() == {"in_use": 0, "idle": 2}
        (row,) = await database.fetch(backends, {})
        assert row["n"] == 2
    finally:
        await database.dispose()
    assert database.read_pool_status() == {"in_use": 0, "idle": 0}


async def test_reads_beyond_the_pool_wait_for_a_connection_then_answer_503_at_the_pool_timeout(
    open_database: Callable[..., Database],
) -> None:
    """Reads queue for one of the read pool's connections (DB_READ_POOL_SIZE) and give up after
    DB_POOL_TIMEOUT as an exhausted pool does; the ones that got a connection finish, and the
    next read is served."""
    database = open_database(db_read_pool_size=2, db_pool_timeout=0.5)
    slow = Query.compile(select(func.pg_sleep(3), literal(1).label("one")))
    quick = Query.compile(select(literal(2).label("two")))
    results = await asyncio.gather(
        *(database.fetch(slow, {}) for _ in range(3)), return_exceptions=True
    )
    served = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert [rows[0]["one"] for rows in served] == [1, 1]
    assert len(refused) == 1 and isinstance(refused[0], DatabaseUnavailable)
    assert not database.is_down  # a busy pool is not a database outage
    assert (await database.fetch(quick, {}))[0]["two"] == 2


@pytest.mark.parametrize("settle", [0.2, 0], ids=["seen-closed", "closed-unseen"])
async def test_a_connection_the_server_closed_is_replaced_without_failing_a_read(
    open_database: Callable[..., Database], admin: Database, settle: float
) -> None:
    """What the engine's pre-ping is for (an idle connection dropped by the server, say Neon
    suspending its compute): the read pool sees it closed when it is taken, or the read fails
    on it at once, and either way the read runs on a new connection."""
    database = open_database()
    for _ in range(5):
        first = await _pid(database)
        assert (await admin.fetch(TERMINATE, {"pid": first}))[0]["done"] is True
        if settle:
            await asyncio.sleep(settle)  # the server's goodbye reaches the idle connection
        assert await _pid(database) != first
    assert not database.is_down
    assert database.read_pool_status() == {"in_use": 0, "idle": 1}


async def test_a_connection_idle_for_longer_than_the_recycle_time_is_closed_not_reused(
    open_database: Callable[..., Database], admin: Database
) -> None:
    database = open_database(db_pool_recycle=1)
    first = await _pid(database)
    assert await _pid(database) == first  # reused while fresh
    await asyncio.sleep(1.3)
    assert await _pid(database) != first
    assert not await _alive(admin, first)


async def test_a_read_cancelled_mid_query_discards_its_connection(
    open_database: Callable[..., Database],
) -> None:
    """A client that goes away cancels its read: that connection's state is unknown (its query
    may still be running), so it is never handed to the next read."""
    database = open_database(db_read_pool_size=1)
    slow = Query.compile(select(func.pg_sleep(2), func.pg_backend_pid().label("pid")))
    first = await _pid(database)
    reading = asyncio.create_task(database.fetch(slow, {}))
    await asyncio.sleep(0.3)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert database.read_pool_status() == {"in_use": 0, "idle": 0}
    assert await _pid(database) != first  # the one slot is free again, on a new connection


async def test_a_read_cancelled_while_queued_leaves_its_turn_to_the_next(
    open_database: Callable[..., Database],
) -> None:
    database = open_database(db_read_pool_size=1, db_pool_timeout=5)
    slow = Query.compile(select(func.pg_sleep(0.5), literal(1).label("one")))
    holder = asyncio.create_task(database.fetch(slow, {}))
    await asyncio.sleep(0.1)
    queued = asyncio.create_task(database.fetch(slow, {}))
    after = asyncio.create_task(database.fetch(PID, {}))
    await asyncio.sleep(0.1)
    queued.cancel()
    assert (await holder)[0]["one"] == 1
    assert (await asyncio.wait_for(after, 2))[0]["pid"]
    assert queued.cancelled()
    assert database.read_pool_status() == {"in_use": 0, "idle": 1}


async def test_reads_keep_the_urls_ssl_and_pooler_settings(
    open_database: Callable[..., Database], database_url: str
) -> None:
    """The read pool connects as the engine does: PgBouncer's settings (no statement cache)
    still run statements again and again, and sslmode=require is never downgraded to plain
    text (the local server has no TLS)."""
    pooled = open_database(db_pgbouncer=True)
    assert pooled.target is not None and pooled.target.pgbouncer
    assert [await _pid(pooled) for _ in range(5)] == [await _pid(pooled)] * 5
    strict = open_database(database_url=database_url + "?sslmode=require")
    with pytest.raises(DatabaseUnavailable):
        await _pid(strict)
    assert strict.is_down
