"""The public job list and the stats come from the cache until a write changes them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import make_url

from app.events.hub import EVENT_HUB
from tests.support.factories import Market
from tests.support.helpers import make_client
from tests.support.tcp_fault import TcpFault


async def _listed(market: Market) -> list[int]:
    return [j["id"] for j in (await market.client.get("/api/jobs")).json()["items"]]


async def test_cached_list_is_served_until_a_write_invalidates_it(market: Market) -> None:
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"], title="Chef")
    assert await _listed(market) == [job["id"]]

    # A change made behind the API's back is not seen: the list is served from the cache ...
    await market.cached_copy(
        "/api/jobs", "UPDATE jobs SET title = :mark WHERE id = :j", j=job["id"]
    )
    stats = (await market.client.get("/api/stats")).json()
    assert stats == {"active_jobs": 1, "companies_hiring": 1, "new_jobs_this_week": 1}

    # ... and every write through the API shows at once.
    closed = await market.client.post(f"/api/jobs/{job['id']}/close", headers=employer.headers)
    assert closed.status_code == 200
    assert await _listed(market) == []
    stats = (await market.client.get("/api/stats")).json()
    assert stats == {"active_jobs": 0, "companies_hiring": 0, "new_jobs_this_week": 0}


async def test_each_kind_of_write_invalidates(market: Market) -> None:
    employer = await market.user("employer")
    company = (await market.company(employer, name="Old Name"))["id"]
    h = employer.headers
    draft = await market.job(employer, company, status="draft")
    assert await _listed(market) == []
    await market.client.post(f"/api/jobs/{draft['id']}/publish", headers=h)
    assert await _listed(market) == [draft["id"]]
    await market.client.patch(f"/api/jobs/{draft['id']}", json={"title": "Sous Chef"}, headers=h)
    assert (await market.client.get("/api/jobs")).json()["items"][0]["title"] == "Sous Chef"
    await market.client.patch(f"/api/companies/{company}", json={"name": "New Name"}, headers=h)
    assert (await market.client.get("/api/jobs?q=new")).json()["items"][0]["company"]["name"] == (
        "New Name"
    )
    assert (await market.client.get("/api/jobs")).json()["items"][0]["company"][
        "name"
    ] == "New Name"
    await market.client.delete(f"/api/jobs/{draft['id']}", headers=h)
    assert await _listed(market) == []


async def test_a_job_write_drops_its_own_page_and_keeps_the_other_jobs_pages(
    market: Market,
) -> None:
    """Editing, closing or taking down one job drops its page and the lists, not the cached
    pages of other jobs; a company's new name drops the pages of all its jobs."""
    employer, admin = await market.user("employer"), await market.admin()
    company = (await market.company(employer, name="Old Name"))["id"]
    chef = await market.job(employer, company, title="Chef")
    cook = await market.job(employer, company, title="Cook")
    page = f"/api/jobs/{cook['id']}"
    kept = await market.cached_copy(
        page, "UPDATE jobs SET title = :mark WHERE id = :j", j=cook["id"]
    )

    h = employer.headers
    chef_page = f"/api/jobs/{chef['id']}"
    for write in (
        market.client.patch(chef_page, json={"title": "Head Chef"}, headers=h),
        market.client.post(f"{chef_page}/close", headers=h),
        market.client.post(
            f"/api/admin/jobs/{chef['id']}/take-down",
            json={"reason": "Duplicate posting."},
            headers=admin.headers,
        ),
    ):
        assert (await write).status_code == 200
        assert (await market.client.get(page)).content == kept.content
    assert (await market.client.get(chef_page)).status_code == 404  # taken down: dropped

    renamed = await market.client.patch(
        f"/api/companies/{company}", json={"name": "New Name"}, headers=h
    )
    assert renamed.status_code == 200
    [(title,)] = await market.sql("SELECT title FROM jobs WHERE id = :j", j=cook["id"])
    body = (await market.client.get(page)).json()
    assert (body["title"], body["company"]["name"]) == (title, "New Name")


async def test_an_entry_never_outlives_the_expiry_of_its_jobs(market: Market) -> None:
    employer = await market.user("employer")
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    job = await market.job(employer, (await market.company(employer))["id"], expires_at=soon)
    assert await _listed(market) == [job["id"]]
    await asyncio.sleep(2.5)
    assert await _listed(market) == []
    assert (await market.client.get("/api/stats")).json()["active_jobs"] == 0


async def test_without_redis_the_cache_works_in_process(
    market: Market, start_app, make_settings
) -> None:
    app: FastAPI = await start_app(make_settings(redis_url=None))
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"])
    async with make_client(app) as client:
        assert [j["id"] for j in (await client.get("/api/jobs")).json()["items"]] == [job["id"]]
        await market.sql("UPDATE jobs SET title = 'Changed in SQL' WHERE id = :j", j=job["id"])
        assert (await client.get("/api/jobs")).json()["items"][0]["title"] != "Changed in SQL"
        closed = await client.post(f"/api/jobs/{job['id']}/close", headers=employer.headers)
        assert closed.status_code == 200
        assert (await client.get("/api/jobs")).json()["items"] == []


def _through(fault: TcpFault, database_url: str) -> str:
    return (
        make_url(database_url)
        .set(host="127.0.0.1", port=fault.port)
        .render_as_string(hide_password=False)
    )


def _upstream(database_url: str) -> tuple[str, int]:
    url = make_url(database_url)
    return url.host or "127.0.0.1", url.port or 5432


