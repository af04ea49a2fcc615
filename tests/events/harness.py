"""A small harness for the live-event tests: N real instances of the service on one database
and Redis (tests/support/server_process.py; no load balancer: each client picks its instance), users
made through the API, and an SSE reader over a real streaming HTTP connection (httpx).

The operations issue's nginx cluster can replace `instances` without touching the tests: they
only need base URLs that reach "some instance" and "another instance".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from app.core.db import parse_database_url
from tests.support.helpers import mark_email_verified
from tests.support.server_process import ServerProcess, StartServer

PASSWORD = "live-events-0123"
_addresses = itertools.count(1)


def instances(
    start: StartServer,
    database_url: str,
    redis_url: str | None,
    count: int = 2,
    **env: str,
) -> list[ServerProcess]:
    servers = [
        start({"DATABASE_URL": database_url, "REDIS_URL": redis_url, **env}) for _ in range(count)
    ]
    for server in servers:
        server.wait_healthy()
    return servers


@dataclass
class Account:
    id: int
    email: str
    headers: dict[str, str]
    refresh_token: str


async def register(base_url: str, role: str = "job_seeker") -> Account:
    n = next(_addresses)
    address = {"X-Forwarded-For": f"192.0.{n // 250 % 250}.{n % 250 + 1}"}
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": f"Live {role}", "role": role}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.post("/api/auth/register", json=body, headers=address)
    assert response.status_code == 201, response.text
    data = response.json()
    return Account(
        data["user"]["id"],
        email,
        {"Authorization": f"Bearer {data['access_token']}"},
        data["refresh_token"],
    )


async def hiring(base_url: str, database_url: str) -> tuple[Account, Account, int]:
    """An employer (verified, so it may publish) with a published job; a seeker (not yet
    applied); the job's id."""
    employer = await register(base_url, "employer")
    await mark_email_verified(database_url, employer.email)
    seeker = await register(base_url, "job_seeker")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        company = await client.post(
            "/api/companies",
            json={"name": "Sea Grape Inn", "island": "Eleuthera"},
            headers=employer.headers,
        )
        job = await client.post(
            "/api/jobs",
            json={
                "company_id": company.json()["id"],
                "title": "Housekeeper",
                "description": "Keep twelve cottages on Governor's Harbour spotless.",
                "location": "Governor's Harbour",
                "island": "Eleuthera",
                "category": "hospitality_tourism",
                "employment_type": "full_time",
                "status": "published",
            },
            headers=employer.headers,
        )
    assert job.status_code == 201, job.text
    return employer, seeker, job.json()["id"]


async def sql(database_url: str, statement: str, *args: Any) -> Any:
    dsn = parse_database_url(database_url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        return await conn.fetch(statement, *args)
    finally:
        await conn.close()


@dataclass
class Event:
    id: int | None
    kind: str
    data: str


@dataclass
class Stream:
    """One open GET /api/events, read in the background; `next()` waits for the next event."""

    response: httpx.Response
    comments: list[str] = field(default_factory=list)
    events: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    ended_cleanly: bool | None = None  # None while open; False if the connection broke

    async def read(self) -> None:
        kind, data, event_id = "message", [], None
        try:
            async for line in self.response.aiter_lines():
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("id:"):
                    event_id = int(line[3:].strip())
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    await self.events.put(Event(event_id, kind, "\n".join(data)))
                    kind, data, event_id = "message", [], None
            self.ended_cleanly = True
        except httpx.HTTPError:
            self.ended_cleanly = False
        finally:
            await self.events.put(None)

    async def next(self, timeout: float = 30) -> Event | None:
        """The next event, or None once the stream has ended."""
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_of(self, kind: str, timeout: float = 30) -> Event:
        while True:
            event = await self.next(timeout)
            assert event is not None, f"the stream ended before a {kind!r} event"
            if event.kind == kind:
                return event

    async def until_end(self, timeout: float = 30) -> list[Event]:
        seen = []
        while (event := await self.next(timeout)) is not None:
            seen.append(event)
        return seen


@contextlib.asynccontextmanager
async def open_stream(
    base_url: str, headers: Mapping[str, str], **extra: str
) -> AsyncIterator[Stream]:
    """An open stream (status 200 checked), read in the background until the block ends."""
    timeout = httpx.Timeout(30, read=60)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=timeout) as client,
        client.stream("GET", "/api/events", headers={**headers, **extra}) as response,
    ):
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        reader = asyncio.create_task(stream.read())
        # The first bytes (the retry hint) mean the stream is subscribed.
        await asyncio.sleep(0)
        try:
            yield stream
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
