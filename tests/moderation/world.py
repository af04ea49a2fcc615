"""A small cast for the moderation tests: an employer with a company, a published job and an
applicant's thread with one message, a second employer and seeker, and an admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.factories import Actor, Market


@dataclass
class Cast:
    market: Market
    employer: Actor
    employer2: Actor
    seeker: Actor
    seeker2: Actor
    admin: Actor
    company_id: int
    job_id: int
    application_id: int
    message_id: int

    @property
    def client(self) -> httpx.AsyncClient:
        return self.market.client

    async def call(
        self, actor: Actor | None, method: str, path: str, body: Any = None, **params: Any
    ) -> httpx.Response:
        headers = actor.headers if actor else {}
        return await self.client.request(method, path, json=body, params=params, headers=headers)

    async def ok(self, actor: Actor | None, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(actor, method, path, body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def published(self) -> int:
        return (await self.market.job(self.employer, self.company_id))["id"]

    async def report(self, reporter: Actor | None = None) -> int:
        body = {"target_type": "job", "target_id": await self.published(), "reason": "scam"}
        return (await self.ok(reporter or self.seeker, "POST", "/api/reports", body))["id"]


async def make_cast(market: Market) -> Cast:
    employer = await market.user("employer", "Ava Employer")
    seeker = await market.user("job_seeker", "Sam Seeker")
    company = await market.company(employer)
    job = await market.job(employer, company["id"])
    client = market.client
    application = await client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    message = await client.post(
        f"/api/applications/{application.json()['id']}/messages",
        json={"body": "Hello there"},
        headers=seeker.headers,
    )
    assert message.status_code == 201, message.text
    return Cast(
        market=market,
        employer=employer,
        employer2=await market.user("employer"),
        seeker=seeker,
        seeker2=await market.user("job_seeker"),
        admin=await market.admin(),
        company_id=company["id"],
        job_id=job["id"],
        application_id=application.json()["id"],
        message_id=message.json()["id"],
    )