async def _title(client: httpx.AsyncClient, page: str) -> str:
    response = await client.get(page)
    assert response.status_code == 200, response.text
    return str(response.json()["title"])


async def test_the_copy_in_process_is_trusted_only_while_its_listen_connection_holds(
    market: Market, start_app, make_settings, database_url: str, redis: Redis
) -> None:
    """A job page is answered from this process (no Redis, no database) while the LISTEN
    connection is up; once it is lost, from Redis (the shared store) and the database again,
    never from the copy that might have missed a write."""
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"], title="Chef")
    page = f"/api/jobs/{job['id']}"
    with TcpFault(_upstream(database_url)) as listen_path:
        app = await start_app(
            make_settings(migration_database_url=_through(listen_path, database_url))
        )
        hub = app.state.services.of(EVENT_HUB)
        async with make_client(app) as client:
            assert await _title(client, page) == "Chef"  # the first lookup starts the listener
            await asyncio.wait_for(hub.listening.wait(), 10)
            await redis.flushdb()
            assert await _title(client, page) == "Chef"  # read again, kept while listening

            # Behind the API's back (no NOTIFY), and Redis emptied: only the copy in process
            # still has the old title, and it is what is served.
            await market.sql("UPDATE jobs SET title = 'Sous Chef' WHERE id = :j", j=job["id"])
            await redis.flushdb()
            assert await _title(client, page) == "Chef"

            listen_path.refuse()  # the LISTEN connection is reset and cannot come back
            for _ in range(100):
                if not hub.listening.is_set():
                    break
                await asyncio.sleep(0.05)
            assert not hub.listening.is_set()
            # The copy is not trusted any more: Redis (empty) and then the database answer ...
            assert await _title(client, page) == "Sous Chef"
            # ... and Redis keeps what they read: a change behind its back is not seen ...
            await market.sql("UPDATE jobs SET title = 'Head Chef' WHERE id = :j", j=job["id"])
            assert await _title(client, page) == "Sous Chef"
            # ... until the shared store lets it go.
            await redis.flushdb()
            assert await _title(client, page) == "Head Chef"


async def test_a_write_elsewhere_drops_the_copy_in_process(
    market: Market, start_app, settings, redis: Redis
) -> None:
    """A write through another app (another instance) NOTIFYs this one, which drops its copy
    at once, with Redis emptied so that only the NOTIFY can tell it."""
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"], title="Chef")
    page = f"/api/jobs/{job['id']}"
    app = await start_app(settings)
    hub = app.state.services.of(EVENT_HUB)
    async with make_client(app) as client:
        assert await _title(client, page) == "Chef"
        await asyncio.wait_for(hub.listening.wait(), 10)
        await redis.flushdb()
        assert await _title(client, page) == "Chef"
        await market.sql("UPDATE jobs SET title = 'Sous Chef' WHERE id = :j", j=job["id"])
        await redis.flushdb()
        assert await _title(client, page) == "Chef"  # from the copy in process

        edited = await market.client.patch(
            page, json={"title": "Head Chef"}, headers=employer.headers
        )
        assert edited.status_code == 200
        for _ in range(100):  # the NOTIFY arrives on this app's LISTEN connection
            if await _title(client, page) == "Head Chef":
                break
            await asyncio.sleep(0.02)
        assert await _title(client, page) == "Head Chef"


async def test_a_page_the_cache_answers_takes_no_database_connection(
    market: Market, start_app, make_settings, database_url: str, redis: Redis
) -> None:
    """With the database unreachable, a cached job page is still served (from Redis: the
    LISTEN connection is down with the database); a page not in the cache is a 503."""
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    cached = await market.job(employer, company, title="Chef")
    other = await market.job(employer, company, title="Baker")
    with TcpFault(_upstream(database_url)) as db:
        url = _through(db, database_url)
        app = await start_app(make_settings(database_url=url, migration_database_url=url))
        async with make_client(app) as client:
            assert await _title(client, f"/api/jobs/{cached['id']}") == "Chef"
            db.refuse()
            assert await _title(client, f"/api/jobs/{cached['id']}") == "Chef"
            missing = await client.get(f"/api/jobs/{other['id']}")
            assert missing.status_code == 503
            assert missing.json()["error_code"] == "DATABASE_UNAVAILABLE"


async def test_behind_the_pooler_without_a_direct_url_nothing_listens_and_no_copy_is_trusted(
    market: Market, start_app, make_settings, redis: Redis, caplog
) -> None:
    """DATABASE_URL through PgBouncer and no MIGRATION_DATABASE_URL: a LISTEN through the
    pooler would seem to hold while its server connection serves other clients, so none is
    made (said in the log) and every read goes to Redis, where a write's bump is seen."""
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"], title="Chef")
    page = f"/api/jobs/{job['id']}"
    app = await start_app(make_settings(db_pgbouncer=True, migration_database_url=None))
    assert "MIGRATION_DATABASE_URL (the direct endpoint) is not set" in caplog.text
    hub = app.state.services.of(EVENT_HUB)
    async with make_client(app) as client:
        assert await _title(client, page) == "Chef"
        await asyncio.sleep(0.5)
        assert not hub.listening.is_set()
        await market.sql("UPDATE jobs SET title = 'Sous Chef' WHERE id = :j", j=job["id"])
        await redis.flushdb()  # only a copy in process could still say "Chef"
        assert await _title(client, page) == "Sous Chef"
