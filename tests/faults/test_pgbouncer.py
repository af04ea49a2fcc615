"""The service behind a Neon-like pooler: PgBouncer in transaction mode with two server
connections shared by every client connection of the app's pool.

With DB_PGBOUNCER on, concurrent hiring rounds (register, login, cookie refresh, companies,
jobs, search, saves, applications, status changes, notifications, stats) pass through it with
no prepared-statement error. Without it the same pooler breaks the service, which is what
makes the first test mean something.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.faults.pgbouncer import PgBouncer
from tests.support.flows import REQUEST_TIMEOUT, hiring_round
from tests.support.server_process import ServerProcess, StartServer

ROUNDS = 4

pytestmark = pytest.mark.slow


def _start(server_factory: StartServer, url: str, pgbouncer_flag: str) -> ServerProcess:
    server = server_factory(
        {"DATABASE_URL": url, "DB_PGBOUNCER": pgbouncer_flag, "REDIS_URL": None}
    )
    server.wait_healthy()
    return server


async def test_hiring_rounds_pass_through_transaction_mode_pgbouncer(
    server_factory: StartServer, pgbouncer: PgBouncer, session_url: URL
) -> None:
    url = pgbouncer.url_for(session_url).render_as_string(hide_password=False)
    server = _start(server_factory, url, "true")

    direct = session_url.render_as_string(hide_password=False)
    await asyncio.gather(*(hiring_round(server.base_url, direct) for _ in range(ROUNDS)))

    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        assert (await client.get("/ready/db")).status_code == 200
        jobs = (await client.get("/api/jobs", params={"limit": 100})).json()["items"]
    assert len(jobs) == ROUNDS  # each round closes one of its two jobs
    log = server.log() + pgbouncer.log()
    assert "prepared statement" not in log
    assert "unhandled error" not in log


async def test_without_pooler_settings_the_same_pooler_breaks_requests(
    server_factory: StartServer, pgbouncer: PgBouncer, session_url: URL
) -> None:
    url = pgbouncer.url_for(session_url).render_as_string(hide_password=False)
    server = _start(server_factory, url, "false")

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
