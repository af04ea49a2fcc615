"""GET /api/jobs: full-text search, every filter, every sort, keyset pages under inserts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import Market
from tests.support.helpers import assert_error


async def ids(market: Market, **params: Any) -> list[int]:
    response = await market.client.get("/api/jobs", params=params)
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["items"]]


@pytest.fixture
async def catalogue(market: Market) -> dict[str, int]:
    """Four jobs that mention 'compliance' in a different field each, and one that does not."""
    employer = await market.user("employer")
    bank = (await market.company(employer, name="Lucayan Bank"))["id"]
    consultancy = (await market.company(employer, name="Coral Compliance Consulting"))["id"]
    make = market.job
    jobs = {
        "title": await make(
            employer, bank, title="Compliance Officer", skills=["aml", "kyc"],
            category="accounting_finance", salary_min=50000, salary_max=90000,
        ),
        "skills": await make(
            employer, bank, title="Trust Administrator", skills=["compliance", "trusts"],
            category="accounting_finance", location="Freeport", island="Grand Bahama",
            employment_type="contract", work_mode="hybrid", salary_min=40000, salary_max=60000,
        ),
        "company": await make(
            employer, consultancy, title="Receptionist", category="administration",
            employment_type="part_time", salary_max=30000,
        ),
        "description": await make(
            employer, bank, title="Bank Teller", category="customer_service",
            description="Serve customers at the counter, in line with compliance rules.",
            location="Marsh Harbour", island="Abaco", work_mode="remote",
        ),
        "unrelated": await make(
            employer, bank, title="Line Cook", category="food_beverage",
            description="Cook conch fritters and cracked lobster for a busy Bay Street kitchen.",
            salary_min=12, salary_max=18, salary_period="hour",
        ),
    }  # fmt: skip
    return {k: v["id"] for k, v in jobs.items()}


async def test_relevance_weights_title_then_skills_then_company_then_description(
    market: Market, catalogue: dict[str, int]
) -> None:
    found = await ids(market, q="compliance")
    assert found == [catalogue[k] for k in ("title", "skills", "company", "description")]


async def test_natural_queries_use_websearch_syntax(
    market: Market, catalogue: dict[str, int]
) -> None:
    assert await ids(market, q="compliance -teller", sort="newest") == [
        catalogue[k] for k in ("company", "skills", "title")
    ]
    assert await ids(market, q='"cracked lobster"') == [catalogue["unrelated"]]
    assert await ids(market, q="conch OR kyc") == [catalogue["title"], catalogue["unrelated"]] or (
        await ids(market, q="conch OR kyc")
    ) == [catalogue["unrelated"], catalogue["title"]]


async def test_words_that_match_nothing_give_an_empty_list(
    market: Market, catalogue: dict[str, int]
) -> None:
    response = await market.client.get("/api/jobs", params={"q": "xylophone zeppelin"})
    assert response.json() == {"items": [], "next_cursor": None}
    assert await ids(market, q="the and of") == []  # only stop words


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"island": "Grand Bahama"}, ["skills"]),
        ({"location": "marsh"}, ["description"]),
        ({"location": "Nassau"}, ["unrelated", "company", "title"]),
        ({"category": "accounting_finance"}, ["skills", "title"]),
        ({"employment_type": "contract"}, ["skills"]),
        ({"work_mode": "remote"}, ["description"]),
        ({"salary_min": 55000}, ["skills", "title"]),  # ranges overlapping [55000, ...)
        ({"salary_max": 45000}, ["unrelated", "company", "skills"]),
        ({"salary_min": 35000, "salary_max": 45000}, ["skills"]),
        ({"posted_within_days": 1}, ["unrelated", "description", "company", "skills", "title"]),
        ({"q": "compliance", "island": "New Providence"}, ["title", "company"]),
    ],
)
async def test_each_filter(
    market: Market, catalogue: dict[str, int], params: dict[str, Any], expected: list[str]
) -> None:
    assert await ids(market, **params) == [catalogue[k] for k in expected]


async def test_company_filter_and_posted_within_days(
    market: Market, catalogue: dict[str, int]
) -> None:
    [[company_id]] = await market.sql(
        "SELECT company_id FROM jobs WHERE id = :j", j=catalogue["company"]
    )
    assert await ids(market, company_id=company_id) == [catalogue["company"]]
    await market.sql(
        "UPDATE jobs SET published_at = now() - interval '10 days' WHERE id = :j",
        j=catalogue["title"],
    )
    assert catalogue["title"] not in await ids(market, posted_within_days=7)
    assert catalogue["title"] in await ids(market, posted_within_days=30)


async def test_sorts(market: Market, catalogue: dict[str, int]) -> None:
    c = catalogue
    newest = ["unrelated", "description", "company", "skills", "title"]
    assert await ids(market) == [c[k] for k in newest]
    assert await ids(market, sort="newest") == [c[k] for k in newest]
    # Highest pay first (the top of the range), jobs without pay last.
    by_salary = ["title", "skills", "company", "unrelated", "description"]
    assert await ids(market, sort="salary") == [c[k] for k in by_salary]
    assert await ids(market, sort="relevance") == [c[k] for k in newest]  # no q: newest


async def test_only_live_published_jobs_are_listed(market: Market) -> None:
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    live = await market.job(employer, company)
    draft = await market.job(employer, company, status="draft")
    closed = await market.job(employer, company)
    deleted = await market.job(employer, company)
    expired = await market.job(employer, company)
    await market.client.post(f"/api/jobs/{closed['id']}/close", headers=employer.headers)
    await market.client.delete(f"/api/jobs/{deleted['id']}", headers=employer.headers)
    await market.expire(expired["id"])
    assert await ids(market) == [live["id"]]
    assert (await market.client.get(f"/api/jobs/{expired['id']}")).json()["status"] == "expired"
    assert (await market.client.get(f"/api/jobs/{draft['id']}")).status_code == 404


async def _pages(market: Market, params: dict[str, Any], between_pages) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        query = params | {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await market.client.get("/api/jobs", params=query)).json()
        seen += [job["id"] for job in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        await between_pages()


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "newest"}, {"sort": "salary"}, {"q": "agent"}, {"q": "agent", "sort": "salary"}],
)
async def test_pages_have_no_duplicates_or_gaps_while_jobs_are_inserted(
    market: Market, params: dict[str, Any]
) -> None:
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    salaries = [None, 20000, 20000, 35000, None, 35000, 50000]
    before = {
        (await market.job(employer, company, title=f"Reservations Agent {n}", salary_max=s))["id"]
        for n, s in enumerate(salaries)
    }
    inserted: list[int] = []

    async def insert_between_pages() -> None:
        salary = [None, 20000, 99000, 1000][len(inserted) % 4]
        job = await market.job(employer, company, title="Gate Agent", salary_max=salary)
        inserted.append(job["id"])

    seen = await _pages(market, params, insert_between_pages)
    assert len(seen) == len(set(seen)), "a job appeared twice"
    assert before <= set(seen), "a job that existed throughout was skipped"
    assert set(seen) <= before | set(inserted)


async def test_a_bad_cursor_is_a_422(market: Market, catalogue: dict[str, int]) -> None:
    page = (await market.client.get("/api/jobs", params={"limit": 1})).json()
    for cursor in ("garbage", "!!!", "eyJ4Ijox", "W10", "a" * 600):
        assert_error(await market.client.get("/api/jobs", params={"cursor": cursor}), 422)
    other_sort = {"cursor": page["next_cursor"], "sort": "salary"}
    assert_error(await market.client.get("/api/jobs", params=other_sort), 422)
    for limit in (0, 101, "x"):
        assert_error(await market.client.get("/api/jobs", params={"limit": limit}), 422)


@pytest.mark.parametrize(
    "q",
    [
        "'", "''; DROP TABLE jobs; --", "&|!", "!", "-", "|", "&", "(", ")", ":*", '"', '""',
        "\\", "%", "_", "or", "-or", "!!!(((", "a & (b | !c)", "Café ñandú 日本語 🏝️",
        "\u202e\u200b", "x" * 200,
        # The most negations in a row PostgreSQL's parser holds, after an OR and an AND.
        "-" * 30, "- " * 30, "-(" * 30, "a or b " + "-" * 30 + "c", "-x" * 99, "-_" * 99,
    ],
)  # fmt: skip
async def test_hostile_queries_answer_200(
    market: Market, catalogue: dict[str, int], q: str
) -> None:
    response = await market.client.get("/api/jobs", params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list)


@pytest.mark.parametrize("q", ["x" * 201, "compliance " * 1000, "nul\x00byte", "tab\tbed"])
async def test_oversized_or_control_character_queries_are_422(market: Market, q: str) -> None:
    assert_error(await market.client.get("/api/jobs", params={"q": q}), 422, "VALIDATION_ERROR")


# Past 30 NOTs in a row PostgreSQL fails the search ("tsquery stack too small"): a 500 before.
@pytest.mark.parametrize(
    "q",
    ["-" * 33, "- " * 33, "-(" * 33, "-&" * 33, "!-" * 33, "word " + "-" * 32 + "word",
     "a or b " + "-" * 31 + "c", "-\u00a0" * 31],
)  # fmt: skip
async def test_queries_the_search_parser_cannot_take_are_422_on_q(market: Market, q: str) -> None:
    body = assert_error(
        await market.client.get("/api/jobs", params={"q": q}), 422, "VALIDATION_ERROR"
    )
    assert body["details"][0]["loc"] == ["query", "q"]


async def test_filter_values_are_validated(market: Market) -> None:
    for params in (
        {"island": "Atlantis"},
        {"category": "piracy"},
        {"salary_min": -1},
        {"salary_min": 5000, "salary_max": 100},
        {"posted_within_days": 0},
        {"company_id": 2**63},
        {"sort": "random"},
    ):
        assert_error(await market.client.get("/api/jobs", params=params), 422)
