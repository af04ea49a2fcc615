"""GET /api/candidates and invitations: who may search, who can be found, what is shown."""

from __future__ import annotations

from typing import Any

from tests.support.factories import Actor, Market
from tests.support.helpers import assert_error


async def _seeker(market: Market, **profile: Any) -> Actor:
    seeker = await market.user()
    response = await market.client.patch("/api/users/me", json=profile, headers=seeker.headers)
    assert response.status_code == 200, response.text
    return seeker


async def _search(market: Market, employer: Actor, **params: Any) -> list[int]:
    response = await market.client.get("/api/candidates", params=params, headers=employer.headers)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


async def test_only_employers_search(market: Market) -> None:
    seeker = await market.user()
    assert_error(await market.client.get("/api/candidates"), 401)
    assert_error(await market.client.get("/api/candidates", headers=seeker.headers), 403)


async def test_visibility_decides_who_is_found_and_hidden_is_the_default(market: Market) -> None:
    employer = await market.user("employer")
    default = await _seeker(market, headline="Chef")
    public = await _seeker(market, headline="Chef", visibility="public")
    employers_only = await _seeker(market, headline="Chef", visibility="employers")
    await _seeker(market, headline="Chef", visibility="hidden")
    another_employer = await market.user("employer")
    await market.client.patch(
        "/api/users/me", json={"visibility": "public"}, headers=another_employer.headers
    )

    assert await _search(market, employer) == [employers_only.id, public.id]
    me = (await market.client.get("/api/users/me", headers=default.headers)).json()
    assert me["visibility"] == "hidden"


async def test_filters_full_text_and_pages(market: Market) -> None:
    employer = await market.user("employer")
    nassau_chef = await _seeker(
        market,
        headline="Sous chef",
        bio="Bahamian cuisine, conch and grouper.",
        skills=["Cooking", "Food safety"],
        island="New Providence",
        years_experience=8,
        visibility="public",
    )
    exuma_chef = await _seeker(
        market,
        headline="Line cook",
        skills=["cooking"],
        island="Exuma",
        years_experience=2,
        visibility="employers",
    )
    teller = await _seeker(
        market,
        headline="Bank teller",
        bio="Cash handling at a Nassau branch.",
        skills=["Cash handling"],
        island="New Providence",
        years_experience=3,
        visibility="public",
    )

    assert await _search(market, employer, skills="Cooking") == [exuma_chef.id, nassau_chef.id]
    assert await _search(market, employer, skills="COOKING", island="Exuma") == [exuma_chef.id]
    assert await _search(market, employer, island="New Providence", min_years=5) == [nassau_chef.id]
    assert await _search(market, employer, q="grouper") == [nassau_chef.id]
    assert set(await _search(market, employer, q="teller OR line")) == {exuma_chef.id, teller.id}
    # Stemmed like the jobs' search: "cook" finds "Cooking" and "Line cook".
    assert set(await _search(market, employer, q="cook")) == {exuma_chef.id, nassau_chef.id}
    both = await market.client.get(
        "/api/candidates?skills=cooking&skills=food%20safety", headers=employer.headers
    )
    assert [c["id"] for c in both.json()["items"]] == [nassau_chef.id]

    first = await market.client.get(
        "/api/candidates", params={"limit": 2}, headers=employer.headers
    )
    page = first.json()
    assert first.status_code == 200, first.text
    assert [c["id"] for c in page["items"]] == [teller.id, exuma_chef.id]
    rest = await market.client.get(
        "/api/candidates",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=employer.headers,
    )
    assert [c["id"] for c in rest.json()["items"]] == [nassau_chef.id]
    assert rest.json()["next_cursor"] is None

    for bad in ({"min_years": 71}, {"island": "Atlantis"}, {"q": "x" * 201}, {"cursor": "nope"}):
        response = await market.client.get("/api/candidates", params=bad, headers=employer.headers)
        assert_error(response, 422)
    # Past 30 NOTs in a row PostgreSQL fails the search ("tsquery stack too small"): a 500 before.
    for q in ("-" * 33, "- " * 33, "-(" * 33):
        response = await market.client.get(
            "/api/candidates", params={"q": q}, headers=employer.headers
        )
        body = assert_error(response, 422, "VALIDATION_ERROR")
        assert body["details"][0]["loc"] == ["query", "q"]
    assert await _search(market, employer, q="-" * 30 + "zzz") == []


async def test_results_show_public_fields_only(market: Market) -> None:
    employer = await market.user("employer")
    await _seeker(market, headline="Nurse", phone="+1 242 555 0100", visibility="public")
    item = (await market.client.get("/api/candidates", headers=employer.headers)).json()["items"][0]
    assert "email" not in item and "phone" not in item
    assert item["contact"] is None


async def test_searches_are_rate_limited_per_employer(market: Market, redis) -> None:
    employer, other = await market.user("employer"), await market.user("employer")
    statuses = [
        (await market.client.get("/api/candidates", headers=employer.headers)).status_code
        for _ in range(31)
    ]
    assert statuses[:30] == [200] * 30
    limited = await market.client.get("/api/candidates", headers=employer.headers)
    assert_error(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) >= 1
    assert (await market.client.get("/api/candidates", headers=other.headers)).status_code == 200
    assert await redis.keys("hmb:ratelimit*")


async def test_an_employer_invites_a_findable_candidate_to_a_live_job(market: Market) -> None:
    employer, stranger = await market.user("employer"), await market.user("employer")
    company = await market.company(employer)
    job = await market.job(employer, company["id"], title="Pastry Chef")
    draft = await market.job(employer, company["id"], status="draft")
    strangers_job = await market.job(stranger, (await market.company(stranger))["id"])
    candidate = await _seeker(market, headline="Baker", visibility="employers")
    hidden = await _seeker(market, headline="Baker")
    url = f"/api/candidates/{candidate.id}/invitations"

    invited = await market.client.post(
        url, json={"job_id": job["id"], "message": "Come and bake."}, headers=employer.headers
    )

    assert invited.status_code == 201, invited.text
    assert invited.json()["job_id"] == job["id"]
    notes = (await market.client.get("/api/notifications", headers=candidate.headers)).json()
    assert [(n["kind"], n["job_id"]) for n in notes["items"]] == [("candidate_invited", job["id"])]
    assert "Pastry Chef" in notes["items"][0]["body"]

    again = await market.client.post(url, json={"job_id": job["id"]}, headers=employer.headers)
    assert_error(again, 409)
    assert_error(
        await market.client.post(url, json={"job_id": draft["id"]}, headers=employer.headers), 409
    )
    assert_error(
        await market.client.post(
            url, json={"job_id": strangers_job["id"]}, headers=employer.headers
        ),
        404,
    )
    assert_error(
        await market.client.post(
            f"/api/candidates/{hidden.id}/invitations",
            json={"job_id": job["id"]},
            headers=employer.headers,
        ),
        404,
    )
    assert_error(
        await market.client.post(url, json={"job_id": job["id"]}, headers=candidate.headers), 403
    )
    hidden_notes = (await market.client.get("/api/notifications", headers=hidden.headers)).json()
    assert hidden_notes["items"] == []
