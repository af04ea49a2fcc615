"""A matching world built through the API: seekers with profiles, employers with jobs, and the
lists both sides read."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import Actor, Market

JOB_MATCHES = "/api/users/me/job-matches"


async def seeker(market: Market, **profile: Any) -> Actor:
    """A job seeker whose profile is `profile` (PATCH /api/users/me)."""
    actor = await market.user()
    if profile:
        response = await market.client.patch("/api/users/me", json=profile, headers=actor.headers)
        assert response.status_code == 200, response.text
    return actor


class Employer:
    """An employer with one company, posting jobs on it."""

    def __init__(self, market: Market, actor: Actor, company_id: int) -> None:
        self.market = market
        self.actor = actor
        self.company_id = company_id

    @classmethod
    async def create(cls, market: Market) -> Employer:
        actor = await market.user("employer")
        company = await market.company(actor)
        return cls(market, actor, company["id"])

    async def job(self, title: str = "Site worker", **fields: Any) -> int:
        """A job (published unless `status` says otherwise) with these fields; its id."""
        job = await self.market.job(self.actor, self.company_id, title=title, **fields)
        return int(job["id"])


async def job_matches(market: Market, who: Actor, **params: Any) -> httpx.Response:
    return await market.client.get(JOB_MATCHES, params=params, headers=who.headers)


async def matched_jobs(market: Market, who: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """Every job match of `who`, page after page (asserting each page is well formed)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await job_matches(market, who, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def matched_job_ids(market: Market, who: Actor, limit: int = 100) -> list[int]:
    return [item["id"] for item in await matched_jobs(market, who, limit)]


def candidate_matches_url(job_id: int) -> str:
    return f"/api/jobs/{job_id}/candidate-matches"


async def matched_candidates(
    market: Market, owner: Actor, job_id: int, limit: int = 100
) -> list[dict[str, Any]]:
    """Every candidate match of the job, page after page, as its owner reads them."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await market.client.get(
            candidate_matches_url(job_id), params=params, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
