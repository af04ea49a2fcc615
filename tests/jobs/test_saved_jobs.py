from __future__ import annotations

from tests.support.factories import Market
from tests.support.helpers import assert_error


async def test_save_and_unsave_are_idempotent_and_newest_first(market: Market) -> None:
    employer = await market.user("employer")
    seeker = await market.user()
    company = (await market.company(employer))["id"]
    first, second = [await market.job(employer, company) for _ in range(2)]
    http, h = market.client, seeker.headers
    for job in (first, second, first):
        assert (await http.put(f"/api/jobs/{job['id']}/save", headers=h)).status_code == 204
    saved = (await http.get("/api/users/me/saved-jobs", headers=h)).json()["items"]
    assert [s["job"]["id"] for s in saved] == [second["id"], first["id"]]
    for _ in range(2):
        assert (await http.delete(f"/api/jobs/{second['id']}/save", headers=h)).status_code == 204
    saved = (await http.get("/api/users/me/saved-jobs", headers=h)).json()["items"]
    assert [s["job"]["id"] for s in saved] == [first["id"]]


async def test_drafts_and_missing_jobs_cannot_be_saved(market: Market) -> None:
    employer = await market.user("employer")
    seeker = await market.user()
    draft = await market.job(employer, (await market.company(employer))["id"], status="draft")
    for job_id in (draft["id"], 987654):
        assert_error(
            await market.client.put(f"/api/jobs/{job_id}/save", headers=seeker.headers), 404
        )
