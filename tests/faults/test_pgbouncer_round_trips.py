"""Round trips a request pays at Neon's distance, where the pooler (PgBouncer in transaction
mode, as Neon's "-pooler" endpoint) is the far end: counted on the wire between the app
(DB_PGBOUNCER on, as production runs) and the real PgBouncer by the bench's own counter
(bench/wire.py: a Sync, a simple Query or a Flush each end one).

A statement a connection has run before is 1 round trip (Parse, Bind, Execute, Sync); its first
run on a connection is 2 (prepare: Parse, Describe, Flush; then the run). A GET sends no BEGIN
or COMMIT around it, and no request sends a Close of an earlier statement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.engine import URL

from app.core.config import Settings
from app.events.hub import EVENT_HUB
from app.identity.known_callers import KNOWN_CALLERS
from bench.delay import DelayProxy
from bench.wire import Counts, PostgresWire
from tests.faults.pgbouncer import PgBouncer
from tests.support.factories import Market
from tests.support.helpers import make_client

pytestmark = pytest.mark.slow

FIRST_RUN = {"P": 2, "D": 1, "H": 1, "B": 1, "E": 1, "S": 1}
KEPT = {"P": 1, "B": 1, "E": 1, "S": 1}


@pytest.fixture
async def pooled_market(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    pgbouncer: PgBouncer,
    session_url: URL,
) -> AsyncIterator[tuple[Market, DelayProxy]]:
    with DelayProxy(("127.0.0.1", pgbouncer.port), delay=0, wire=PostgresWire) as wire:
        through = pgbouncer.url_for(session_url).set(port=wire.port)
        settings = make_settings(
            database_url=through.render_as_string(hide_password=False),
            db_pgbouncer=True,
            # As in production: the LISTEN connection on the direct endpoint, not counted here.
            migration_database_url=session_url.render_as_string(hide_password=False),
        )
        app = await start_app(settings)
        async with make_client(app) as client:
            yield Market(app, client), wire


async def _send(market: Market, wire: DelayProxy, method: str, path: str, **kw: Any) -> Counts:
    """What one request sent to the pooler until its response."""
    before = wire.counts()
    response = await market.client.request(method, path, **kw)
    assert response.is_success, response.text
    return wire.counts() - before


async def _get(market: Market, wire: DelayProxy, path: str, **kw: Any) -> Counts:
    return await _send(market, wire, "GET", path, **kw)


async def _warm_get(market: Market, wire: DelayProxy, path: str, **kw: Any) -> Counts:
    """The same GET once more after one on each of the pool's connections (it hands out the one
    idle longest): its connection was in use a moment ago (no ping), asyncpg knows the column
    types (no type lookup) and the connection has run its statements before, as under steady
    traffic."""
    pool = market.app.state.services.database.engine.pool
    for _ in range(max(2, pool.checkedin())):
        await _get(market, wire, path, **kw)
    return await _get(market, wire, path, **kw)


async def test_a_signed_in_read_is_one_round_trip_per_statement(
    pooled_market: tuple[Market, DelayProxy],
) -> None:
    market, wire = pooled_market
    seeker = await market.user()
    first = await _get(market, wire, "/api/users/me", headers=seeker.headers)
    assert dict(first.messages) == FIRST_RUN  # the connection's first run of the statement
    # The caller's row: one statement. Was 5 with unique statement names and a transaction,
    # then 2 with every statement prepared before each run.
    me = await _warm_get(market, wire, "/api/users/me", headers=seeker.headers)
    assert (me.round_trips, dict(me.messages)) == (1, KEPT)


async def test_reads_and_writes_through_the_pooler_send_each_statement_once(
    pooled_market: tuple[Market, DelayProxy],
) -> None:
    market, wire = pooled_market
    employer = await market.user("employer")
    seeker = await market.user()
    job = await market.job(employer, (await market.company(employer))["id"])
    applied = await market.application(seeker, job["id"])

    # Once the LISTEN connection holds (on the direct endpoint), a caller this instance checked
    # is known (app/identity/known_callers.py): the application with its job, company and
    # history is the one statement.
    await asyncio.wait_for(market.app.state.services.of(EVENT_HUB).listening.wait(), 10)
    application = f"/api/applications/{applied['id']}"
    read = await _warm_get(market, wire, application, headers=seeker.headers)
    assert (read.round_trips, dict(read.messages)) == (1, KEPT)
    # A caller not known: the check first, two statements.
    for _ in range(2):  # the second time, both statements were run before
        market.app.state.services.of(KNOWN_CALLERS).forget(seeker.id)
        read = await _get(market, wire, application, headers=seeker.headers)
    assert (read.round_trips, dict(read.messages)) == (2, {k: 2 * n for k, n in KEPT.items()})

    # A write keeps its transaction: BEGIN, then the UPDATE, the new unread count and the live
    # event (tests/core/test_round_trips.py), COMMIT; and no Close.
    await _get(market, wire, "/api/notifications", headers=employer.headers)
    for _ in range(2):
        write = await _send(
            market, wire, "POST", "/api/notifications/read-all", headers=employer.headers
        )
    assert (write.round_trips, write.messages["Q"], write.messages["C"]) == (2 + 3, 2, 0)


async def test_a_job_page_miss_is_one_round_trip_and_a_hit_none(
    pooled_market: tuple[Market, DelayProxy],
) -> None:
    market, wire = pooled_market
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    jobs = [(await market.job(employer, company))["id"] for _ in range(3)]

    for job in jobs[:2]:  # misses on the same connection first: no ping, no type lookup
        await _get(market, wire, f"/api/jobs/{job}")
    miss = await _get(market, wire, f"/api/jobs/{jobs[2]}")
    assert (miss.round_trips, dict(miss.messages)) == (1, KEPT)

    hit = await _get(market, wire, f"/api/jobs/{jobs[2]}")
    assert hit.round_trips == 0
