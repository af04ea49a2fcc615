"""DATABASE_URL in every form operators paste, and the lazily created engine (DESIGN 1.2, 1.6)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import Integer, literal_column, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.core.db import Database, DatabaseURLError, SessionDep, parse_database_url
from app.core.db.pooler import PoolerConnection
from app.core.errors import DatabaseUnavailable
from tests.support.helpers import make_client

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
    again and again on the same pooled connection, and none stays prepared in the server's
    session (behind the pooler, the next client's: tests/faults/test_pgbouncer.py)."""
    app = await start_app(make_settings(database_url=database_url, db_pgbouncer=True))
    database = app.state.services.database
    assert database.target.pgbouncer
    async with make_client(app) as client:
        for _ in range(5):
            assert (await client.get("/ready/db")).status_code == 200
    async with database.engine.connect() as conn:
        for n in range(3):
            found = await conn.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": n})
            assert found.scalar() == n + 1
        left = await conn.execute(text("SELECT name FROM pg_prepared_statements"))
        assert left.all() == []


async def test_behind_the_pooler_kept_statements_read_a_changed_column_after_their_lifetime(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connection keeps its statements' column types (one round trip a statement,
    tests/faults/test_pgbouncer_round_trips.py): after a migration changes a type they fail,
    until KEPT_SECONDS after they were prepared, when they are prepared again."""
    monkeypatch.setattr(PoolerConnection, "KEPT_SECONDS", 1.0)
    app = await start_app(make_settings(database_url=database_url, db_pgbouncer=True))
    read = text("SELECT a FROM pooler_kept WHERE a = CAST(:a AS integer)")
    async with app.state.services.database.engine.connect() as conn:
        await conn.execute(text("CREATE TABLE pooler_kept (a integer)"))
        try:
            await conn.execute(text("INSERT INTO pooler_kept VALUES (7)"))
            assert (await conn.execute(read, {"a": 7})).scalar() == 7
            await conn.execute(text("ALTER TABLE pooler_kept ALTER a TYPE bigint"))
            with pytest.raises((DBAPIError, BufferError)):  # decoded with the old types
                await conn.execute(read, {"a": 7})
            await asyncio.sleep(1.0)
            assert (await conn.execute(read, {"a": 7})).scalar() == 7
        finally:
            await conn.rollback()
            await conn.execute(text("DROP TABLE IF EXISTS pooler_kept"))
            await conn.commit()


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
    database = app.state.services.database
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


@pytest.mark.parametrize(
    "template",
    [
        "postgresql://{user}{password}@{host}:{port}/hmb_no_such_database",
        "postgresql://hmb_no_such_role@{host}:{port}/{db}",
    ],
    ids=["missing-database", "refused-role"],
)
async def test_a_login_the_server_refuses_is_a_503_not_a_500(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    server_database_url: str,
    database_url: str,
    template: str,
) -> None:
    """A DATABASE_URL naming a database that does not exist, or a role the server refuses:
    every database route answers 503 DATABASE_UNAVAILABLE, as in any outage (both were 500s:
    asyncpg raises them at connect as server errors, not network ones)."""
    raw = _local_url(server_database_url, database_url, template)
    app = await start_app(make_settings(database_url=raw))

    @app.get("/test/db")
    async def db_route(session: SessionDep) -> dict[str, int]:
        return {"one": (await session.execute(text("SELECT 1"))).scalar_one()}

    async with make_client(app) as client:
        response = await client.get("/test/db")
        ready = await client.get("/ready/db")
    assert response.status_code == 503, response.text
    assert response.json()["error_code"] == "DATABASE_UNAVAILABLE"
    assert ready.status_code == 503
    assert ready.json()["database"]["state"] == "unavailable"
    assert app.state.services.database.is_down  # the outage is counted: fail fast, log it once


_BACKEND_PID = select(literal_column("pg_backend_pid()", Integer).label("pid"))


async def _backend_pid(database: Database, via: str) -> int:
    """The server process of the connection a read got: a session's, or `Database.rows`'."""
    if via == "rows":
        [row] = await database.rows(_BACKEND_PID, {})
        return int(row.pid)
    async with database.session() as session:
        return int((await session.execute(_BACKEND_PID)).scalar_one())


@pytest.mark.parametrize("via", ["session", "rows"])
@pytest.mark.parametrize("settle", [1.2, 0], ids=["seen-closed", "closed-unseen"])
async def test_a_read_on_a_connection_the_server_dropped_gets_a_new_one(
    make_settings: Callable[..., Settings], settle: float, via: str
) -> None:
    """A pooled connection the server ended is replaced without a ping on every checkout:
    after a quiet spell (the ping, or asyncpg already knowing it closed) the next read just
    gets a new one; straight away, before asyncpg has read the server's goodbye, that one
    read may answer 503 (it was a 500: asyncpg's InternalClientError), the database is not
    marked down, and the next read gets a new connection. The same through a session and
    through the driver (`Database.rows`)."""
    database, admin = Database(make_settings()), Database(make_settings())
    try:
        for _ in range(5):
            first = await _backend_pid(database, via)
            async with admin.session() as session:
                await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            if settle:
                await asyncio.sleep(settle)
            for attempt in range(2):
                try:
                    assert await _backend_pid(database, via) != first
                    break
                except DatabaseUnavailable:
                    assert not settle and attempt == 0
                    assert not database.is_down
        assert not database.is_down
    finally:
        await database.dispose()
        await admin.dispose()


async def test_an_oserror_that_is_not_the_databases_is_not_an_outage(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    """A Redis or SMTP failure inside a route that holds a session (a bare OSError from another
    socket) is that route's error: a 500, and every other database route keeps working. It
    used to be a 503 DATABASE_UNAVAILABLE that marked the database down for a second."""
    app = await start_app(make_settings())
    smtp = APIRouter()

    @smtp.post("/test/send-mail")
    async def send_mail(session: SessionDep) -> None:
        await session.execute(text("SELECT 1"))
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 25)")

    app.include_router(smtp)
    async with make_client(app) as client:
        failed = await client.post("/test/send-mail")
        after = await client.get("/api/companies")
    assert failed.status_code == 500
    assert failed.json()["error_code"] == "INTERNAL_ERROR"
    assert after.status_code == 200
    assert not app.state.services.database.is_down


async def test_a_read_may_take_longer_than_the_connect_timeout(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    settings: Settings,
) -> None:
    """DB_CONNECT_TIMEOUT bounds opening a connection, not a statement: a job page that waits
    a second on a lock answers once the lock is gone (DB_COMMAND_TIMEOUT bounds it). The
    public job page used to run under the connect timeout and answered 503."""
    app = await start_app(make_settings(db_connect_timeout=0.3))
    admin = Database(settings)
    try:
        async with make_client(app) as client:
            assert (await client.get("/api/jobs/1")).status_code == 404  # warm: connected
            async with admin.session() as session:
                await session.execute(text("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE"))
                reading = asyncio.create_task(client.get("/api/jobs/1"))
                await asyncio.sleep(1.0)
                assert not reading.done()
            response = await reading
    finally:
        await admin.dispose()
    assert response.status_code == 404, response.text
    assert response.json()["error_code"] == "NOT_FOUND"
