"""Races decided by the database: the UNIQUE constraint and the application row lock."""

from __future__ import annotations

import asyncio
import itertools

from tests.support.factories import Market


async def test_two_simultaneous_applications_one_wins(market: Market) -> None:
    employer = await market.user("employer")
    seeker = await market.user()
    job = await market.job(employer, (await market.company(employer))["id"])

    async def apply() -> int:
        response = await market.client.post(
            f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
        )
        return response.status_code

    statuses = await asyncio.wait_for(asyncio.gather(apply(), apply()), timeout=30)
    assert sorted(statuses) == [201, 409]
    rows = await market.sql("SELECT count(*) FROM applications WHERE job_id = :j", j=job["id"])
    assert rows[0][0] == 1
    inbox = await market.sql("SELECT count(*) FROM notifications WHERE user_id = :u", u=employer.id)
    assert inbox[0][0] == 1  # the losing request's notification was rolled back with it


async def test_simultaneous_status_changes_leave_a_consistent_history(market: Market) -> None:
    employer = await market.user("employer")
    seeker = await market.user()
    job = await market.job(employer, (await market.company(employer))["id"])
    applied = await market.client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    application_id = applied.json()["id"]

    async def move(status: str) -> int:
        response = await market.client.patch(
            f"/api/applications/{application_id}",
            json={"status": status},
            headers=employer.headers,
        )
        return response.status_code

    for targets in (["reviewing", "reviewing"], ["shortlisted", "rejected"]):
        statuses = await asyncio.wait_for(asyncio.gather(*(move(t) for t in targets)), timeout=30)
        assert 200 in statuses

    history = await market.sql(
        "SELECT from_status, to_status FROM application_status_changes "
        "WHERE application_id = :a ORDER BY id",
        a=application_id,
    )
    current = await market.sql("SELECT status FROM applications WHERE id = :a", a=application_id)
    # Every step starts where the previous one ended, and the last one is the current status.
    assert history[0] == (None, "submitted")
    for before, after in itertools.pairwise(history):
        assert after[0] == before[1]
    assert history[-1][1] == current[0][0]
    assert [h[1] for h in history].count("reviewing") == 1
