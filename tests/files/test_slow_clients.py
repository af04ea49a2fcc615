"""Upload bodies sent slowly or abandoned, against the real server (Gunicorn, one worker, the
filesystem backend): a client that waits holds no database connection, and one that leaves is
not a server error."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.core.db import parse_database_url
from app.files import rules
from tests.support.server_process import ServerProcess, StartServer

pytestmark = pytest.mark.slow

POOL_SIZE = 2
DECLARED = 1000  # the Content-Length each slow client announces; it sends one byte of it
# Generous bound: a request that took this long queued for a connection a slow client held.
REQUEST_BOUND = 20.0


def _serve(server_factory: StartServer, database_url: str, tmp_path: Path) -> ServerProcess:
    server = server_factory(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "STORAGE_URL": f"file://{tmp_path / 'uploads'}",
            "DB_POOL_SIZE": str(POOL_SIZE),
            "DB_MAX_OVERFLOW": "0",
            "DB_POOL_TIMEOUT": "3",
        }
    )
    server.wait_healthy()
    return server


async def _sign_up(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/api/auth/register",
        json={
            "email": f"slow-{uuid.uuid4().hex[:8]}@example.com",
            "password": "a-long-enough-password-1",
            "full_name": "Slow Client",
            "role": "job_seeker",
        },
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _ticket(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post(
        "/api/uploads",
        json={"purpose": "avatar", "content_type": rules.PNG, "size": DECLARED},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["url"]


async def _start_slow_put(server: ServerProcess, url: str) -> asyncio.StreamWriter:
    """A PUT that announces DECLARED bytes and sends one: the server waits for the rest."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        f"PUT {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {rules.PNG}\r\n"
        f"Content-Length: {DECLARED}\r\n\r\n".encode()
        + b"x"
    )
    await writer.drain()
    return reader, writer


async def _idle_in_transaction(database_url: str) -> int:
    dsn = parse_database_url(database_url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%'"
        )
    finally:
        await conn.close()


async def test_slow_upload_bodies_hold_no_connection_and_others_are_served(
    server_factory: StartServer, database_url: str, tmp_path: Path
) -> None:
    server = _serve(server_factory, database_url, tmp_path)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_BOUND) as client:
        uploader, reader = await _sign_up(client), await _sign_up(client)
        url = await _ticket(client, uploader)
        async with contextlib.AsyncExitStack() as streams:
            # Live event streams wait on their clients too, and hold no connection meanwhile.
            for _ in range(POOL_SIZE):
                events = client.stream("GET", "/api/events", headers=reader)
                assert (await streams.enter_async_context(events)).status_code == 200
            slow = [await _start_slow_put(server, url) for _ in range(POOL_SIZE + 2)]
            await asyncio.sleep(1)  # every slow PUT has reached its route by now

            assert await _idle_in_transaction(database_url) == 0
            me = await client.get("/api/users/me", headers=reader)
            assert me.status_code == 200, me.text
            assert (await client.get("/api/jobs")).status_code == 200
            assert await _idle_in_transaction(database_url) == 0

        # A slow client that finishes is served too.
        first_reader, first = slow[0]
        first.write(b"x" * (DECLARED - 1))
        await first.drain()
        status_line = await asyncio.wait_for(first_reader.readline(), REQUEST_BOUND)
        assert status_line.startswith(b"HTTP/1.1 204"), status_line
        for _, writer in slow:
            writer.close()


async def test_an_abandoned_upload_is_no_error_and_no_5xx(
    server_factory: StartServer, database_url: str, tmp_path: Path
) -> None:
    server = _serve(server_factory, database_url, tmp_path)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_BOUND) as client:
        url = await _ticket(client, await _sign_up(client))
        _, writer = await _start_slow_put(server, url)
        await asyncio.sleep(0.5)
        writer.close()  # the client gives up halfway through the body

        route = 'route="/api/uploads/{file_id}/content"'
        deadline = asyncio.get_running_loop().time() + REQUEST_BOUND
        while True:
            metrics = (await client.get("/metrics")).text
            put_lines = [line for line in metrics.splitlines() if "PUT" in line and route in line]
            if put_lines or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
    assert any('status="499"' in line for line in put_lines), put_lines
    assert not any(re.search(r'status="5\d\d"', line) for line in put_lines), put_lines
    log = server.log()
    assert "ERROR" not in log and "Traceback" not in log, log
    assert "client disconnected on PUT" in log, log
