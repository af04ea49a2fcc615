"""The small world the fuzzed operations run in: an employer with a company, a published and a
draft job, a job seeker who saved and applied to the published one (now under review), and an
admin. Built into emptied tables (identities restarted), so the fuzzer's favourite id, 1, names
real objects the caller may own. The items of a module share one world while the database
stays exactly as it was built (`fingerprint`); an item that changed it gets a fresh one."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx

from app.all_models import Base
from app.core.db import parse_database_url
from tests.support.helpers import mark_email_verified

ROLES = ["anonymous", "job_seeker", "employer", "admin"]
PASSWORD = "fuzzing-is-fun-0123"
_addresses = itertools.count(1)


@dataclass
class Actor:
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)


# Per table its row count and newest row version: any insert, update or delete changes one.
_FINGERPRINT = " UNION ALL ".join(
    f"SELECT '{table}', count(*), coalesce(max(xmin::text::bigint), 0) FROM \"{table}\""
    for table in [*(t.name for t in Base.metadata.sorted_tables), "procrastinate_jobs"]
)


async def _connect(database_url: str) -> asyncpg.Connection:
    dsn = parse_database_url(database_url).url.set(drivername="postgresql")
    return await asyncpg.connect(dsn.render_as_string(hide_password=False))


async def fingerprint(database_url: str) -> list[tuple[object, ...]]:
    conn = await _connect(database_url)
    try:
        return [tuple(row) for row in await conn.fetch(_FINGERPRINT)]
    finally:
        await conn.close()


def _expect(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else {}


async def _user(client: httpx.AsyncClient, role: str, database_url: str) -> dict[str, str]:
    """Register (each user from an address of its own, so no rate limit is shared), promote an
    admin directly in the database (the API never makes one), log in; the bearer header."""
    n = next(_addresses)
    address = {"X-Forwarded-For": f"203.0.{n // 250 % 250}.{n % 250 + 1}"}
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": f"Fuzz {role}"}
    api_role = "job_seeker" if role == "admin" else role
    _expect(
        await client.post("/api/auth/register", json={**body, "role": api_role}, headers=address),
        201,
    )
    if role == "employer":
        await mark_email_verified(database_url, email)
    if role == "admin":
        conn = await _connect(database_url)
        try:
            await conn.execute("UPDATE users SET role = 'admin' WHERE email = $1", email)
        finally:
            await conn.close()
    login = {"email": email, "password": PASSWORD}
    pair = _expect(await client.post("/api/auth/login", json=login, headers=address), 200)
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def build_world(base_url: str, database_url: str) -> dict[str, Actor]:
    """The world, built into emptied tables; the caller of each role in it."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        employer = await _user(client, "employer", database_url)
        seeker = await _user(client, "job_seeker", database_url)
        company = _expect(
            await client.post(
                "/api/companies",
                json={"name": "Conch Shack Ltd", "island": "Exuma"},
                headers=employer,
            ),
            201,
        )
        job = {
            "company_id": company["id"],
            "title": "Line cook",
            "description": "Cook conch salad and fritters for the lunch crowd in George Town.",
            "location": "George Town",
            "island": "Exuma",
            "category": "food_beverage",
            "employment_type": "part_time",
        }
        published = _expect(
            await client.post("/api/jobs", json={**job, "status": "published"}, headers=employer),
            201,
        )
        _expect(await client.post("/api/jobs", json=job, headers=employer), 201)
        _expect(await client.put(f"/api/jobs/{published['id']}/save", headers=seeker), 204)
        application = _expect(
            await client.post(f"/api/jobs/{published['id']}/applications", json={}, headers=seeker),
            201,
        )
        _expect(
            await client.patch(
                f"/api/applications/{application['id']}",
                json={"status": "reviewing"},
                headers=employer,
            ),
            200,
        )
        admin = await _user(client, "admin", database_url)
    callers = {"anonymous": {}, "job_seeker": seeker, "employer": employer, "admin": admin}
    return {role: Actor(base_url, headers) for role, headers in callers.items()}
