"""What users do, over HTTP against a real server: the traffic the fault tests push through.

Each user is its own client (its own cookie jar) behind its own address: the server trusts
the loopback proxy, so X-Forwarded-For gives each user the address a real one would have and
per-address rate limits apply per user, as in production.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.support.helpers import mark_email_verified

PASSWORD = "correct-horse-battery-staple"
REQUEST_TIMEOUT = 30.0
_addresses = itertools.count(1)


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


@asynccontextmanager
async def user(
    base_url: str, role: str, database_url: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A freshly registered, logged-in user: a client carrying its bearer token and cookie.
    With `database_url`, an employer's address is marked verified (so it may publish)."""
    n = next(_addresses)
    address = f"198.51.{n // 250 % 250}.{n % 250 + 1}"
    async with httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT, headers={"X-Forwarded-For": address}
    ) as client:
        email = f"{role}-{uuid.uuid4().hex[:12]}@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": f"Test {role}", "role": role}
        expect(await client.post("/api/auth/register", json=body), 201)
        if database_url is not None and role == "employer":
            await mark_email_verified(database_url, email)
        login = expect(
            await client.post("/api/auth/login", json={"email": email, "password": PASSWORD}), 200
        )
        # The refresh cookie alone (no body) buys a new pair, as the web frontend does.
        pair = expect(await client.post("/api/auth/refresh"), 200)
        assert pair["refresh_token"] != login["refresh_token"]
        client.headers["Authorization"] = f"Bearer {pair['access_token']}"
        expect(await client.get("/api/auth/me"), 200)
        yield client


async def hiring_round(base_url: str, database_url: str, seekers: int = 3) -> None:
    """An employer posts jobs; job seekers search, save and apply; the employer moves the
    applications along; everybody reads their notifications."""
    word = f"reef{uuid.uuid4().hex[:8]}"
    async with user(base_url, "employer", database_url) as employer:
        company = expect(
            await employer.post(
                "/api/companies", json={"name": f"Coral {word} Ltd", "island": "New Providence"}
            ),
            201,
        )
        job_body = {
            "company_id": company["id"],
            "title": f"Dive instructor {word}",
            "description": f"Teach {word} diving to visitors at our Nassau dive shop.",
            "location": "Nassau",
            "island": "New Providence",
            "category": "hospitality_tourism",
            "employment_type": "full_time",
            "salary_min": 30000,
            "salary_max": 45000,
            "skills": ["diving", "first aid"],
            "status": "published",
        }
        job = expect(await employer.post("/api/jobs", json=job_body), 201)
        draft = expect(await employer.post("/api/jobs", json={**job_body, "status": "draft"}), 201)
        expect(await employer.post(f"/api/jobs/{draft['id']}/publish"), 200)

        await asyncio.gather(*(_apply(base_url, job["id"], word) for _ in range(seekers)))

        listed = expect(await employer.get(f"/api/jobs/{job['id']}/applications"), 200)
        assert len(listed["items"]) == seekers
        for application in listed["items"]:
            expect(
                await employer.patch(
                    f"/api/applications/{application['id']}", json={"status": "reviewing"}
                ),
                200,
            )
        unread = expect(await employer.get("/api/notifications/unread-count"), 200)
        assert unread, unread
        expect(await employer.get("/api/employer/jobs"), 200)
        expect(await employer.post(f"/api/jobs/{draft['id']}/close"), 200)


async def _apply(base_url: str, job_id: int, word: str) -> None:
    async with user(base_url, "job_seeker") as seeker:
        found = expect(await seeker.get("/api/jobs", params={"q": word}), 200)
        assert job_id in [j["id"] for j in found["items"]], found
        expect(await seeker.get(f"/api/jobs/{job_id}"), 200)
        expect(await seeker.put(f"/api/jobs/{job_id}/save"), 204)
        expect(await seeker.get("/api/users/me/saved-jobs"), 200)
        expect(
            await seeker.post(
                f"/api/jobs/{job_id}/applications", json={"cover_letter": "I dive daily."}
            ),
            201,
        )
        mine = expect(await seeker.get("/api/users/me/applications"), 200)
        assert [a["job"]["id"] for a in mine["items"]] == [job_id]
        expect(await seeker.get("/api/notifications"), 200)
        expect(await seeker.get("/api/stats"), 200)
