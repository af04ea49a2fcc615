"""GET /api/users/me/job-matches and dismissals: the order DESIGN 3c promises, each ordering rule
on its own, what stays out, paging, and who may ask."""

from __future__ import annotations

import base64

import orjson

from tests.matching.world import (
    JOB_MATCHES,
    Employer,
    job_matches,
    matched_job_ids,
    matched_jobs,
    seeker,
)
from tests.support.factories import Market
from tests.support.helpers import assert_error

BOTH = ["Welding", "Pipefitting"]


async def test_the_world_of_the_issue_comes_in_the_promised_order(market: Market) -> None:
    me = await seeker(market, island="Abaco", skills=["welding", "PIPEFITTING"])
    boss = await Employer.create(market)
    both_abaco = await boss.job(skills=BOTH, island="Abaco")
    both_elsewhere = await boss.job(skills=BOTH, island="Exuma", work_mode="on_site")
    both_remote = await boss.job(skills=BOTH, island="New Providence", work_mode="remote")
    one_abaco = await boss.job(skills=["Welding"], island="Abaco")
    none_abaco = await boss.job(skills=["Bartending"], island="Abaco")
    draft = await boss.job(skills=BOTH, island="Abaco", status="draft")

    items = await matched_jobs(market, me)

    ids = [item["id"] for item in items]
    assert ids == [both_abaco, both_remote, both_elsewhere, one_abaco, none_abaco]
    assert draft not in ids
    scores = [item["match"]["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores) and scores[0] == 100
    reasons = {item["id"]: item["match"]["reasons"] for item in items}
    assert reasons[both_abaco] == [
        {"kind": "skills", "text": "2 of your skills: PIPEFITTING, welding"},
        {"kind": "place", "text": "on your island, Abaco"},
    ]
    assert reasons[both_remote][1] == {"kind": "place", "text": "remote"}
    assert [r["kind"] for r in reasons[both_elsewhere]] == ["skills"]
    assert reasons[one_abaco][0] == {"kind": "skills", "text": "1 of your skills: welding"}
    assert reasons[none_abaco] == [{"kind": "place", "text": "on your island, Abaco"}]
    # Each item is the job list's summary, plus the match.
    listed = (await market.client.get("/api/jobs", params={"limit": 100})).json()["items"]
    summary = next(job for job in listed if job["id"] == both_abaco)
    assert items[0] == summary | {"match": items[0]["match"]}


async def test_a_shared_skill_beats_none_even_on_the_seekers_island(market: Market) -> None:
    me = await seeker(market, island="Abaco", skills=["Welding"])
    boss = await Employer.create(market)
    skill_far_away = await boss.job(skills=["welding"], island="Inagua", work_mode="on_site")
    no_skill_here = await boss.job(skills=["Cooking"], island="Abaco")

    assert await matched_job_ids(market, me) == [skill_far_away, no_skill_here]


async def test_place_own_island_then_one_they_would_move_to_then_remote_then_elsewhere(
    market: Market,
) -> None:
    me = await seeker(market, island="Abaco", skills=BOTH, relocation_islands=["Exuma"])
    boss = await Employer.create(market)
    # Oldest first: were place ignored, the newest would lead.
    own = await boss.job(skills=BOTH, island="Abaco", work_mode="hybrid")
    moving = await boss.job(skills=BOTH, island="Exuma", work_mode="on_site")
    remote = await boss.job(skills=BOTH, island="Eleuthera", work_mode="remote")
    elsewhere = await boss.job(skills=BOTH, island="Eleuthera", work_mode="on_site")

    items = await matched_jobs(market, me)

    assert [item["id"] for item in items] == [own, moving, remote, elsewhere]
    assert items[1]["match"]["reasons"][1] == {
        "kind": "place",
        "text": "on Exuma, an island you would move to",
    }


async def test_an_on_site_job_on_another_island_never_outranks_remote_work(
    market: Market,
) -> None:
    # Even when the on-site job meets every preference and the remote one none.
    me = await seeker(
        market,
        island="Abaco",
        skills=BOTH,
        preferred_categories=["construction_trades"],
        preferred_work_modes=["on_site"],
        min_pay={"amount": 10, "period": "hour"},
    )
    boss = await Employer.create(market)
    remote = await boss.job(skills=BOTH, island="Grand Bahama", work_mode="remote")
    on_site = await boss.job(
        skills=BOTH,
        island="Grand Bahama",
        work_mode="on_site",
        category="construction_trades",
        salary_max=90000,
    )

    assert await matched_job_ids(market, me) == [remote, on_site]


async def test_a_rare_skill_counts_more_than_a_common_one(market: Market) -> None:
    me = await seeker(market, island="Abaco", skills=["Welding", "Hyperbaric welding"])
    boss = await Employer.create(market)
    rare = await boss.job(skills=["Hyperbaric Welding"], island="Abaco")
    common = await boss.job(skills=["Welding"], island="Abaco")
    # Welding is everywhere; what makes it common is other live jobs listing it.
    others = [await boss.job(skills=["welding", "Rigging"], island="Bimini") for _ in range(4)]

    ids = await matched_job_ids(market, me)

    assert ids.index(rare) < ids.index(common)
    assert set(ids) == {rare, common, *others}


async def test_preferences_break_ties_of_skills_and_place(market: Market) -> None:
    me = await seeker(
        market,
        island="Abaco",
        skills=["Welding"],
        preferred_categories=["construction_trades"],
        preferred_employment_types=["contract"],
        min_pay={"amount": "20", "period": "hour"},
    )
    boss = await Employer.create(market)
    # Oldest first: were preferences ignored, the newest would lead.
    category = await boss.job(skills=["Welding"], island="Abaco", category="construction_trades")
    # 20 an hour is 41,600 a year: 50,000 a year pays enough, 40,000 does not.
    pays = await boss.job(
        skills=["Welding"], island="Abaco", salary_max=50000, salary_period="year"
    )
    contract = await boss.job(skills=["Welding"], island="Abaco", employment_type="contract")
    nothing = await boss.job(skills=["Welding"], island="Abaco")
    pays_too_little = await boss.job(
        skills=["Welding"], island="Abaco", salary_max=40000, salary_period="year"
    )

    items = await matched_jobs(market, me)

    # Category (4) > pay (3) > employment type (2) > nothing; pay below the ask earns nothing.
    ids = [item["id"] for item in items]
    assert ids[:3] == [category, pays, contract]
    assert set(ids[3:]) == {nothing, pays_too_little}
    reasons = {item["id"]: item["match"]["reasons"][2:] for item in items}
    assert reasons[pays] == [{"kind": "pay", "text": "pays at least what you asked"}]
    assert reasons[category] == [
        {"kind": "category", "text": "in construction trades, a field you chose"}
    ]
    assert reasons[contract] == [{"kind": "employment_type", "text": "contract, as you asked"}]
    assert reasons[pays_too_little] == []


async def test_then_the_words_of_the_profile_then_the_newest(market: Market) -> None:
    me = await seeker(market, island="Abaco", skills=["Welding"], headline="Marine mechanic")
    boss = await Employer.create(market)
    older = await boss.job(title="Site worker", skills=["Welding"], island="Abaco")
    newer = await boss.job(title="Site worker", skills=["Welding"], island="Abaco")
    words = await boss.job(title="Marine mechanic", skills=["Welding"], island="Abaco")
    for job_id, days in ((older, 3), (words, 5)):  # the words beat freshness
        await market.sql(
            "UPDATE jobs SET published_at = now() - make_interval(days => :days) WHERE id = :id",
            days=days,
            id=job_id,
        )

    assert await matched_job_ids(market, me) == [words, newer, older]


async def test_only_live_listed_jobs(market: Market) -> None:
    me = await seeker(market, island="Abaco", skills=["Welding"])
    boss = await Employer.create(market)
    live = await boss.job(skills=["Welding"], island="Abaco")
    closed = await boss.job(skills=["Welding"], island="Abaco")
    expired = await boss.job(skills=["Welding"], island="Abaco")
    taken_down = await boss.job(skills=["Welding"], island="Abaco")
    deleted = await boss.job(skills=["Welding"], island="Abaco")
    headers = boss.actor.headers
    assert (await market.client.post(f"/api/jobs/{closed}/close", headers=headers)).is_success
    assert (await market.client.delete(f"/api/jobs/{deleted}", headers=headers)).is_success
    await market.expire(expired)
    await market.sql("UPDATE jobs SET status = 'taken_down' WHERE id = :id", id=taken_down)
    suspended = await Employer.create(market)
    hidden = await suspended.job(skills=["Welding"], island="Abaco")
    await market.sql("UPDATE jobs SET owner_suspended = true WHERE id = :id", id=hidden)

    assert await matched_job_ids(market, me) == [live]


async def test_applying_or_dismissing_takes_a_job_out(market: Market) -> None:
    me = await seeker(market, island="Abaco", skills=["Welding"])
    boss = await Employer.create(market)
    applied, dismissed, kept = [await boss.job(skills=["Welding"]) for _ in range(3)]
    response = await market.client.post(
        f"/api/jobs/{applied}/applications", json={}, headers=me.headers
    )
    assert response.status_code == 201, response.text
    for _ in range(2):  # idempotent
        response = await market.client.post(
            f"{JOB_MATCHES}/{dismissed}/dismiss", headers=me.headers
        )
        assert response.status_code == 204, response.text

    assert await matched_job_ids(market, me) == [kept]
    rows = await market.sql("SELECT user_id, job_id FROM job_dismissals")
    assert [tuple(row) for row in rows] == [(me.id, dismissed)]
    # Someone else still sees both.
    other = await seeker(market, skills=["Welding"])
    assert set(await matched_job_ids(market, other)) == {applied, dismissed, kept}


async def test_dismissing_needs_a_live_job_and_a_job_seeker(market: Market) -> None:
    me = await seeker(market)
    boss = await Employer.create(market)
    draft = await boss.job(status="draft")
    live = await boss.job()
    for job_id in (draft, 999_999):
        response = await market.client.post(f"{JOB_MATCHES}/{job_id}/dismiss", headers=me.headers)
        assert_error(response, 404, "NOT_FOUND")
    url = f"{JOB_MATCHES}/{live}/dismiss"
    assert_error(await market.client.post(url, headers=boss.actor.headers), 403)
    assert_error(await market.client.post(url), 401)
    assert_error(await market.client.post(f"{JOB_MATCHES}/0/dismiss", headers=me.headers), 422)
    assert await market.sql("SELECT * FROM job_dismissals") == []


async def test_pages_have_no_duplicates_and_no_gaps(market: Market) -> None:
    me = await seeker(market, island="Abaco", skills=["Welding", "Rigging"])
    boss = await Employer.create(market)
    for i in range(7):
        skills = [["Welding"], ["Rigging"], ["Welding", "Rigging"], []][i % 4]
        await boss.job(skills=skills, island=["Abaco", "Exuma"][i % 2])
    # Three equal jobs: the order among them is the newest, then the id.
    for _ in range(3):
        await boss.job(skills=["Welding"], island="Abaco")

    whole = await matched_job_ids(market, me, limit=100)
    assert len(whole) == 10
    for limit in (1, 2, 3, 4):
        assert await matched_job_ids(market, me, limit=limit) == whole


async def test_jobs_sharing_no_skill_follow_on_every_page_size(market: Market) -> None:
    """The jobs sharing a skill are scored first and the others only when a page needs them:
    they still follow on the page where the first run out, and what is left out (dismissed,
    applied to) never makes a page end early."""
    me = await seeker(market, island="Abaco", skills=["Welding"])
    boss = await Employer.create(market)
    sharing = [
        await boss.job(skills=["WELDING"], island="Exuma", work_mode="on_site") for _ in range(4)
    ]
    here, elsewhere = [
        await boss.job(skills=["Cooking"], island=island, work_mode="on_site")
        for island in ("Abaco", "Exuma")
    ]
    response = await market.client.post(f"{JOB_MATCHES}/{sharing[0]}/dismiss", headers=me.headers)
    assert response.status_code == 204, response.text
    response = await market.client.post(
        f"/api/jobs/{sharing[1]}/applications", json={}, headers=me.headers
    )
    assert response.status_code == 201, response.text

    expected = [sharing[3], sharing[2], here, elsewhere]
    for limit in (1, 2, 3, 4, 100):
        assert await matched_job_ids(market, me, limit=limit) == expected


async def test_only_job_seekers_and_good_input(market: Market) -> None:
    employer = await market.user("employer")
    me = await seeker(market)
    assert_error(await market.client.get(JOB_MATCHES), 401)
    assert_error(await job_matches(market, employer), 403)
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "not-a-cursor"}):
        assert_error(await job_matches(market, me, **params), 422, "VALIDATION_ERROR")
    # Another list's cursor, and this list's with a key out of range, are refused too.
    other = base64.urlsafe_b64encode(orjson.dumps(["jobs:newest", ["2026-01-01T00:00:00Z", 5]]))
    forged = base64.urlsafe_b64encode(
        orjson.dumps(["matches:jobs", [10**15, "2026-01-01T00:00:00+00:00", 5]])
    )
    for cursor in (other, forged):
        response = await job_matches(market, me, cursor=cursor.decode().rstrip("="))
        assert_error(response, 422, "VALIDATION_ERROR")
    response = await job_matches(market, me)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    assert response.headers["cache-control"] == "no-store"


