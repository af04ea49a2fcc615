"""Marketplace test data made through the public API (accounts, companies, jobs), plus direct
SQL for what the API deliberately cannot do (making an admin, moving time)."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.support.helpers import make_client

PASSWORD = "correct horse battery"
_addresses = itertools.count(1)


@dataclass(frozen=True)
class Actor:
    id: int
    role: str
    email: str
    headers: dict[str, str]


class Market:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self._serial = itertools.count(1)

    async def user(self, role: str = "job_seeker", full_name: str | None = None) -> Actor:
        n = next(self._serial)
        email = f"{role.replace('_', '')}{n}@example.com"
        # A fresh client address per sign-up keeps the registration rate limit out of the way.
        n_address = next(_addresses)
        address = f"198.51.{n_address // 250}.{n_address % 250 + 1}"
        async with make_client(self.app, client_ip=address) as client:
            response = await client.post(
                "/api/auth/register",
                json={
                    "email": email,
                    "password": PASSWORD,
                    "full_name": full_name or f"Test {role} {n}",
                    "role": role,
                },
            )
        assert response.status_code == 201, response.text
        body = response.json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        if role == "employer":  # allowed to publish, as if the emailed link had been followed
            await self.sql(
                "UPDATE users SET email_verified_at = now() WHERE id = :id", id=body["user"]["id"]
            )
        return Actor(body["user"]["id"], role, email, headers)

    async def admin(self) -> Actor:
        """Nobody can become admin through the API: promote a fresh account in the database."""
        actor = await self.user("employer", "Site Admin")
        await self.sql("UPDATE users SET role = 'admin' WHERE id = :id", id=actor.id)
        return Actor(actor.id, "admin", actor.email, actor.headers)

    async def company(self, owner: Actor, **fields: Any) -> dict[str, Any]:
        body = {"name": f"Conch Bay Resort {next(self._serial)}", "island": "New Providence"}
        response = await self.client.post(
            "/api/companies", json=body | fields, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def job(
        self, owner: Actor, company_id: int, *, status: str = "published", **fields: Any
    ) -> dict[str, Any]:
        body = {
            "company_id": company_id,
            "title": "Front Desk Agent",
            "description": "Welcome guests to our Cable Beach resort and handle reservations.",
            "location": "Nassau",
            "island": "New Providence",
            "category": "hospitality_tourism",
            "employment_type": "full_time",
            "status": status,
        }
        response = await self.client.post("/api/jobs", json=body | fields, headers=owner.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def application(self, applicant: Actor, job_id: int) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/jobs/{job_id}/applications",
            json={"cover_letter": "I would love to work the front desk."},
            headers=applicant.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.app.state.services.database.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    async def expire(self, job_id: int) -> None:
        """Make a job's expiry lie in the past, as time passing would."""
        past = datetime.now(UTC) - timedelta(minutes=1)
        await self.sql("UPDATE jobs SET expires_at = :at WHERE id = :id", at=past, id=job_id)

    async def cached_copy(self, path: str, change: str, **params: Any) -> httpx.Response:
        """Read `path`, run `change` (SQL behind the API's back, taking a :mark besides
        `params`), and return the read once a read after the change is that same copy: the
        page comes from the cache. The NOTIFY of a write made just before may land after the
        first read and rightly drop its copy, so a changed page starts another round, with
        another mark (5 s at most)."""
        deadline = time.monotonic() + 5
        rounds = 0
        while True:
            rounds += 1
            copy = await self.client.get(path)
            assert copy.status_code == 200, copy.text
            await self.sql(change, mark=f"Changed in SQL {rounds}", **params)
            if (await self.client.get(path)).content == copy.content:
                return copy
            assert time.monotonic() < deadline, f"{path} is never served from the cache"


@pytest.fixture
async def market(app: FastAPI) -> AsyncIterator[Market]:
    """Runs on Redis when REDIS_URL is set (tests/support/redis_db.py flushes it before each
    test), else on the app's in-process cache, which is new with every test's app."""
    async with make_client(app) as client:
        yield Market(app, client)
