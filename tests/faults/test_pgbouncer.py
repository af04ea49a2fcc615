"""The service behind a Neon-like pooler: PgBouncer in transaction mode with two server
connections shared by every client connection of the app's pool.

With DB_PGBOUNCER on, concurrent hiring rounds (register, login, cookie refresh, companies,
jobs, search, saves, applications, status changes, notifications, stats) pass through it with
no prepared-statement error, and leave nothing on its server connections for the pooler's next
client: no prepared statement, no changed setting. Without it the same pooler breaks the
service, which is what makes the first test mean something.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.faults.pgbouncer import PgBouncer, ServerConnection
from tests.support.flows import REQUEST_TIMEOUT, hiring_round
from tests.support.server_process import ServerProcess, StartServer

ROUNDS = 4
# Concurrent first reads of a fresh server: more than the pooler's server connections, fewer
# than the app's pool, so each opens a connection of its own.
FIRST_READS = 8

pytestmark = pytest.mark.slow


def _start(
    server_factory: StartServer, pgbouncer: PgBouncer, session_url: URL, pgbouncer_flag: str
) -> ServerProcess:
    """A server whose pool goes through the pooler; as in production, its one LISTEN
    connection (live events) goes to the direct endpoint, MIGRATION_DATABASE_URL."""
    server = server_factory(
        {
            "DATABASE_URL": pgbouncer.url_for(session_url).render_as_string(hide_password=False),
            "MIGRATION_DATABASE_URL": session_url.render_as_string(hide_password=False),
            "DB_PGBOUNCER": pgbouncer_flag,
            "REDIS_URL": None,
        }
    )
    server.wait_healthy()
    return server


def _left_behind(found: list[ServerConnection]) -> list[ServerConnection]:
    """The server connections a client of the pooler would not find as a new session."""
    return [c for c in found if c.prepared_statements or c.listening or c.jit != c.jit_default]


async def test_hiring_rounds_pass_through_transaction_mode_pgbouncer(
    server_factory: StartServer, pgbouncer: PgBouncer, session_url: URL
) -> None:
    server = _start(server_factory, pgbouncer, session_url, "true")

    direct = session_url.render_as_string(hide_password=False)
    await asyncio.gather(*(hiring_round(server.base_url, direct) for _ in range(ROUNDS)))

    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        assert (await client.get("/ready/db")).status_code == 200
        jobs = (await client.get("/api/jobs", params={"limit": 100})).json()["items"]
    assert len(jobs) == ROUNDS  # each round closes one of its two jobs
    log = server.log() + pgbouncer.log()
    assert "prepared statement" not in log
    assert "unhandled error" not in log
    # Every statement was unnamed: none stays on a server connection, none is closed later.
    assert _left_behind(await pgbouncer.server_connections(session_url)) == []


async def test_first_reads_on_fresh_connections_leave_the_server_connections_as_they_were(
    server_factory: StartServer, pgbouncer: PgBouncer, session_url: URL
) -> None:
    """A GET runs outside a transaction behind the pooler too. A fresh connection's first read
    of a varchar[] column (a job's skills) makes asyncpg look the type up: `jit` off for the
    session, the lookup, `jit` back; run as three transactions they would land on different
    server connections and leave `jit` off on one of them."""
    direct = session_url.render_as_string(hide_password=False)
    first = _start(server_factory, pgbouncer, session_url, "true")
    await hiring_round(first.base_url, direct, seekers=1)
    assert _left_behind(await pgbouncer.server_connections(session_url)) == []

    fresh = _start(server_factory, pgbouncer, session_url, "true")
    async with httpx.AsyncClient(base_url=fresh.base_url, timeout=REQUEST_TIMEOUT) as client:
        # Different queries: none waits for another's cached answer.
        pages = await asyncio.gather(
            *(client.get("/api/jobs", params={"limit": n}) for n in range(1, FIRST_READS + 1))
        )
    assert [p.status_code for p in pages] == [200] * FIRST_READS
    assert all(p.json()["items"][0]["skills"] == ["diving", "first aid"] for p in pages)
    assert "prepared statement" not in fresh.log() + pgbouncer.log()
    assert _left_behind(await pgbouncer.server_connections(session_url)) == []


async def test_without_pooler_settings_the_same_pooler_breaks_requests(
    server_factory: StartServer, pgbouncer: PgBouncer, session_url: URL
) -> None:
    server = _start(server_factory, pgbouncer, session_url, "false")

    failed: list[httpx.Response] = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        for _ in range(20):
            burst = await asyncio.gather(
                *(client.get(path) for path in ("/api/jobs", "/api/companies") * 8)
            )
            failed += [r for r in burst if r.status_code != 200]
            if failed:
                break
    assert failed, "the pooler never mixed server connections: the first test proves nothing"
    assert "prepared statement" in server.log()
