"""The public job page and search: the bytes of the declared response model, the visibility
rules, the same outage behaviour as every other database route."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import contains_eager

from app.applications.schemas import EmployerJob
from app.core.config import Settings
from app.core.db import Database
from app.core.pagination import Page
from app.jobs.models import Job
from app.jobs.schemas import JobRead, JobSummary
from tests.support.factories import Market
from tests.support.helpers import assert_error, make_client
from tests.support.tcp_fault import TcpFault


async def _orm_jobs(database: Database, *ids: int) -> list[Job]:
    async with database.session() as session:
        stmt = select(Job).join(Job.company).options(contains_eager(Job.company))
        jobs = {j.id: j for j in (await session.scalars(stmt.where(Job.id.in_(ids)))).all()}
    return [jobs[i] for i in ids]


async def test_job_page_is_byte_identical_to_fastapis_rendering_of_the_orm_job(
    market: Market,
) -> None:
    employer = await market.user("employer")
    company = await market.company(employer, logo_url="https://example.com/logo.png")
    created = await market.client.post(
        "/api/jobs",
        headers=employer.headers,
        json={
            "company_id": company["id"], "title": "Dive Instructor",
            "description": "Teach open-water courses off the Exuma cays, all year round.",
            "location": "George Town", "island": "Exuma", "category": "hospitality_tourism",
            "employment_type": "contract", "work_mode": "on_site", "salary_min": "1500.50",
            "salary_max": 2400, "salary_period": "month", "skills": ["padi", "first aid"],
            "expires_at": f"{datetime.now(UTC).year + 1}-01-01T12:00:00Z", "status": "published",
        },
    )  # fmt: skip
    assert created.status_code == 201, created.text

    response = await market.client.get(f"/api/jobs/{created.json()['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    # The create reply is FastAPI serialising the ORM job through the response model.
    assert response.content == created.content
    (job,) = await _orm_jobs(market.app.state.services.database, created.json()["id"])
    assert response.content == JobRead.of(job, datetime.now(UTC)).model_dump_json().encode()


async def test_search_page_is_byte_identical_to_the_orm_rendering(market: Market) -> None:
    employer = await market.user("employer")
    company = (await market.company(employer, name="Harbour Dive Shop"))["id"]
    made = [
        await market.job(employer, company, title=f"Boat Captain {n}", salary_max=1000 * n)
        for n in range(1, 4)
    ]
    await market.expire(made[0]["id"])  # expired jobs leave the list

    response = await market.client.get("/api/jobs", params={"q": "captain", "limit": 1})
    second = await market.client.get(
        "/api/jobs", params={"q": "captain", "limit": 1, "cursor": response.json()["next_cursor"]}
    )

    jobs = await _orm_jobs(market.app.state.services.database, made[2]["id"], made[1]["id"])
    now = datetime.now(UTC)
    for reply, job, cursor in ((response, jobs[0], True), (second, jobs[1], False)):
        assert reply.status_code == 200, reply.text
        expected = Page[JobSummary](
            items=[JobSummary.of(job, now)], next_cursor=reply.json()["next_cursor"]
        )
        assert reply.content == expected.model_dump_json().encode()
        assert (reply.json()["next_cursor"] is not None) is cursor


async def test_employer_jobs_are_byte_identical_to_the_orm_rendering(market: Market) -> None:
    """The employer's list reads rows, not ORM objects: each state it shows (draft, published
    with applications, expired, closed) renders as the ORM job through EmployerJob does."""
    employer, seeker = await market.user("employer"), await market.user()
    company = (await market.company(employer, logo_url="https://example.com/logo.png"))["id"]
    draft = await market.job(employer, company, status="draft", salary_min=900)
    busy = await market.job(employer, company, skills=["sailing"], salary_max=2500)
    expired = await market.job(employer, company)
    closed = await market.job(employer, company)
    applied = await market.client.post(
        f"/api/jobs/{busy['id']}/applications", json={}, headers=seeker.headers
    )
    assert applied.status_code == 201, applied.text
    await market.expire(expired["id"])
    shut = await market.client.post(f"/api/jobs/{closed['id']}/close", headers=employer.headers)
    assert shut.status_code == 200, shut.text

    response = await market.client.get("/api/employer/jobs", headers=employer.headers)

    assert response.status_code == 200, response.text
    ids = [closed["id"], expired["id"], busy["id"], draft["id"]]
    jobs = await _orm_jobs(market.app.state.services.database, *ids)
    counts = {busy["id"]: 1}
    items = [
        EmployerJob.of(
            job,
            datetime.now(UTC),
            application_count=counts.get(job.id, 0),
            unreviewed_count=counts.get(job.id, 0),
        )
        for job in jobs
    ]
    expected = Page[EmployerJob](items=items, next_cursor=None)
    assert response.content == expected.model_dump_json().encode()
    assert [j["status"] for j in response.json()["items"]] == [
        "closed", "expired", "published", "draft"
    ]  # fmt: skip


@pytest.mark.parametrize("params", [{"sort": "salary"}, {"sort": "newest", "island": "Exuma"}])
async def test_paging_through_a_search_gives_exactly_the_whole_list(
    market: Market, params: dict[str, Any]
) -> None:
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    for n in range(5):
        await market.job(employer, company, island="Exuma", salary_max=100 * (n % 3) or None)
    whole = (await market.client.get("/api/jobs", params=params | {"limit": 100})).json()

    seen, cursor = [], None
    while True:
        page = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await market.client.get("/api/jobs", params=params | page)).json()
        seen += body["items"]
        if (cursor := body["next_cursor"]) is None:
            break
    assert seen == whole["items"] and len(seen) == 5


async def test_hidden_jobs_are_404_except_to_those_who_manage_them(market: Market) -> None:
    owner = await market.user("employer")
    other = await market.user("employer")
    admin = await market.admin()
    company = (await market.company(owner))["id"]
    draft = (await market.job(owner, company, status="draft"))["id"]
    deleted = (await market.job(owner, company))["id"]
    assert (await market.client.delete(f"/api/jobs/{deleted}", headers=owner.headers)).is_success

    for job_id in (draft, deleted):
        assert_error(await market.client.get(f"/api/jobs/{job_id}"), 404, "NOT_FOUND")
        denied = await market.client.get(f"/api/jobs/{job_id}", headers=other.headers)
        assert_error(denied, 404, "NOT_FOUND")
        for manager in (owner, admin):
            seen = await market.client.get(f"/api/jobs/{job_id}", headers=manager.headers)
            assert seen.status_code == 200, seen.text
    statuses = {draft: "draft", deleted: "closed"}
    for job_id, status in statuses.items():
        seen = await market.client.get(f"/api/jobs/{job_id}", headers=owner.headers)
        assert seen.json()["status"] == status
    assert_error(await market.client.get("/api/jobs/999999999"), 404, "NOT_FOUND")


async def test_a_sent_token_is_validated_even_for_a_public_job(market: Market) -> None:
    owner = await market.user("employer")
    job = await market.job(owner, (await market.company(owner))["id"])
    invalid = {"Authorization": "Bearer not-a-token"}
    assert_error(await market.client.get(f"/api/jobs/{job['id']}", headers=invalid), 401)
    # Logged out everywhere: the token still decodes but no longer counts.
    assert (await market.client.post("/api/auth/logout-all", headers=owner.headers)).is_success
    stale = await market.client.get(f"/api/jobs/{job['id']}", headers=owner.headers)
    assert_error(stale, 401, "UNAUTHORIZED")
    # Another scheme is no bearer token at all: read as anonymous, as before.
    basic = await market.client.get(f"/api/jobs/{job['id']}", headers={"Authorization": "Basic x"})
    assert basic.status_code == 200


@pytest.fixture
def db_proxy(database_url: str) -> Iterator[TcpFault]:
    url = make_url(database_url)
    with TcpFault((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        yield proxy


@pytest.mark.parametrize("fault", [TcpFault.refuse, TcpFault.blackhole], ids=lambda f: f.__name__)
async def test_read_routes_answer_503_in_an_outage_and_recover_by_themselves(
    market: Market,
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    database_url: str,
    db_proxy: TcpFault,
    fault: Callable[[TcpFault], None],
) -> None:
    owner = await market.user("employer")
    company = (await market.company(owner))["id"]
    job, uncached = await market.job(owner, company), await market.job(owner, company)
    proxied = make_url(database_url).set(host="127.0.0.1", port=db_proxy.port)
    settings = make_settings(
        database_url=proxied.render_as_string(hide_password=False),
        redis_url=None,  # every search reaches the database
        db_connect_timeout=1,
        # A pooled connection used a moment ago is not pinged: on a silent one, the statement's
        # own deadline is what answers.
        db_command_timeout=1,
    )
    app = await start_app(settings)
    paths = [f"/api/jobs/{job['id']}", "/api/jobs?q=front", "/api/jobs?island=Exuma"]
    async with make_client(app) as client:
        for path in paths:  # warm pool: the outage hits pooled connections
            assert (await client.get(path)).status_code == 200

        fault(db_proxy)
        # Pages not in the cache yet: a job page not read before, a search of another size.
        paths[0] = f"/api/jobs/{uncached['id']}"
        for path in paths:
            started = time.monotonic()
            response = await client.get(path, params={"limit": 3})
            assert_error(response, 503, "DATABASE_UNAVAILABLE")
            # As tests/faults bounds it: a silent pooled connection costs its statement
            # deadline, the pool's graceful close of it (2 s) and a fresh connect.
            assert time.monotonic() - started < 5 * settings.db_connect_timeout
        assert app.state.services.database.is_down
        accepted = db_proxy.accepted
        assert_error(await client.get(paths[0]), 503, "DATABASE_UNAVAILABLE")
        assert db_proxy.accepted == accepted  # failing fast, not connecting again

        db_proxy.forward()
        deadline = time.monotonic() + 10
        while (response := await client.get(paths[0])).status_code != 200:
            assert time.monotonic() < deadline, response.text
            await asyncio.sleep(0.1)
        assert not app.state.services.database.is_down
        assert (await client.get(paths[1], params={"limit": 4})).status_code == 200
