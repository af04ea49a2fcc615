"""Real PostgreSQL and real Redis for every test.

The suite makes its own database on the server DATABASE_URL names, migrates it with Alembic,
empties every table after each test and drops the database at the end. Redis is the one
REDIS_URL names (flushed: point it at a disposable one); under pytest-xdist worker i of
REDIS_URL's database b uses database (b - i) mod 16, so workers never flush each other's. Without
REDIS_URL the tests that need Redis are skipped, unless HMB_REQUIRE_REDIS=1 (CI) makes that a
failure.

Tests that start a real process (a server, a worker, SMTP, moto, nginx, PgBouncer, a replica,
a browser) are marked `slow`, by the fixtures they use (SLOW_FIXTURES) or in their module; a
test not marked `slow` that leaves a process of its own running fails, so
`-m "not slow"` stays a subset that starts none.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from app.all_models import Base
from app.core.config import Settings
from app.core.db import parse_database_url
from app.main import create_app
from tests.helpers import make_client
from tests.server_process import child_pids

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"


# Fixtures that start a real process: a test using any of them is `slow`.
SLOW_FIXTURES = frozenset(
    {
        "server_factory",  # Gunicorn (tests/server_process.py)
        "cluster",  # two instances and nginx (tests/cluster.py)
        "fuzz_server",
        "smtp",  # aiosmtpd, and the worker processes beside it (tests/email)
        "start_worker",
        "moto_server",  # the S3 server (tests/files)
        "pgbouncer",
        "pair",  # the streaming replica (tests/core/test_read_replica.py)
        "server",  # the probe app's Gunicorn (tests/server/test_http.py)
    }
)
# Module-scoped processes that are costly to start: the tests of a module using one run on one
# pytest-xdist worker (an xdist_group; tasks.py runs --dist loadgroup), so it starts once.
ONE_WORKER_FIXTURES = frozenset({"cluster", "pair", "server"})
_CHILDREN_BEFORE = pytest.StashKey[set[int]]()


def worker_redis_url(url: str, worker: str | None) -> str:
    """REDIS_URL for xdist worker `worker` ("gw<i>"): database (b - i) mod 16 of REDIS_URL's b."""
    if not worker:
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = (base - int(worker.removeprefix("gw"))) % 16
    return urlunsplit(parts._replace(path=f"/{database}"))


def pytest_configure(config: pytest.Config) -> None:
    # Set once per worker process, so subprocesses that inherit the environment (the CLI, the
    # servers a test starts with os.environ) use the worker's database too.
    if os.environ.get("REDIS_URL"):
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], worker)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if SLOW_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.slow)
        if ONE_WORKER_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> object:
    item.stash[_CHILDREN_BEFORE] = child_pids(os.getpid())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """A test outside the slow set must not have a process of its own running (a command it
    ran to completion is fine)."""
    result = yield
    if item.get_closest_marker("slow") is None:
        started = child_pids(os.getpid()) - item.stash.get(_CHILDREN_BEFORE, set())
        if started:
            commands = [_command_line(pid) for pid in sorted(started)]
            pytest.fail(
                f"a test not marked slow has processes running: {commands}; mark it "
                "@pytest.mark.slow or add the fixture that starts them to SLOW_FIXTURES"
            )
    return result


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return f"pid {pid} (gone)"


def _asyncpg_dsn(url: str) -> tuple[str, dict[str, Any]]:
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
    dsn, kwargs = _asyncpg_dsn(server_database_url)

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


@pytest.fixture(scope="session")
async def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")  # this worker's database (pytest_configure)
    required = os.environ.get("HMB_REQUIRE_REDIS") == "1"
    if not url:
        if required:
            pytest.exit("HMB_REQUIRE_REDIS=1 but REDIS_URL is not set", 2)
        return None
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        if required:
            pytest.exit(f"Redis at REDIS_URL does not answer: {exc}", 2)
        return None
    finally:
        await client.aclose()
    return url


@pytest.fixture
async def redis(redis_url: str | None) -> AsyncIterator[Redis]:
    """A client to the test Redis, flushed before and after. Skips without Redis."""
    if redis_url is None:
        pytest.skip("needs Redis: set REDIS_URL")
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def make_settings(database_url: str, redis_url: str | None) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "secret_key": TEST_SECRET,
            "database_url": database_url,
            "redis_url": redis_url,
            "bcrypt_rounds": 4,
            "login_delay_seconds": 0.001,  # the slowdown is logged; its length is not tested
            "allowed_origins": ["https://hiremebahamas.com"],
            "allowed_origin_regex": r"https://hiremebahamas-[a-z0-9-]+\.vercel\.app",
            # The suite sends far more than 100 requests a minute from one address; the tests
            # of the limit itself (tests/ops/test_api_rate_limit.py) set their own.
            "rate_limit_per_minute": 1_000_000,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def start_app() -> AsyncIterator[Callable[[Settings], Any]]:
    """Factory: an app built from the given settings, its lifespan running until the test ends."""
    stacks = []

    async def start(settings: Settings) -> FastAPI:
        app = create_app(settings)
        ctx = app.router.lifespan_context(app)
        await ctx.__aenter__()
        stacks.append(ctx)
        return app

    yield start
    for ctx in reversed(stacks):
        await ctx.__aexit__(None, None, None)


@pytest.fixture
async def app(start_app: Callable[[Settings], Any], settings: Settings) -> FastAPI:
    return await start_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        yield c


@pytest.fixture(autouse=True)
async def _empty_redis(request: pytest.FixtureRequest) -> None:
    """Rate-limit counters and cache entries of one test never reach the next."""
    if "redis_url" not in request.fixturenames:
        return
    url = request.getfixturevalue("redis_url")
    if url is not None:
        client = Redis.from_url(url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test that touched the session database leaves it empty for the next one."""
    yield
    if "database_url" not in request.fixturenames:
        return
    await empty_tables(request.getfixturevalue("database_url"))


async def empty_tables(database_url: str) -> None:
    """Empty every table of the database (identities restart at 1)."""
    dsn, kwargs = _asyncpg_dsn(database_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    conn = await asyncpg.connect(dsn, **kwargs)
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        await conn.execute("TRUNCATE procrastinate_jobs RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
