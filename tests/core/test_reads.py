"""Reads through the driver (`Database.rows`, app/core/db/reads.py): the rows a session would
give, a statement refused when its first run would give other values, and a failing
connection handled as the session's engine handles it (a 503, the connection discarded; a
connection the server dropped: tests/core/test_database.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import JSON, Integer, bindparam, cast, literal_column, select, text

from app.core.config import Settings
from app.core.db import Database
from app.core.errors import DatabaseUnavailable
from app.identity.models import User

_USERS = User.__table__.c
_BACKEND = select(literal_column("pg_backend_pid()", Integer).label("pid"))
_SLEEP = select(literal_column("1", Integer).label("one")).where(
    text("pg_sleep(:seconds) IS NOT NULL").bindparams(bindparam("seconds"))
)


async def test_rows_are_read_as_the_session_reads_them(settings: Settings) -> None:
    database = Database(settings)
    stmt = select(_USERS.id, _USERS.email, _USERS.skills, _USERS.created_at).where(
        _USERS.id == bindparam("user_id")
    )
    try:
        async with database.session() as session:
            user_id = (
                await session.execute(
                    text(
                        "INSERT INTO users (email, password_hash, full_name, role, skills) "
                        "VALUES ('reads@example.com', 'x', 'Reads', 'job_seeker', "
                        "'{Opera PMS,Excel}') RETURNING id"
                    )
                )
            ).scalar_one()
        async with database.session(read_only=True) as session:
            expected = (await session.execute(stmt, {"user_id": user_id})).one()
        [row] = await database.rows(stmt, {"user_id": user_id})
        assert tuple(row) == tuple(expected)
        assert (row.email, row["email"], row._mapping["email"]) == ("reads@example.com",) * 3
        assert row.skills == ["Opera PMS", "Excel"]
        with pytest.raises(AttributeError):
            _ = row.password_hash
        assert await database.rows(stmt, {"user_id": -1}) == []
    finally:
        async with database.session() as session:
            await session.execute(text("DELETE FROM users WHERE email = 'reads@example.com'"))
        await database.dispose()


@pytest.mark.parametrize(
    "stmt",
    [
        pytest.param(select(cast(literal_column("'{}'"), JSON).label("data")), id="json column"),
        pytest.param(select(_USERS.id).where(_USERS.id.in_([1, 2])), id="expanded list"),
    ],
)
async def test_a_statement_the_driver_would_read_differently_is_refused(
    settings: Settings, stmt: object
) -> None:
    database = Database(settings)
    try:
        with pytest.raises(TypeError):
            await database.rows(stmt, {})  # type: ignore[arg-type]
    finally:
        await database.dispose()


async def test_a_read_past_the_command_timeout_is_a_503_and_its_connection_is_replaced(
    make_settings: Callable[..., Settings],
) -> None:
    database = Database(make_settings(db_command_timeout=0.3))
    try:
        [before] = await database.rows(_BACKEND, {})
        with pytest.raises(DatabaseUnavailable):
            await database.rows(_SLEEP, {"seconds": 2})
        assert database.pool_status()["checked_out"] == 0  # type: ignore[index]
        await asyncio.sleep(database.FAIL_FAST_SECONDS)
        [after] = await database.rows(_BACKEND, {})
        assert after.pid != before.pid  # the connection the deadline cut is not reused
        assert not database.is_down
    finally:
        await database.dispose()


async def test_a_read_cancelled_mid_statement_leaves_its_connection_usable(
    make_settings: Callable[..., Settings],
) -> None:
    """A request stopped while its statement runs (a timeout around it, a worker shutting
    down) hands its connection back; the next read on it answers (asyncpg waits for the server
    to give the statement up), and nothing is marked down. One connection in the pool, so
    the next read is on the same one."""
    database = Database(make_settings(db_pool_size=1))
    try:
        await database.rows(_BACKEND, {})
        reading = asyncio.create_task(database.rows(_SLEEP, {"seconds": 5}))
        await asyncio.sleep(0.3)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert database.pool_status()["checked_out"] == 0  # type: ignore[index]
        [row] = await asyncio.wait_for(database.rows(_SLEEP, {"seconds": 0}), 5)
        assert row.one == 1
        assert not database.is_down
    finally:
        await database.dispose()