async def test_a_seeker_with_no_skills_gets_every_live_job_by_place_on_every_page_size(
    market: Market,
) -> None:
    """Jobs on the seeker's island are scored before the others, and the others only when a
    page needs them: the order is still place (own island, an island they would move to,
    remote, elsewhere), then preferences, then the newest, across page boundaries."""
    me = await seeker(
        market,
        island="Abaco",
        relocation_islands=["Exuma"],
        preferred_categories=["construction_trades"],
    )
    boss = await Employer.create(market)
    # Oldest first: were place ignored, the newest would lead.
    own_old = await boss.job(skills=["Cooking"], island="Abaco", work_mode="on_site")
    own_chosen = await boss.job(
        skills=["Welding"], island="Abaco", work_mode="on_site", category="construction_trades"
    )
    own_new = await boss.job(island="Abaco", work_mode="hybrid")
    moving = await boss.job(skills=["Cooking"], island="Exuma", work_mode="on_site")
    remote = await boss.job(skills=["Cooking"], island="Eleuthera", work_mode="remote")
    elsewhere = await boss.job(skills=["Cooking"], island="Eleuthera", work_mode="on_site")

    expected = [own_chosen, own_new, own_old, moving, remote, elsewhere]
    for limit in (1, 2, 3, 4, 100):
        assert await matched_job_ids(market, me, limit=limit) == expected
    # With no island, remote work leads what is left.
    response = await market.client.patch("/api/users/me", json={"island": None}, headers=me.headers)
    assert response.status_code == 200, response.text
    assert (await matched_job_ids(market, me, limit=2))[:2] == [moving, remote]
