"""More concurrent slow database requests than the pool holds: the ones that cannot get a
connection answer 503 after DB_POOL_TIMEOUT instead of queueing without end, /health keeps
answering meanwhile, and a full pool is not mistaken for a dead database."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.faults.watch import HealthWatch
from tests.support.helpers import assert_error
from tests.support.server_process import StartServer

PROBE_APP = ("tests.support.probe_app:app",)
SLOW_SECONDS = 3.0
CONCURRENT = 6
# Generous bound: a request that waited this long was queued, not turned away.
REQUEST_BOUND = 20.0

pytestmark = pytest.mark.slow


async def test_exhausted_pool_answers_503_and_health_stays_up(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory(
        {
            "DATABASE_URL": database_url,
            "DB_POOL_SIZE": "1",
            "DB_MAX_OVERFLOW": "0",
            "DB_POOL_TIMEOUT": "1",
            "REDIS_URL": None,
        },
        args=PROBE_APP,
    )
    server.wait_healthy()

    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_BOUND) as client:
        assert (await client.get("/test/db-sleep")).status_code == 200
        with HealthWatch(server.base_url) as health:
            responses = await asyncio.gather(
                *(
                    client.get("/test/db-sleep", params={"seconds": SLOW_SECONDS})
                    for _ in range(CONCURRENT)
                )
            )
        health.assert_healthy_throughout()

        served = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code != 200]
        assert served, "the one pooled connection served nobody"
        assert all(r.json() == {"slept": SLOW_SECONDS} for r in served)
        assert len(refused) >= CONCURRENT - 2, [r.status_code for r in responses]
        for response in refused:
            assert_error(response, 503, "DATABASE_UNAVAILABLE")

        # The pool was busy, the database was fine: the next request is served at once,
        # without the fail-fast window an outage opens.
        assert (await client.get("/test/db-sleep")).status_code == 200
        assert (await client.get("/ready/db")).status_code == 200
