"""The database goes away mid-run, under traffic, with a warm connection pool, and comes back.

The network between the real server and PostgreSQL (a TcpFault) first refuses and resets
connections, and in a second run accepts them and never answers (its open connections go
silent too). Throughout, /health answers 200; database-backed requests (a probe route, the
company list, sign-in) answer 503 DATABASE_UNAVAILABLE instead of hanging; once the network is
back the same worker serves them again, without a restart.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.faults.watch import HealthWatch
from tests.support.helpers import assert_error
from tests.support.server_process import ServerProcess, StartServer
from tests.support.tcp_fault import TcpFault

PROBE_APP = ("tests.support.probe_app:app",)
CONNECT_TIMEOUT = 2
# Generous bound on one request: several times the connect and statement deadlines, far below
# the pool timeout (30 s) that a request stuck behind dead connections would wait for.
REQUEST_BOUND = 5 * CONNECT_TIMEOUT
RECOVERY_BOUND = 30.0
DB_ROUTE = "/test/db-sleep"

pytestmark = pytest.mark.slow
_n = itertools.count(1)


def _login(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    """A sign-in attempt for an unknown account (401 while the database answers), each from
    an address of its own so that the failed-login limit never answers first."""
    n = next(_n)
    return client.post(
        "/api/auth/login",
        json={"email": f"nobody-{n}@example.com", "password": "not a password"},
        headers={"X-Forwarded-For": f"198.51.100.{n % 250 + 1}"},
    )


async def _burst(client: httpx.AsyncClient) -> list[httpx.Response]:
    """Database-backed requests at once: the probe route, a list, a job page, a sign-in; and the
    status each answers while the database is up."""
    return list(
        await asyncio.gather(
            client.get(DB_ROUTE),
            client.get(DB_ROUTE),
            client.get("/api/companies"),
            client.get(f"/api/jobs/{NO_SUCH_JOB}"),
            _login(client),
        )
    )


NO_SUCH_JOB = 2**31 - 1
UP = [200, 200, 200, 404, 401]


def _documents_503(document: dict[str, Any], response: httpx.Response) -> bool:
    """The OpenAPI document declares the 503 this product route answered (the probe route
    is the test's own and is left out)."""
    path, method = response.request.url.path, response.request.method.lower()
    if path == DB_ROUTE:
        return True
    template = path.replace(str(NO_SUCH_JOB), "{job_id}")
    return "503" in document["paths"][template][method]["responses"]


async def _wait_until_served(client: httpx.AsyncClient, server: ServerProcess) -> None:
    deadline = time.monotonic() + RECOVERY_BOUND
    while (response := await client.get(DB_ROUTE)).status_code != 200:
        if time.monotonic() > deadline:
            pytest.fail(f"never served again: {response.text}\n{server.log()[-4000:]}")
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("fault", [TcpFault.refuse, TcpFault.blackhole], ids=lambda f: f.__name__)
async def test_database_dies_mid_run_and_returns(
    server_factory: StartServer,
    db_proxy: TcpFault,
    proxied_database_url: str,
    fault: Callable[[TcpFault], None],
) -> None:
    server = server_factory(
        {
            "DATABASE_URL": proxied_database_url,
            "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            # A pooled connection used a moment ago is not pinged: when it goes silent, the
            # statement's own deadline is what ends the request.
            "DB_COMMAND_TIMEOUT": str(CONNECT_TIMEOUT),
            "REDIS_URL": None,
        },
        args=PROBE_APP,
    )
    server.wait_healthy()
    workers = server.worker_pids()

    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_BOUND) as client:
        document = (await client.get("/openapi.json")).json()
        # Warm: the pool holds open connections when the database goes away.
        assert [r.status_code for r in await _burst(client)] == UP

        with HealthWatch(server.base_url) as health:
            fault(db_proxy)
            for _ in range(5):
                for response in await _burst(client):
                    assert_error(response, 503, "DATABASE_UNAVAILABLE")
                    assert response.headers["retry-after"]
                    assert _documents_503(document, response)
                ready = await client.get("/ready/db")
                assert ready.status_code == 503, ready.text
                assert _documents_503(document, ready)
                await asyncio.sleep(0.3)

            db_proxy.forward()
            await _wait_until_served(client, server)
            assert [r.status_code for r in await _burst(client)] == UP
        health.assert_healthy_throughout()
        assert (await client.get("/ready/db")).status_code == 200

    assert server.worker_pids() == workers, "the worker was restarted"
    log = server.log()
    assert "database unavailable" in log
    assert "database reachable again" in log
    assert "INTERNAL_ERROR" not in log and "unhandled error" not in log
