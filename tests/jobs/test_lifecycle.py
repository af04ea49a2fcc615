"""Job lifecycle, validation, soft delete, and the employer's own list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.factories import Actor, Market
from tests.support.helpers import assert_error


@pytest.fixture
async def owner(market: Market) -> tuple[Actor, int]:
    employer = await market.user("employer")
    return employer, (await market.company(employer))["id"]


async def test_illegal_lifecycle_moves_are_409(market: Market, owner: tuple[Actor, int]) -> None:
    employer, company = owner
    http, h = market.client, employer.headers
    draft = await market.job(employer, company, status="draft")
    assert_error(await http.post(f"/api/jobs/{draft['id']}/close", headers=h), 409, "CONFLICT")
    assert (await http.post(f"/api/jobs/{draft['id']}/publish", headers=h)).status_code == 200
    assert_error(await http.post(f"/api/jobs/{draft['id']}/publish", headers=h), 409)
    assert (await http.post(f"/api/jobs/{draft['id']}/close", headers=h)).status_code == 200
    for move in ("publish", "close"):
        assert_error(await http.post(f"/api/jobs/{draft['id']}/{move}", headers=h), 409)
    assert_error(
        await http.patch(f"/api/jobs/{draft['id']}", json={"title": "New"}, headers=h), 409
    )


async def test_an_expired_job_can_be_renewed(market: Market, owner: tuple[Actor, int]) -> None:
    employer, company = owner
    job = await market.job(employer, company)
    await market.expire(job["id"])
    assert (await market.client.get(f"/api/jobs/{job['id']}")).json()["status"] == "expired"
    seeker = await market.user()
    applied = await market.client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    assert_error(applied, 409)
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    renewed = await market.client.patch(
        f"/api/jobs/{job['id']}", json={"expires_at": later}, headers=employer.headers
    )
    assert renewed.json()["status"] == "published"
    assert [j["id"] for j in (await market.client.get("/api/jobs")).json()["items"]] == [job["id"]]


async def test_soft_delete_keeps_applications(market: Market, owner: tuple[Actor, int]) -> None:
    employer, company = owner
    seeker = await market.user()
    job = await market.job(employer, company)
    applied = await market.client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    delete = await market.client.delete(f"/api/jobs/{job['id']}", headers=employer.headers)
    assert delete.status_code == 204
    assert (
        await market.client.delete(f"/api/jobs/{job['id']}", headers=employer.headers)
    ).status_code == 204
    assert_error(await market.client.get(f"/api/jobs/{job['id']}", headers=seeker.headers), 404)
    assert (
        await market.client.get(f"/api/jobs/{job['id']}", headers=employer.headers)
    ).status_code == 200
    mine = await market.client.get("/api/users/me/applications", headers=seeker.headers)
    assert [(a["id"], a["job"]["status"]) for a in mine.json()["items"]] == [
        (applied.json()["id"], "closed")
    ]
    assert (await market.client.get("/api/employer/jobs", headers=employer.headers)).json()[
        "items"
    ] == []


BASE = {
    "title": "Boat Captain",
    "description": "Skipper our charter catamaran between Nassau and the Exuma cays.",
    "location": "Nassau",
    "island": "New Providence",
    "category": "maritime_fishing",
    "employment_type": "full_time",
}


@pytest.mark.parametrize(
    "bad",
    [
        {"salary_min": 5000, "salary_max": 100},
        {"salary_min": -1},
        {"salary_max": 10_000_001},
        {"salary_min": "12.345"},
        {"salary_currency": "BS"},
        {"salary_currency": "B$D"},
        {"salary_period": "week"},
        {"employment_type": "gig"},
        {"work_mode": "boat"},
        {"island": "Atlantis"},
        {"category": "piracy"},
        {"title": "x" * 151},
        {"title": "  "},
        {"description": "too short"},
        {"description": "x" * 20_001},
        {"location": "Nassau\x00"},
        {"skills": ["s"] * 31},
        {"skills": ["x" * 51]},
        {"expires_at": "2001-01-01T00:00:00Z"},
        {"expires_at": "2099-01-01T00:00:00"},  # no time zone
        {"status": "closed"},
        {"company_id": 2**63},
        {"owner_id": 1},
    ],
)
async def test_job_fields_are_validated(
    market: Market, owner: tuple[Actor, int], bad: dict[str, Any]
) -> None:
    employer, company = owner
    body = BASE | {"company_id": company} | bad
    assert_error(await market.client.post("/api/jobs", json=body, headers=employer.headers), 422)
    assert await market.sql("SELECT id FROM jobs") == []


async def test_defaults_and_currency(market: Market, owner: tuple[Actor, int]) -> None:
    employer, company = owner
    job = await market.job(employer, company, salary_currency="usd", salary_max=5000)
    assert (job["salary_currency"], job["salary_period"], job["work_mode"]) == (
        "USD",
        "year",
        "on_site",
    )
    plain = await market.job(employer, company)
    assert plain["salary_currency"] == "BSD" and plain["status"] == "published"


async def test_edit_keeps_the_salary_range_consistent(
    market: Market, owner: tuple[Actor, int]
) -> None:
    employer, company = owner
    job = await market.job(employer, company, salary_min=1000, salary_max=2000)
    response = await market.client.patch(
        f"/api/jobs/{job['id']}", json={"salary_min": 3000}, headers=employer.headers
    )
    assert_error(response, 422)


async def test_posting_for_a_missing_company_is_404(market: Market) -> None:
    employer = await market.user("employer")
    body = BASE | {"company_id": 999}
    assert_error(await market.client.post("/api/jobs", json=body, headers=employer.headers), 404)


async def test_employer_jobs_count_applications(market: Market, owner: tuple[Actor, int]) -> None:
    employer, company = owner
    busy = await market.job(employer, company, title="Busy")
    quiet = await market.job(employer, company, title="Quiet", status="draft")
    for _ in range(3):
        seeker = await market.user()
        await market.client.post(
            f"/api/jobs/{busy['id']}/applications", json={}, headers=seeker.headers
        )
    page = await market.client.get("/api/employer/jobs?limit=1", headers=employer.headers)
    first = page.json()
    assert [(j["id"], j["application_count"]) for j in first["items"]] == [(quiet["id"], 0)]
    rest = await market.client.get(
        "/api/employer/jobs", params={"cursor": first["next_cursor"]}, headers=employer.headers
    )
    assert [
        (j["id"], j["application_count"], j["unreviewed_count"]) for j in rest.json()["items"]
    ] == [(busy["id"], 3, 3)]
