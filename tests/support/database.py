"""Real PostgreSQL for every test: the suite makes its own database on the server DATABASE_URL
names, migrates it with Alembic, empties every table after each test and drops the database at
the end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from app.all_models import Base
from app.companies.listing_cache import JOBS
from app.core.cache import CACHE_CHANNEL
from app.core.db import parse_database_url
from tests.support.server_process import ROOT


def asyncpg_dsn(url: str) -> tuple[str, dict[str, Any]]:
    """asyncpg's DSN for a service URL, and the `ssl` argument its sslmode asks for."""
    target = parse_database_url(url)
    dsn = target.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return dsn, {k: v for k, v in target.connect_args.items() if k == "ssl"}


def _with_database(url: str, database: str) -> str:
    return parse_database_url(url).url.set(database=database).render_as_string(hide_password=False)


def run_alembic(
    database_url: str, *args: str, migration_database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("MIGRATION_DATABASE_URL", None)
    if migration_database_url is not None:
        env["MIGRATION_DATABASE_URL"] = migration_database_url
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def server_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit("DATABASE_URL is not set: run the suite with `python3 tasks.py test`", 2)
    return url


@pytest.fixture(scope="session")
async def create_database(server_database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Factory for throwaway databases on the test server, dropped at the end of the session."""
    created: list[str] = []
    dsn, kwargs = asyncpg_dsn(server_database_url)

    async def make(prefix: str = "hmb_test", migrate: bool = True) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(dsn, **kwargs)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        created.append(name)
        url = _with_database(server_database_url, name)
        if migrate:
            result = run_alembic(url, "upgrade", "head")
            assert result.returncode == 0, result.stderr
        return url

    yield make
    conn = await asyncpg.connect(dsn, **kwargs)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database_url(create_database: Callable[..., Any]) -> str:
    """A migrated database for the whole session."""
    return await create_database()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test database, to check what the API stored."""
    dsn, kwargs = asyncpg_dsn(database_url)
    conn = await asyncpg.connect(dsn, **kwargs)
    yield conn
    await conn.close()


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test that touched the session database leaves it empty for the next one."""
    yield
    if "database_url" not in request.fixturenames:
        return
    await empty_tables(request.getfixturevalue("database_url"))


async def empty_tables(database_url: str) -> None:
    """Empty every table of the database (identities restart at 1), and tell the instances
    still running (the two-instance cluster's) to drop their copies of job pages, as the seed
    command does: the next test's job 1 is another job."""
    dsn, kwargs = asyncpg_dsn(database_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    conn = await asyncpg.connect(dsn, **kwargs)
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        await conn.execute("TRUNCATE procrastinate_jobs RESTART IDENTITY CASCADE")
        await conn.execute("SELECT pg_notify($1, $2)", CACHE_CHANNEL, JOBS)
    finally:
        await conn.close()
