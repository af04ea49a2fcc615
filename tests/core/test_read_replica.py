"""DATABASE_READ_URL against a real streaming replica (tests/support/replica.py): anonymous public
reads come from the standby, signed-in ones from the primary; a standby that lags past
DB_READ_MAX_LAG_SECONDS or is stopped sends them to the primary, and is used again once it is
back. Which server answered is told by what only one of them has: with replay paused on the
standby, a job created afterwards exists on the primary alone. The Redis cache is emptied
before each read that must reach a database."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from app.all_models import Base
from app.companies.listing_cache import JOBS
from tests.support.database import run_alembic
from tests.support.factories import Actor, Market
from tests.support.helpers import make_client
from tests.support.replica import ReplicaPair, missing

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicaPair]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    pair = ReplicaPair()
    try:
        pair.start_primary()
        migrated = run_alembic(pair.primary_url, "upgrade", "head")
        assert migrated.returncode == 0, migrated.stderr
        pair.start_standby()
        yield pair
    finally:
        pair.close()


@dataclass
class World:
    """An app on the pair, an employer with a company and a published job, replayed on the
    standby, which the app has found fit to use."""

    client: httpx.AsyncClient
    market: Market
    employer: Actor
    company_id: int
    job: dict[str, Any]


@pytest.fixture
async def world(
    pair: ReplicaPair, start_app: Callable[..., Any], make_settings: Callable[..., Any]
) -> AsyncIterator[Callable[[float], Awaitable[World]]]:
    async with contextlib.AsyncExitStack() as stack:

        async def make(max_lag: float) -> World:
            settings = make_settings(
                database_url=pair.primary_url,
                database_read_url=pair.standby_url,
                db_read_max_lag_seconds=max_lag,
            )
            app = await start_app(settings)
            client = await stack.enter_async_context(make_client(app))
            market = Market(app, client)
            employer = await market.user("employer")
            company = await market.company(employer)
            job = await market.job(employer, company["id"])
            await pair.wait_until_replayed()
            await _replica_in_use(client)
            return World(client, market, employer, company["id"], job)

        yield make
    conn = await asyncpg.connect(pair.primary_url)  # each test starts from empty tables
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


async def _replica_state(client: httpx.AsyncClient) -> dict[str, Any]:
    ready = await client.get("/ready/db")
    assert ready.status_code == 200, ready.text  # the primary serves, whatever the replica does
    return ready.json()["replica"]


async def _uncached(market: Market, redis: Redis, path: str) -> httpx.Response:
    """GET `path` past the cache: Redis emptied, and the app's copies in process dropped as a
    write's NOTIFY drops them (every public page is in the jobs namespace)."""
    await redis.flushdb()
    market.app.state.services.cache.dropped(JOBS)
    return await market.client.get(path)


