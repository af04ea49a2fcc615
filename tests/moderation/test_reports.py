"""POST /api/reports: what may be reported, by whom, how often, and with what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.moderation.world import Cast
from tests.support.helpers import assert_error


async def _reports(cast: Cast) -> int:
    [[n]] = await cast.market.sql("SELECT count(*) FROM reports")
    return n


async def test_every_kind_of_target_can_be_reported_once_while_open(cast: Cast) -> None:
    targets = {
        "job": cast.job_id,
        "company": cast.company_id,
        "user": cast.employer.id,
        "message": cast.message_id,
    }
    for target_type, target_id in targets.items():
        body = {
            "target_type": target_type,
            "target_id": target_id,
            "reason": "scam",
            "details": "  Asked me to pay a fee.  ",
        }
        created = await cast.call(cast.seeker, "POST", "/api/reports", body)
        assert created.status_code == 201, created.text
        report = created.json()
        assert report["status"] == "open"
        assert report["reporter_id"] == cast.seeker.id
        assert report["details"] == "Asked me to pay a fee."
        assert_error(await cast.call(cast.seeker, "POST", "/api/reports", body), 409, "CONFLICT")
        # Someone else may report the same thing.
        if target_type != "message":
            again = await cast.call(cast.seeker2, "POST", "/api/reports", body)
            assert again.status_code == 201, again.text
    assert await _reports(cast) == 7

    # Once resolved, the same reporter may report the same target again.
    [[report_id]] = await cast.market.sql(
        "SELECT id FROM reports WHERE reporter_id = :r AND target_type = 'job'", r=cast.seeker.id
    )
    await cast.ok(
        cast.admin, "POST", f"/api/admin/reports/{report_id}/resolve", {"reason": "Looked at it"}
    )
    body = {"target_type": "job", "target_id": cast.job_id, "reason": "misleading"}
    assert (await cast.call(cast.seeker, "POST", "/api/reports", body)).status_code == 201


async def test_only_what_the_reporter_can_see_can_be_reported(cast: Cast) -> None:
    draft = (await cast.market.job(cast.employer, cast.company_id, status="draft"))["id"]
    hidden = [
        ("job", draft),
        ("job", 99999),
        ("company", 99999),
        ("user", 99999),
        # Somebody else's conversation.
        ("message", cast.message_id),
        ("message", 99999),
    ]
    for target_type, target_id in hidden:
        body = {"target_type": target_type, "target_id": target_id, "reason": "spam"}
        assert_error(await cast.call(cast.seeker2, "POST", "/api/reports", body), 404, "NOT_FOUND")
    # Nor can an admin see into a thread through a report.
    body = {"target_type": "message", "target_id": cast.message_id, "reason": "spam"}
    assert_error(await cast.call(cast.admin, "POST", "/api/reports", body), 404, "NOT_FOUND")
    # The other participant can report it.
    assert (await cast.call(cast.employer, "POST", "/api/reports", body)).status_code == 201
    # A deleted account is gone.
    await cast.market.sql(
        "UPDATE users SET deleted_at = now(), is_active = false WHERE id = :id", id=cast.seeker2.id
    )
    body = {"target_type": "user", "target_id": cast.seeker2.id, "reason": "spam"}
    assert_error(await cast.call(cast.seeker, "POST", "/api/reports", body), 404, "NOT_FOUND")
    assert await _reports(cast) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"target_type": "post"},
        {"target_type": None},
        {"target_id": 0},
        {"target_id": 2**63},
        {"target_id": "one"},
        {"reason": "boring"},
        {"details": "x" * 2001},
        {"details": "bell \x07"},
        {"reporter_id": 1},
        {"status": "resolved"},
    ],
    ids=lambda change: next(iter(change)) + "=" + repr(next(iter(change.values())))[:12],
)
async def test_bad_reports_are_a_422_and_nothing_is_stored(
    cast: Cast, change: dict[str, Any]
) -> None:
    body = {"target_type": "job", "target_id": cast.job_id, "reason": "spam"} | change
    assert_error(
        await cast.call(cast.seeker, "POST", "/api/reports", body), 422, "VALIDATION_ERROR"
    )
    assert await _reports(cast) == 0


async def test_reporting_yourself_is_a_422(cast: Cast) -> None:
    body = {"target_type": "user", "target_id": cast.seeker.id, "reason": "other"}
    assert_error(await cast.call(cast.seeker, "POST", "/api/reports", body), 422)
    assert await _reports(cast) == 0
