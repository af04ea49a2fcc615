"""The public job list and the stats come from the cache until a write changes them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from tests.support.factories import Market
from tests.support.helpers import make_client


async def _listed(market: Market) -> list[int]:
    return [j["id"] for j in (await market.client.get("/api/jobs")).json()["items"]]


async def test_cached_list_is_served_until_a_write_invalidates_it(market: Market) -> None:
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"], title="Chef")
    assert await _listed(market) == [job["id"]]

    # A change made behind the API's back is not seen: the list is served from the cache ...
    await market.sql("UPDATE jobs SET title = 'Changed in SQL' WHERE id = :j", j=job["id"])
    assert (await market.client.get("/api/jobs")).json()["items"][0]["title"] == "Chef"
    stats = (await market.client.get("/api/stats")).json()
    assert stats == {"active_jobs": 1, "companies_hiring": 1, "new_jobs_this_week": 1}

    # ... and every write through the API shows at once.
    closed = await market.client.post(f"/api/jobs/{job['id']}/close", headers=employer.headers)
    assert closed.status_code == 200
    assert await _listed(market) == []
    stats = (await market.client.get("/api/stats")).json()
    assert stats == {"active_jobs": 0, "companies_hiring": 0, "new_jobs_this_week": 0}


async def test_each_kind_of_write_invalidates(market: Market) -> None:
    employer = await market.user("employer")
    company = (await market.company(employer, name="Old Name"))["id"]
    h = employer.headers
    draft = await market.job(employer, company, status="draft")
    assert await _listed(market) == []
    await market.client.post(f"/api/jobs/{draft['id']}/publish", headers=h)
    assert await _listed(market) == [draft["id"]]
    await market.client.patch(f"/api/jobs/{draft['id']}", json={"title": "Sous Chef"}, headers=h)
    assert (await market.client.get("/api/jobs")).json()["items"][0]["title"] == "Sous Chef"
    await market.client.patch(f"/api/companies/{company}", json={"name": "New Name"}, headers=h)
    assert (await market.client.get("/api/jobs?q=new")).json()["items"][0]["company"]["name"] == (
        "New Name"
    )
    assert (await market.client.get("/api/jobs")).json()["items"][0]["company"][
        "name"
    ] == "New Name"
    await market.client.delete(f"/api/jobs/{draft['id']}", headers=h)
    assert await _listed(market) == []


async def test_an_entry_never_outlives_the_expiry_of_its_jobs(market: Market) -> None:
    employer = await market.user("employer")
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    job = await market.job(employer, (await market.company(employer))["id"], expires_at=soon)
    assert await _listed(market) == [job["id"]]
    await asyncio.sleep(2.5)
    assert await _listed(market) == []
    assert (await market.client.get("/api/stats")).json()["active_jobs"] == 0


async def test_without_redis_the_cache_works_in_process(
    market: Market, start_app, make_settings
) -> None:
    app: FastAPI = await start_app(make_settings(redis_url=None))
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"])
    async with make_client(app) as client:
        assert [j["id"] for j in (await client.get("/api/jobs")).json()["items"]] == [job["id"]]
        await market.sql("UPDATE jobs SET title = 'Changed in SQL' WHERE id = :j", j=job["id"])
        assert (await client.get("/api/jobs")).json()["items"][0]["title"] != "Changed in SQL"
        closed = await client.post(f"/api/jobs/{job['id']}/close", headers=employer.headers)
        assert closed.status_code == 200
        assert (await client.get("/api/jobs")).json()["items"] == []
