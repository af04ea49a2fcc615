"""GET /api/jobs/{job_id}/candidate-matches: who appears, in what order, what is shown, and
that everyone but the job's owner gets a 404."""

from __future__ import annotations

from tests.matching.world import (
    Employer,
    candidate_matches_url,
    matched_candidates,
    seeker,
)
from tests.support.factories import PASSWORD, Market
from tests.support.helpers import assert_error

FINDABLE = {"visibility": "public", "open_to_work": True}
BOTH = ["Welding", "Pipefitting"]


async def test_findable_seekers_open_to_work_in_order_with_no_contact_details(
    market: Market,
) -> None:
    boss = await Employer.create(market)
    job = await boss.job(skills=BOTH, island="Abaco", category="construction_trades")
    phone = "+1 242 555 0100"
    here = await seeker(market, island="Abaco", skills=BOTH, phone=phone, **FINDABLE)
    moving = await seeker(
        market,
        island="Exuma",
        skills=["welding", "pipefitting"],
        relocation_islands=["Abaco"],
        phone=phone,
        visibility="employers",
        open_to_work=True,
    )
    far = await seeker(market, island="Inagua", skills=BOTH, **FINDABLE)
    one_skill = await seeker(
        market,
        island="Abaco",
        skills=["Welding"],
        preferred_categories=["construction_trades"],
        **FINDABLE,
    )
    no_skill = await seeker(market, island="Abaco", skills=["Cooking"], **FINDABLE)
    hidden = await seeker(market, island="Abaco", skills=BOTH, open_to_work=True)
    not_looking = await seeker(market, island="Abaco", skills=BOTH, visibility="public")
    suspended = await seeker(market, island="Abaco", skills=BOTH, **FINDABLE)
    deleted = await seeker(market, island="Abaco", skills=BOTH, **FINDABLE)
    admin = await market.admin()
    response = await market.client.post(
        f"/api/admin/users/{suspended.id}/suspend",
        json={"reason": "Confirmed scam after three reports."},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    response = await market.client.request(
        "DELETE", "/api/users/me", json={"password": PASSWORD}, headers=deleted.headers
    )
    assert response.status_code == 204, response.text
    # Applying to the job does not bring contact details into this list.
    response = await market.client.post(
        f"/api/jobs/{job}/applications", json={}, headers=here.headers
    )
    assert response.status_code == 201, response.text

    response = await market.client.get(candidate_matches_url(job), headers=boss.actor.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    items = response.json()["items"]
    assert [c["id"] for c in items] == [here.id, moving.id, far.id, one_skill.id, no_skill.id]
    for left_out in (hidden, not_looking, suspended, deleted):
        assert left_out.id not in {c["id"] for c in items}
    for candidate in items:
        assert candidate["contact"] is None
        assert "email" not in candidate and "phone" not in candidate
    for actor in (here, moving, far, one_skill, no_skill):
        assert actor.email not in response.text
    assert phone not in response.text
    reasons = {c["id"]: c["match"]["reasons"] for c in items}
    assert reasons[here.id] == [
        {"kind": "skills", "text": "has 2 of the job's skills: Pipefitting, Welding"},
        {"kind": "place", "text": "lives on the job's island, Abaco"},
    ]
    assert reasons[moving.id][1] == {"kind": "place", "text": "would move to Abaco"}
    assert reasons[one_skill.id] == [
        {"kind": "skills", "text": "has 1 of the job's skills: Welding"},
        {"kind": "place", "text": "lives on the job's island, Abaco"},
        {"kind": "category", "text": "looks for work in construction trades"},
    ]
    scores = [c["match"]["score"] for c in items]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)


async def test_a_rare_skill_of_the_job_counts_more_than_a_common_one(market: Market) -> None:
    boss = await Employer.create(market)
    job = await boss.job(skills=["Welding", "Hyperbaric welding"], island="Abaco")
    rare = await seeker(market, island="Abaco", skills=["hyperbaric welding"], **FINDABLE)
    common = await seeker(market, island="Abaco", skills=["Welding"], **FINDABLE)
    for _ in range(3):
        await seeker(market, island="Bimini", skills=["Welding", "Rigging"], **FINDABLE)

    ids = [c["id"] for c in await matched_candidates(market, boss.actor, job)]

    assert ids[:2] == [rare.id, common.id]


async def test_pages_have_no_duplicates_and_no_gaps(market: Market) -> None:
    boss = await Employer.create(market)
    job = await boss.job(skills=["Welding", "Rigging"], island="Abaco")
    for i in range(7):
        skills = [["Welding"], ["Rigging"], ["Welding", "Rigging"], []][i % 4]
        await seeker(market, island=["Abaco", "Exuma"][i % 2], skills=skills, **FINDABLE)

    whole = [c["id"] for c in await matched_candidates(market, boss.actor, job)]
    assert len(whole) == 7
    for limit in (1, 2, 3):
        page = await matched_candidates(market, boss.actor, job, limit=limit)
        assert [c["id"] for c in page] == whole


async def test_everyone_but_the_jobs_owner_gets_a_404(market: Market) -> None:
    boss = await Employer.create(market)
    job = await boss.job(skills=["Welding"])
    draft = await boss.job(skills=["Welding"], status="draft")
    rival = await market.user("employer")
    me = await seeker(market, skills=["Welding"], **FINDABLE)
    admin = await market.admin()
    url = candidate_matches_url(job)
    assert_error(await market.client.get(url), 404, "NOT_FOUND")
    for caller in (rival, me, admin):
        assert_error(await market.client.get(url, headers=caller.headers), 404, "NOT_FOUND")
    unknown = candidate_matches_url(999_999)
    assert_error(await market.client.get(unknown, headers=boss.actor.headers), 404)
    # The owner's own draft can already look for people; a deleted job cannot.
    owner_reads = await market.client.get(candidate_matches_url(draft), headers=boss.actor.headers)
    assert [c["id"] for c in owner_reads.json()["items"]] == [me.id]
    await market.client.delete(f"/api/jobs/{draft}", headers=boss.actor.headers)
    response = await market.client.get(candidate_matches_url(draft), headers=boss.actor.headers)
    assert_error(response, 404)
    bad = await market.client.get(url, params={"cursor": "%%%"}, headers=boss.actor.headers)
    assert_error(bad, 422, "VALIDATION_ERROR")
    assert_error(await market.client.get(candidate_matches_url(0)), 422)


async def test_seekers_sharing_no_skill_follow_by_place_on_every_page_size(
    market: Market,
) -> None:
    """Seekers sharing a skill are scored first, then those on the job's island, then the
    rest, each only when a page needs them; the order is the same on every page size."""
    boss = await Employer.create(market)
    job = await boss.job(skills=["Welding"], island="Abaco")
    # Oldest first: were place ignored, the newest would lead.
    sharing = await seeker(market, island="Inagua", skills=["welding"], **FINDABLE)
    here_old = await seeker(market, island="Abaco", skills=["Cooking"], **FINDABLE)
    here_new = await seeker(market, island="Abaco", **FINDABLE)
    moving = await seeker(
        market, island="Exuma", skills=["Cooking"], relocation_islands=["Abaco"], **FINDABLE
    )
    elsewhere = await seeker(market, island="Exuma", skills=["Cooking"], **FINDABLE)
    nowhere = await seeker(market, skills=["Cooking"], **FINDABLE)

    expected = [sharing.id, here_new.id, here_old.id, moving.id, nowhere.id, elsewhere.id]
    for limit in (1, 2, 3, 100):
        page = await matched_candidates(market, boss.actor, job, limit=limit)
        assert [c["id"] for c in page] == expected


async def test_a_job_of_yours_with_nobody_to_match_is_an_empty_page(market: Market) -> None:
    boss = await Employer.create(market)
    job = await boss.job(skills=["Welding"])
    await seeker(market, skills=["Welding"], open_to_work=True)  # hidden: never a candidate

    response = await market.client.get(candidate_matches_url(job), headers=boss.actor.headers)

    assert response.status_code == 200, response.text
    assert response.json()["items"] == [] and response.json()["next_cursor"] is None
