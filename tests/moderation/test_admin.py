"""The admin API: the report queue, taking a job down, suspending and restoring accounts,
verifying companies, and the audit log every action lands in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.core.db import parse_database_url
from tests.moderation.world import Cast, make_cast
from tests.support.factories import PASSWORD, Market
from tests.support.helpers import assert_error, make_client


async def _audit(cast: Cast, **params: Any) -> list[dict[str, Any]]:
    response = await cast.call(cast.admin, "GET", "/api/admin/audit", **params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_the_report_queue_filters_and_resolves_with_a_note(cast: Cast) -> None:
    job_report = await cast.report()
    body = {"target_type": "user", "target_id": cast.employer.id, "reason": "harassment"}
    user_report = (await cast.ok(cast.seeker, "POST", "/api/reports", body))["id"]

    queue = await cast.call(cast.admin, "GET", "/api/admin/reports")
    assert [r["id"] for r in queue.json()["items"]] == [user_report, job_report]
    jobs_only = await cast.call(cast.admin, "GET", "/api/admin/reports", target_type="job")
    assert [r["id"] for r in jobs_only.json()["items"]] == [job_report]

    resolved = await cast.call(
        cast.admin,
        "POST",
        f"/api/admin/reports/{job_report}/resolve",
        {"reason": "Job taken down; employer warned."},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution_note"] == "Job taken down; employer warned."
    assert resolved.json()["resolved_by_id"] == cast.admin.id
    again = await cast.call(
        cast.admin, "POST", f"/api/admin/reports/{job_report}/resolve", {"reason": "Again"}
    )
    assert_error(again, 409, "CONFLICT")

    open_ = await cast.call(cast.admin, "GET", "/api/admin/reports", status="open")
    assert [r["id"] for r in open_.json()["items"]] == [user_report]
    done = await cast.call(cast.admin, "GET", "/api/admin/reports", status="resolved")
    assert [r["id"] for r in done.json()["items"]] == [job_report]
    bad = await cast.call(cast.admin, "GET", "/api/admin/reports", status="closed")
    assert_error(bad, 422, "VALIDATION_ERROR")

    [entry] = await _audit(cast)
    assert entry["action"] == "report_resolved"
    assert (entry["target_type"], entry["target_id"]) == ("report", job_report)
    assert entry["actor_id"] == cast.admin.id
    assert entry["reason"] == "Job taken down; employer warned."
    assert entry["request_id"] == resolved.headers["x-request-id"]


async def test_a_job_taken_down_leaves_every_list_and_cache(cast: Cast) -> None:
    client = cast.client
    listed = await client.get("/api/jobs")  # fills the list cache
    assert [j["id"] for j in listed.json()["items"]] == [cast.job_id]
    assert (await client.get("/api/stats")).json()["active_jobs"] == 1

    taken = await cast.call(
        cast.admin, "POST", f"/api/admin/jobs/{cast.job_id}/take-down", {"reason": "Scam"}
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "taken_down"

    assert (await client.get("/api/jobs")).json()["items"] == []
    assert (await client.get("/api/stats")).json()["active_jobs"] == 0
    for actor in (None, cast.seeker, cast.employer2):
        page = await cast.call(actor, "GET", f"/api/jobs/{cast.job_id}")
        assert_error(page, 404, "NOT_FOUND")
    apply = await cast.call(cast.seeker2, "POST", f"/api/jobs/{cast.job_id}/applications", {})
    assert_error(apply, 404, "NOT_FOUND")

    # Its owner sees it as taken down, and cannot bring it back.
    own = await cast.call(cast.employer, "GET", f"/api/jobs/{cast.job_id}")
    assert own.json()["status"] == "taken_down"
    mine = await cast.call(cast.employer, "GET", "/api/employer/jobs")
    assert [j["status"] for j in mine.json()["items"]] == ["taken_down"]
    for method, path, body in [
        ("POST", f"/api/jobs/{cast.job_id}/publish", None),
        ("POST", f"/api/jobs/{cast.job_id}/close", None),
        ("PATCH", f"/api/jobs/{cast.job_id}", {"title": "Totally legit"}),
    ]:
        assert_error(await cast.call(cast.employer, method, path, body), 409, "CONFLICT")
    # The applicant's view of their application says so too.
    application = await cast.call(cast.seeker, "GET", f"/api/applications/{cast.application_id}")
    assert application.json()["job"]["status"] == "taken_down"

    again = await cast.call(
        cast.admin, "POST", f"/api/admin/jobs/{cast.job_id}/take-down", {"reason": "Scam"}
    )
    assert_error(again, 409, "CONFLICT")
    draft = (await cast.market.job(cast.employer, cast.company_id, status="draft"))["id"]
    not_public = await cast.call(
        cast.admin, "POST", f"/api/admin/jobs/{draft}/take-down", {"reason": "Scam"}
    )
    assert_error(not_public, 409, "CONFLICT")
    [entry] = await _audit(cast, action="job_taken_down")
    assert (entry["target_type"], entry["target_id"], entry["reason"]) == (
        "job",
        cast.job_id,
        "Scam",
    )


async def test_a_suspension_ends_sessions_on_every_instance_and_refuses_sign_in(
    start_app: Callable[[Settings], Any], settings: Settings
) -> None:
    one: FastAPI = await start_app(settings)
    other: FastAPI = await start_app(settings)
    async with make_client(one) as client, make_client(other) as second:
        cast = await make_cast(Market(one, client))
        login = await second.post(
            "/api/auth/login", json={"email": cast.seeker.email, "password": PASSWORD}
        )
        refresh_token = login.json()["refresh_token"]
        token = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await second.get("/api/auth/me", headers=token)).status_code == 200

        suspended = await cast.call(
            cast.admin, "POST", f"/api/admin/users/{cast.seeker.id}/suspend", {"reason": "Spam"}
        )
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["suspended"] is True

        # The other instance refuses the access tokens and the refresh token at once.
        assert_error(await second.get("/api/auth/me", headers=token), 401, "UNAUTHORIZED")
        assert_error(await second.get("/api/auth/me", headers=cast.seeker.headers), 401)
        refreshed = await second.post("/api/auth/refresh", json={"refresh_token": refresh_token})
        assert_error(refreshed, 401, "INVALID_REFRESH_TOKEN")
        credentials = {"email": cast.seeker.email, "password": PASSWORD}
        refused = await second.post("/api/auth/login", json=credentials)
        assert_error(refused, 403, "ACCOUNT_SUSPENDED")
        wrong = await second.post("/api/auth/login", json=credentials | {"password": "nope-nope"})
        assert_error(wrong, 401, "INVALID_CREDENTIALS")

        again = await cast.call(
            cast.admin, "POST", f"/api/admin/users/{cast.seeker.id}/suspend", {"reason": "Spam"}
        )
        assert_error(again, 409, "CONFLICT")
        admin = await cast.call(
            cast.admin, "POST", f"/api/admin/users/{cast.admin.id}/suspend", {"reason": "Oops"}
        )
        assert_error(admin, 409, "CONFLICT")

        restored = await cast.call(
            cast.admin, "POST", f"/api/admin/users/{cast.seeker.id}/restore", {"reason": "Appeal"}
        )
        assert restored.json() == {"id": cast.seeker.id, "suspended": False, "suspended_at": None}
        assert (await second.post("/api/auth/login", json=credentials)).status_code == 200
        restore_again = await cast.call(
            cast.admin, "POST", f"/api/admin/users/{cast.seeker.id}/restore", {"reason": "Again"}
        )
        assert_error(restore_again, 409, "CONFLICT")
        missing = await cast.call(
            cast.admin, "POST", "/api/admin/users/99999/suspend", {"reason": "Nobody"}
        )
        assert_error(missing, 404, "NOT_FOUND")

        entries = await _audit(cast, target_type="user", target_id=cast.seeker.id)
        assert [e["action"] for e in entries] == ["user_restored", "user_suspended"]


async def test_a_verified_company_carries_its_badge_onto_its_jobs(cast: Cast) -> None:
    client = cast.client
    listed = await client.get("/api/jobs")  # fills the list cache
    assert listed.json()["items"][0]["company"]["verified"] is False
    assert (await client.get(f"/api/companies/{cast.company_id}")).json()["verified"] is False

    verified = await cast.call(
        cast.admin,
        "POST",
        f"/api/admin/companies/{cast.company_id}/verify",
        {"reason": "Business licence checked"},
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True

    assert (await client.get(f"/api/companies/{cast.company_id}")).json()["verified"] is True
    assert (await client.get("/api/jobs")).json()["items"][0]["company"]["verified"] is True
    page = await client.get(f"/api/jobs/{cast.job_id}")
    assert page.json()["company"]["verified"] is True
    again = await cast.call(
        cast.admin, "POST", f"/api/admin/companies/{cast.company_id}/verify", {"reason": "Again"}
    )
    assert_error(again, 409, "CONFLICT")
    [entry] = await _audit(cast, action="company_verified")
    assert entry["target_id"] == cast.company_id


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 1001}, {"reason": "a\x00b"}])
async def test_admin_actions_need_a_reason(cast: Cast, body: dict[str, Any]) -> None:
    response = await cast.call(
        cast.admin, "POST", f"/api/admin/users/{cast.seeker.id}/suspend", body
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    assert (await cast.call(cast.seeker, "GET", "/api/auth/me")).status_code == 200
    assert await _audit(cast) == []


async def test_the_audit_log_pages_newest_first_and_refuses_changes_in_the_database(
    cast: Cast, database_url: str
) -> None:
    reports = [await cast.report() for _ in range(3)]
    for report_id in reports:
        await cast.ok(
            cast.admin, "POST", f"/api/admin/reports/{report_id}/resolve", {"reason": "Seen"}
        )
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await cast.call(cast.admin, "GET", "/api/admin/audit", **params)).json()
        seen += [e["target_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(reports))
    assert await _audit(cast, actor_id=cast.seeker.id) == []
    dsn = parse_database_url(database_url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        for statement in ("UPDATE audit_log SET reason = 'nothing'", "DELETE FROM audit_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE reason = 'Seen'") == 3
    finally:
        await conn.close()


async def test_a_rename_or_new_website_clears_the_verified_badge_and_says_so(cast: Cast) -> None:
    client = cast.client
    await cast.ok(
        cast.admin, "POST", f"/api/admin/companies/{cast.company_id}/verify", {"reason": "Licence"}
    )
    company_path = f"/api/companies/{cast.company_id}"
    kept = await cast.call(cast.employer, "PATCH", company_path, {"description": "We fish."})
    assert kept.json()["verified"] is True  # the badge does not vouch for the description
    listed = await client.get("/api/jobs")  # the caches now show the badge
    assert listed.json()["items"][0]["company"]["verified"] is True
    assert (await client.get(f"/api/jobs/{cast.job_id}")).json()["company"]["verified"] is True
    old_name = kept.json()["name"]

    renamed = await cast.call(
        cast.employer, "PATCH", company_path, {"name": "Central Bank of The Bahamas"}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["verified"] is False
    assert (await client.get(company_path)).json()["verified"] is False
    [summary] = (await client.get("/api/jobs")).json()["items"]
    assert summary["company"] == summary["company"] | {
        "name": "Central Bank of The Bahamas",
        "verified": False,
    }
    page = (await client.get(f"/api/jobs/{cast.job_id}")).json()
    assert page["company"]["verified"] is False
    [entry] = await _audit(cast, action="company_verification_cleared")
    assert (entry["target_type"], entry["target_id"]) == ("company", cast.company_id)
    assert entry["actor_id"] == cast.employer.id
    assert old_name in entry["reason"] and "Central Bank of The Bahamas" in entry["reason"]
    assert entry["request_id"] == renamed.headers["x-request-id"]

    # Verified again, a new website clears it too; the same name sent again does not.
    await cast.ok(
        cast.admin, "POST", f"/api/admin/companies/{cast.company_id}/verify", {"reason": "Again"}
    )
    same = await cast.call(
        cast.employer, "PATCH", company_path, {"name": "Central Bank of The Bahamas"}
    )
    assert same.json()["verified"] is True
    moved = await cast.call(
        cast.employer, "PATCH", company_path, {"website": "https://cbb-payments.example"}
    )
    assert moved.json()["verified"] is False
    entries = await _audit(cast, action="company_verification_cleared")
    assert len(entries) == 2 and "website" in entries[0]["reason"]


async def _findable(cast: Cast, seeker_id: int) -> bool:
    found = await cast.call(cast.employer2, "GET", "/api/candidates")
    assert found.status_code == 200, found.text
    return seeker_id in [c["id"] for c in found.json()["items"]]


async def test_a_suspension_hides_the_accounts_jobs_candidacy_and_profile_until_restored(
    cast: Cast,
) -> None:
    client = cast.client
    await cast.ok(cast.seeker2, "PATCH", "/api/users/me", {"visibility": "employers"})
    job2 = await cast.published()
    other_company = await cast.market.company(cast.employer2)
    other_job = (await cast.market.job(cast.employer2, other_company["id"]))["id"]
    everyone = {cast.job_id, job2, other_job}

    async def listed() -> set[int]:
        return {j["id"] for j in (await client.get("/api/jobs")).json()["items"]}

    async def shown() -> None:  # and fills the caches: list, page, stats, company filter
        assert await listed() == everyone
        assert (await client.get(f"/api/jobs/{cast.job_id}")).status_code == 200
        assert (await client.get("/api/stats")).json()["active_jobs"] == 3
        company_jobs = await client.get("/api/jobs", params={"company_id": cast.company_id})
        assert len(company_jobs.json()["items"]) == 2
        assert await _findable(cast, cast.seeker2.id)
        profile = await cast.call(cast.employer2, "GET", f"/api/users/{cast.seeker2.id}")
        assert profile.status_code == 200

    await shown()
    for account in (cast.employer, cast.seeker2):
        await cast.ok(
            cast.admin, "POST", f"/api/admin/users/{account.id}/suspend", {"reason": "Scam"}
        )

    assert await listed() == {other_job}
    assert (await client.get("/api/stats")).json()["active_jobs"] == 1
    company_jobs = await client.get("/api/jobs", params={"company_id": cast.company_id})
    assert company_jobs.json()["items"] == []
    for actor in (None, cast.seeker, cast.employer2):
        assert_error(await cast.call(actor, "GET", f"/api/jobs/{job2}"), 404, "NOT_FOUND")
    apply = await cast.call(cast.seeker, "POST", f"/api/jobs/{job2}/applications", {})
    assert_error(apply, 404, "NOT_FOUND")
    assert not await _findable(cast, cast.seeker2.id)
    profile = await cast.call(cast.employer2, "GET", f"/api/users/{cast.seeker2.id}")
    assert_error(profile, 404, "NOT_FOUND")
    invite = await cast.call(
        cast.employer2,
        "POST",
        f"/api/candidates/{cast.seeker2.id}/invitations",
        {"job_id": other_job},
    )
    assert_error(invite, 404, "NOT_FOUND")
    # Admins still see what they moderate.
    assert (await cast.call(cast.admin, "GET", f"/api/jobs/{job2}")).status_code == 200

    for account in (cast.employer, cast.seeker2):
        await cast.ok(
            cast.admin, "POST", f"/api/admin/users/{account.id}/restore", {"reason": "Appeal"}
        )
    await shown()
    applied = await cast.call(cast.seeker, "POST", f"/api/jobs/{job2}/applications", {})
    assert applied.status_code == 201, applied.text
