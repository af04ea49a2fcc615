"""DATABASE_URL in every form operators paste, and the lazily created engine (DESIGN 1.2, 1.6)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Integer, bindparam, func, literal, select, text
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.db import Database, DatabaseURLError, Query, SessionDep, parse_database_url
from app.core.errors import DatabaseUnavailable
from tests.helpers import make_client

NEON_POOLER = (
    "postgresql://u:p@ep-x-pooler.region.aws.neon.tech/db?sslmode=require&channel_binding=require"
)
POOLER_ARGS = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}


@pytest.mark.parametrize(
    ("raw", "url", "ssl", "pooler", "dropped"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db", None, False, ()),
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db", None, False, ()),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+asyncpg://u:p@h/db", None, False, ()),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+asyncpg://u:p@h/db", None, False, ()),
        (
            "postgresql://u:p@h/db?sslmode=require",
            "postgresql+asyncpg://u:p@h/db",
            "require",
            False,
            (),
        ),
        (
            "postgresql://u:p@h/db?sslmode=disable",
            "postgresql+asyncpg://u:p@h/db",
            "disable",
            False,
            (),
        ),
        (
            "postgresql://u:p@h/db?sslmode=verify-full",
            "postgresql+asyncpg://u:p@h/db",
            "verify-full",
            False,
            (),
        ),
        (
            "postgresql://u:p@h/db?sslmode=require&channel_binding=require",
            "postgresql+asyncpg://u:p@h/db",
            "require",
            False,
            ("channel_binding",),
        ),
        ("postgresql://u:p@h/db?ssl=true", "postgresql+asyncpg://u:p@h/db", "require", False, ()),
        ("  postgres://u:p@h/db \n", "postgresql+asyncpg://u:p@h/db", None, False, ()),
        ("'postgres://u:p@h/db'", "postgresql+asyncpg://u:p@h/db", None, False, ()),
        (' "postgres://u:p@h/db" ', "postgresql+asyncpg://u:p@h/db", None, False, ()),
        (
            NEON_POOLER,
            "postgresql+asyncpg://u:p@ep-x-pooler.region.aws.neon.tech/db",
            "require",
            True,
            ("channel_binding",),
        ),
        (
            "postgresql://u:p@ep-x.region.aws.neon.tech/db?sslmode=require&options=endpoint%3Dep-x",
            "postgresql+asyncpg://u:p@ep-x.region.aws.neon.tech/db",
            "require",
            False,
            ("options",),
        ),
        (
            "postgresql://u@/db?host=/var/run/postgresql",
            "postgresql+asyncpg://u@/db?host=%2Fvar%2Frun%2Fpostgresql",
            None,
            False,
            (),
        ),
    ],
)
def test_url_forms_normalise_to_asyncpg(
    raw: str, url: str, ssl: str | None, pooler: bool, dropped: tuple[str, ...]
) -> None:
    target = parse_database_url(raw)

    assert target.url.render_as_string(hide_password=False) == url
    assert target.connect_args.get("ssl") == ssl
    assert target.pgbouncer is pooler
    assert target.dropped_params == dropped
    # Nothing asyncpg would reject as a keyword survives into the URL or the connect args.
    assert not set(target.url.query) & {"sslmode", "channel_binding", "options"}
    assert "server_settings" not in target.connect_args
    if pooler:
        assert POOLER_ARGS.items() <= target.connect_args.items()
    else:
        assert "statement_cache_size" not in target.connect_args
    assert ":p@" not in target.masked


def test_pooler_options_give_every_prepared_statement_a_unique_name() -> None:
    target = parse_database_url("postgresql://u:p@h/db", pgbouncer=True)
    name = target.connect_args["prepared_statement_name_func"]
    assert POOLER_ARGS.items() <= target.connect_args.items()
    assert len({name() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "''",
        "not a url",
        "mysql://u:Secret-99@h/db",
        "postgresql://u:Secret-99@h:notaport/db",
        "postgresql://u:Secret-99@h",
        "postgresql://u:Secret-99@/db",
        "postgresql://u:Secret-99@h/db?sslmode=sometimes",
    ],
)
def test_unusable_urls_are_refused_without_echoing_the_password(raw: str | None) -> None:
    with pytest.raises(DatabaseURLError) as caught:
        parse_database_url(raw)
    assert "Secret-99" not in str(caught.value)


def _local_url(server_database_url: str, database_url: str, template: str) -> str:
    server = make_url(server_database_url)
    return template.format(
        user=server.username or "postgres",
        password=f":{server.password}" if server.password else "",
        host=server.host or "127.0.0.1",
        port=server.port or 5432,
        db=make_url(database_url).database,
    )


@pytest.mark.parametrize(
    "template",
    [
        "postgres://{user}{password}@{host}:{port}/{db}?sslmode=disable",
        "postgresql://{user}{password}@{host}:{port}/{db}",
        "postgresql+asyncpg://{user}{password}@{host}:{port}/{db}?sslmode=prefer",
        "postgres://{user}{password}@{host}:{port}/{db}?sslmode=disable&channel_binding=prefer",
        "  'postgres://{user}{password}@{host}:{port}/{db}?sslmode=disable'  ",
    ],
)
async def test_local_postgres_through_each_form_answers_ready_db(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    server_database_url: str,
    database_url: str,
    template: str,
) -> None:
    raw = _local_url(server_database_url, database_url, template)
    app = await start_app(make_settings(database_url=raw))
    async with make_client(app) as client:
        response = await client.get("/ready/db")
    assert response.status_code == 200, response.text
    assert response.json()["database"]["state"] == "ok"


async def test_pooler_options_work_against_a_real_server(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    database_url: str,
) -> None:
    """With DB_PGBOUNCER the statement caches are off and statements are still run correctly,
    again and again on the same pooled connection."""
    app = await start_app(make_settings(database_url=database_url, db_pgbouncer=True))
    assert app.state.database.target.pgbouncer
    async with make_client(app) as client:
        for _ in range(5):
            assert (await client.get("/ready/db")).status_code == 200


async def test_sslmode_require_is_honoured_not_downgraded(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    server_database_url: str,
    database_url: str,
) -> None:
    """The local server has no TLS: with sslmode=require the app reports the database as
    unavailable instead of silently connecting in plain text (asyncpg took the `ssl` argument
    and tried to upgrade)."""
    raw = _local_url(
        server_database_url, database_url, "postgres://{user}{password}@{host}:{port}/{db}"
    )
    async with make_client(await start_app(make_settings(database_url=raw))) as client:
        assert (await client.get("/ready/db")).status_code == 200
    app = await start_app(make_settings(database_url=raw + "?sslmode=require"))
    async with make_client(app) as client:
        response = await client.get("/ready/db")
    assert response.status_code == 503
    assert response.json()["database"]["state"] == "unavailable"


async def test_engine_is_created_lazily_and_once_under_concurrent_first_requests(
    start_app: Callable[[Settings], Any], settings: Settings
) -> None:
    app = await start_app(settings)
    database = app.state.database
    assert not database.engine_created  # startup did not touch the database

    async with make_client(app) as client:
        responses = await asyncio.gather(*(client.get("/ready/db") for _ in range(25)))

    assert [r.status_code for r in responses] == [200] * 25
    assert database.engines_created == 1


async def test_engine_property_is_created_once_across_threads(settings: Settings) -> None:
    """The engine may be first touched from worker threads too (sync code run through
    asyncio.to_thread): still one engine."""
    database = Database(settings)
    engines = await asyncio.gather(*(asyncio.to_thread(lambda: database.engine) for _ in range(16)))
    assert len({id(e) for e in engines}) == 1
    assert database.engines_created == 1
    await database.dispose()


async def test_database_backed_route_is_503_when_the_url_is_missing(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(database_url=None))

    @app.get("/test/db")
    async def db_route(session: SessionDep) -> dict[str, str]:
        return {"ok": "yes"}

    async with make_client(app) as client:
        response: httpx.Response = await client.get("/test/db")
        ready = await client.get("/ready/db")
        health = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["error_code"] == "DATABASE_UNAVAILABLE"
    assert ready.status_code == 503
    assert ready.json()["database"]["state"] == "not_configured"
    assert health.status_code == 200


async def test_fetch_runs_a_statement_compiled_once_with_fixed_and_given_values(
    settings: Settings,
) -> None:
    query = Query.compile(
        select(
            literal("a value").label("fixed"), (bindparam("n", type_=Integer) * 2).label("twice")
        )
    )
    assert "$1" in query.sql and "a value" not in query.sql  # values are bound, not inlined
    database = Database(settings)
    try:
        rows = await database.fetch(query, {"n": 21})
        assert [dict(r) for r in rows] == [{"fixed": "a value", "twice": 42}]
        with pytest.raises(KeyError):
            await database.fetch(query, {})  # a missing value is never a silent NULL
        status = database.pool_status()
        assert status is not None
        # The connection went back to the pool, the failed call's included.
        assert (status["checked_out"], status["checked_in"]) == (0, 1)
    finally:
        await database.dispose()


async def test_fetch_of_an_unconfigured_database_is_database_unavailable(
    make_settings: Callable[..., Settings],
) -> None:
    database = Database(make_settings(database_url=None))
    with pytest.raises(DatabaseUnavailable):
        await database.fetch(Query.compile(select(literal(1))), {})


async def test_fetch_under_more_load_than_the_pool_returns_overflow_connections_cleanly(
    make_settings: Callable[..., Settings],
    create_database: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Concurrent reads beyond the pool size open overflow connections; handing those back to a
    full pool closes them, which is I/O: it must neither fail nor leave a connection open."""
    url = await create_database("hmb_overflow", migrate=False)  # no other test connects to it
    database = Database(make_settings(database_url=url, db_pool_size=1, db_max_overflow=3))
    slow = Query.compile(select(func.pg_sleep(0.2), literal(1).label("one")))
    backends = Query.compile(
        select(func.count().label("n"))
        .select_from(text("pg_stat_activity"))
        .where(text("datname = current_database()"))
    )
    try:
        with caplog.at_level(logging.ERROR, logger="sqlalchemy.pool"):
            results = await asyncio.gather(*(database.fetch(slow, {}) for _ in range(4)))
        assert [rows[0]["one"] for rows in results] == [1, 1, 1, 1]
        assert caplog.records == []  # was "Exception closing connection" (MissingGreenlet)
        status = database.pool_status()
        assert status is not None
        assert (status["checked_out"], status["overflow"], status["checked_in"]) == (0, 0, 1)
        (row,) = await database.fetch(backends, {})
        assert row["n"] == 1  # the three overflow connections were closed, not left open
    finally:
        await database.dispose()


async def test_reads_beyond_the_pool_wait_for_a_connection_then_answer_503_at_the_pool_timeout(
    make_settings: Callable[..., Settings],
) -> None:
    """Reads queue for one of the pool's connections (DB_POOL_SIZE + DB_MAX_OVERFLOW) and give
    up after DB_POOL_TIMEOUT as an exhausted pool does; the ones that got a connection finish,
    and the next read is served."""
    database = Database(make_settings(db_pool_size=1, db_max_overflow=1, db_pool_timeout=0.5))
    slow = Query.compile(select(func.pg_sleep(3), literal(1).label("one")))
    quick = Query.compile(select(literal(2).label("two")))
    try:
        results = await asyncio.gather(
            *(database.fetch(slow, {}) for _ in range(3)), return_exceptions=True
        )
        served = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert [rows[0]["one"] for rows in served] == [1, 1]
        assert len(refused) == 1 and isinstance(refused[0], DatabaseUnavailable)
        assert not database.is_down  # a busy pool is not a database outage
        assert (await database.fetch(quick, {}))[0]["two"] == 2
    finally:
        await database.dispose()
