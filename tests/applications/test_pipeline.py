from __future__ import annotations

import pytest

from tests.support.factories import Market
from tests.support.helpers import assert_error


@pytest.fixture
async def application(market: Market) -> tuple[Market, dict, int]:
    employer = await market.user("employer")
    seeker = await market.user()
    job = await market.job(employer, (await market.company(employer))["id"])
    applied = await market.client.post(
        f"/api/jobs/{job['id']}/applications",
        json={"cover_letter": "I have ten years at the front desk."},
        headers=seeker.headers,
    )
    assert applied.status_code == 201
    return market, {"employer": employer, "seeker": seeker, "job": job}, applied.json()["id"]


async def test_transition_table(application) -> None:
    market, cast, app_id = application
    h = cast["employer"].headers

    async def move(status: str) -> int:
        response = await market.client.patch(
            f"/api/applications/{app_id}", json={"status": status}, headers=h
        )
        return response.status_code

    assert await move("shortlisted") == 409  # no skipping stages
    assert await move("submitted") == 409
    assert await move("withdrawn") == 409  # only the applicant withdraws
    assert await move("reviewing") == 200
    assert await move("reviewing") == 409
    assert await move("rejected") == 200
    for status in ("reviewing", "hired", "rejected"):
        assert await move(status) == 409  # rejected is final
    assert_error(
        await market.client.patch(
            f"/api/applications/{app_id}", json={"status": "promoted"}, headers=h
        ),
        422,
    )


async def test_second_application_and_closed_job(application) -> None:
    market, cast, _ = application
    job_id, seeker = cast["job"]["id"], cast["seeker"]
    again = await market.client.post(
        f"/api/jobs/{job_id}/applications", json={}, headers=seeker.headers
    )
    assert_error(again, 409)
    await market.client.post(f"/api/jobs/{job_id}/close", headers=cast["employer"].headers)
    late = await market.user()
    closed = await market.client.post(
        f"/api/jobs/{job_id}/applications", json={}, headers=late.headers
    )
    assert_error(closed, 409)


async def test_job_owner_lists_by_status(application) -> None:
    market, cast, app_id = application
    job_id, h = cast["job"]["id"], cast["employer"].headers
    other = await market.user()
    await market.client.post(f"/api/jobs/{job_id}/applications", json={}, headers=other.headers)
    await market.client.patch(
        f"/api/applications/{app_id}", json={"status": "reviewing"}, headers=h
    )
    everyone = (await market.client.get(f"/api/jobs/{job_id}/applications", headers=h)).json()
    assert len(everyone["items"]) == 2
    reviewing = await market.client.get(
        f"/api/jobs/{job_id}/applications", params={"status": "reviewing"}, headers=h
    )
    assert [a["id"] for a in reviewing.json()["items"]] == [app_id]
    assert_error(
        await market.client.get(f"/api/jobs/{job_id}/applications?status=nope", headers=h), 422
    )


async def test_application_fields_are_validated(application) -> None:
    market, cast, _ = application
    employer = cast["employer"]
    job = await market.job(employer, cast["job"]["company"]["id"])
    seeker = await market.user()
    for body in (
        {"cover_letter": "x" * 10_001},
        {"resume_url": "javascript:x"},
        {"status": "hired"},
    ):
        response = await market.client.post(
            f"/api/jobs/{job['id']}/applications", json=body, headers=seeker.headers
        )
        assert_error(response, 422)
