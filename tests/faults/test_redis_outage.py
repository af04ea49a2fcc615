"""Redis goes away under a running server and comes back empty, as a restarted managed Redis
does: the service keeps serving (rate limits and caches fall back to process memory, and the
limits still hold), then goes back to Redis on its own."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis
from redis.exceptions import RedisError

from tests.faults.watch import HealthWatch
from tests.support.flows import PASSWORD, REQUEST_TIMEOUT, expect, user
from tests.support.server_process import ServerProcess, StartServer, free_port

RECOVERY_BOUND = 30.0

pytestmark = pytest.mark.slow


class RedisServer:
    """A redis-server of the test's own on a free port, stopped and started at will."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + RECOVERY_BOUND
        while True:
            try:
                with Redis.from_url(self.url, socket_timeout=1) as client:
                    client.ping()
                return
            except RedisError as exc:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start: {exc}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def key_count(self) -> int:
        with Redis.from_url(self.url, socket_timeout=2) as client:
            return int(client.dbsize())


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


async def _redis_state(client: httpx.AsyncClient) -> str:
    return (await client.get("/health/detailed")).json()["redis"]["state"]


async def _wait_for_redis_state(
    client: httpx.AsyncClient, server: ServerProcess, state: str
) -> None:
    deadline = time.monotonic() + RECOVERY_BOUND
    while (current := await _redis_state(client)) != state:
        if time.monotonic() > deadline:
            pytest.fail(f"redis state stayed {current!r}:\n{server.log()[-3000:]}")
        await asyncio.sleep(0.2)


async def _wrong_logins(client: httpx.AsyncClient, email: str, n: int) -> list[int]:
    body = {"email": email, "password": "not-the-password"}
    return [(await client.post("/api/auth/login", json=body)).status_code for _ in range(n)]


async def test_service_keeps_serving_without_redis_and_uses_it_again(
    server_factory: StartServer, database_url: str, redis_server: RedisServer
) -> None:
    server = server_factory({"DATABASE_URL": database_url, "REDIS_URL": redis_server.url})
    server.wait_healthy()

    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        await _wait_for_redis_state(client, server, "ok")
        async with user(server.base_url, "job_seeker") as seeker:
            email = (await seeker.get("/api/auth/me")).json()["email"]
        # Rate-limit counters and the stats cache are kept in Redis while it is up.
        assert await _wrong_logins(client, email, 1) == [401]
        expect(await client.get("/api/stats"), 200)
        assert redis_server.key_count() > 0

        with HealthWatch(server.base_url) as health:
            redis_server.stop()
            assert await _redis_state(client) in {"unavailable", "timeout"}
            async with user(server.base_url, "employer") as employer:
                expect(await employer.get("/api/employer/jobs"), 200)
            expect(await client.get("/api/stats"), 200)
            expect(await client.get("/api/jobs"), 200)
            # The per-account limit on wrong passwords still holds, counted in process.
            outage_email = f"outage-{server.port}@example.com"
            statuses = await _wrong_logins(client, outage_email, 8)
            assert set(statuses) <= {401, 429} and statuses[-1] == 429, statuses
            login = {"email": email, "password": PASSWORD}
            expect(await client.post("/api/auth/login", json=login), 200)

            redis_server.start()  # empty, on the same port
            await _wait_for_redis_state(client, server, "ok")
            deadline = time.monotonic() + RECOVERY_BOUND
            while redis_server.key_count() == 0:
                assert time.monotonic() < deadline, "the service never wrote to Redis again"
                await _wrong_logins(client, email, 1)
                expect(await client.get("/api/stats"), 200)
                await asyncio.sleep(0.2)
        health.assert_healthy_throughout()

    log = server.log()
    assert "redis unavailable, using in-process fallback" in log
    assert "redis reachable again" in log
    assert "unhandled error" not in log