async def _until(predicate: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def _replica_in_use(client: httpx.AsyncClient) -> None:
    async def ok() -> bool:
        return (await _replica_state(client))["state"] == "ok"

    await _until(ok)


async def test_anonymous_reads_come_from_the_replica_owners_read_their_writes(
    pair: ReplicaPair, world: Callable[[float], Awaitable[World]]
) -> None:
    w = await world(60)
    client, market, employer, company_id = w.client, w.market, w.employer, w.company_id

    await pair.pause_replay()
    try:
        new = await market.job(employer, company_id, title="Night Auditor")
        mine = await client.get(f"/api/jobs/{new['id']}", headers=employer.headers)
        assert mine.status_code == 200 and mine.json()["title"] == "Night Auditor"
        assert "no-store" in mine.headers["cache-control"]

        # Anonymous: the standby answers, and it has not replayed the new job yet.
        unseen = await client.get(f"/api/jobs/{new['id']}")
        assert unseen.status_code == 404, unseen.text
        listed = await client.get("/api/jobs")
        assert listed.status_code == 200
        assert new["id"] not in [j["id"] for j in listed.json()["items"]]
        page = await client.get(f"/api/jobs/{w.job['id']}")
        assert page.status_code == 200
        assert page.headers["cache-control"].startswith("public")
    finally:
        await pair.resume_replay()

    await pair.wait_until_replayed()
    seen = await client.get(f"/api/jobs/{new['id']}")
    assert seen.status_code == 200 and seen.json()["title"] == "Night Auditor"
    # The replica's pool is its own series in /metrics, beside the primary's.
    metrics = (await client.get("/metrics")).text
    assert 'db_read_pool_connections{state="idle"}' in metrics, metrics


async def test_a_replica_lagging_past_the_limit_sends_public_reads_to_the_primary(
    pair: ReplicaPair, world: Callable[[float], Awaitable[World]], redis: Redis
) -> None:
    w = await world(1)
    client, market, employer, company_id = w.client, w.market, w.employer, w.company_id

    await pair.pause_replay()
    try:
        new = await market.job(employer, company_id, title="Night Auditor")

        async def lagging() -> bool:
            return (await _replica_state(client))["state"] == "lagging"

        await _until(lagging)
        state = await _replica_state(client)
        assert state["lag_s"] > state["max_lag_s"] == 1
        detailed = (await client.get("/health/detailed")).json()
        assert detailed["status"] == "degraded" and detailed["replica"]["state"] == "lagging"
        # Only the primary has the new job: every anonymous read of it is served there.
        for _ in range(5):
            page = await _uncached(market, redis, f"/api/jobs/{new['id']}")
            assert page.status_code == 200 and page.json()["title"] == "Night Auditor"
    finally:
        await pair.resume_replay()

    await pair.wait_until_replayed()
    await _replica_in_use(client)
    assert (await client.get("/health/detailed")).json()["status"] == "ok"


async def test_a_stopped_replica_sends_public_reads_to_the_primary_until_it_is_back(
    pair: ReplicaPair, world: Callable[[float], Awaitable[World]], redis: Redis
) -> None:
    w = await world(60)
    client, market, employer, company_id = w.client, w.market, w.employer, w.company_id
    assert (await client.get(f"/api/jobs/{w.job['id']}")).status_code == 200  # via the replica

    await asyncio.to_thread(pair.stop_standby)
    try:
        for path in (f"/api/jobs/{w.job['id']}", "/api/jobs", "/api/companies", "/api/stats"):
            for _ in range(3):
                reply = await _uncached(market, redis, path)
                assert reply.status_code == 200, (path, reply.text)
        assert (await _replica_state(client))["state"] == "unavailable"
        detailed = (await client.get("/health/detailed")).json()
        assert detailed["status"] == "degraded" and detailed["database"]["state"] == "ok"
    finally:
        await asyncio.to_thread(pair.start_standby)

    # Back by itself: with replay paused, a job only the primary has turns into a 404
    # for anonymous readers once the app's own checks send them to the standby again.
    await pair.wait_until_replayed()
    await pair.pause_replay()
    try:
        new = await market.job(employer, company_id)

        async def served_by_the_replica() -> bool:
            reply = await _uncached(market, redis, f"/api/jobs/{new['id']}")
            assert reply.status_code in (200, 404), reply.text
            return reply.status_code == 404

        await _until(served_by_the_replica)
    finally:
        await pair.resume_replay()


@pytest.mark.parametrize(
    ("read_url", "state"),
    [(None, "not_configured"), ("mysql://db.example.com/hmb", "invalid"), ("  ", "not_configured")],
)
async def test_without_a_usable_read_url_everything_is_on_the_primary(
    start_app: Callable[..., Any],
    make_settings: Callable[..., Any],
    read_url: str | None,
    state: str,
) -> None:
    app = await start_app(make_settings(database_read_url=read_url))
    async with make_client(app) as client:
        ready = await client.get("/ready/db")
        assert ready.status_code == 200, ready.text
        replica = ready.json()["replica"]
        assert replica["state"] == state
        if state == "invalid":  # names the variable, never the URL
            assert "DATABASE_READ_URL" in replica["error"]
            assert "db.example.com" not in replica["error"]
        assert (await client.get("/api/jobs")).status_code == 200
        detailed = (await client.get("/health/detailed")).json()
        assert detailed["status"] == ("ok" if state == "not_configured" else "degraded")
