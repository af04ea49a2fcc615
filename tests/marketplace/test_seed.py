"""`python -m app seed`: realistic, deterministic, and usable (seeded accounts can sign in)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import parse_database_url
from app.events.hub import EVENT_HUB
from app.seed.command import SEED_PASSWORD
from app.seed.dataset import SeedSize
from app.seed.generate import generate
from app.users.islands import Island
from tests.support.helpers import make_client
from tests.support.server_process import ROOT

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SIZE = ["--companies", "6", "--jobs", "60", "--applications", "90"]


def seed(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "app", "seed", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def fetch(database_url: str, query: str) -> list[Any]:
    engine = create_async_engine(parse_database_url(database_url).url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(text(query)))
    finally:
        await engine.dispose()


CONTENT = "SELECT title, location, island, salary_max, status FROM jobs ORDER BY id"


# The seed command twice over a fresh database: left out of the fast subset, with room for a
# machine busy with parallel workers.
@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_seed_is_realistic_deterministic_and_usable(
    create_database: Callable[..., Any], start_app, make_settings
) -> None:
    first, second = [await create_database() for _ in range(2)]
    for url in (first, second):
        result = seed(url, *SIZE, "--seed", "7")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Seeded" in result.stdout

    jobs = await fetch(first, CONTENT)
    assert len(jobs) == 60
    assert jobs == await fetch(second, CONTENT)
    assert {row.island for row in jobs} <= {i.value for i in Island}
    [[applications, companies, currencies]] = await fetch(
        first,
        "SELECT (SELECT count(*) FROM applications), (SELECT count(*) FROM companies), "
        "(SELECT array_agg(DISTINCT salary_currency) FROM jobs)",
    )
    assert (applications, companies, currencies) == (90, 6, ["BSD"])
    # Every application's history starts at submitted and ends at its current status.
    broken = await fetch(
        first,
        "SELECT a.id FROM applications a WHERE a.status <> (SELECT to_status FROM "
        "application_status_changes c WHERE c.application_id = a.id ORDER BY c.id DESC LIMIT 1)",
    )
    assert broken == []
    [[searchable]] = await fetch(first, "SELECT count(*) FROM jobs WHERE search_vector IS NULL")
    assert searchable == 0

    again = seed(first, *SIZE)
    assert again.returncode == 1 and "already holds seed data" in again.stdout
    skipped = seed(first, *SIZE, "--if-empty")
    assert skipped.returncode == 0 and "nothing seeded" in skipped.stdout

    # Seeded accounts sign in with the documented password; seeded jobs are listed; the
    # seekers open to work, and only they, are found by an employer.
    [[open_to_work]] = await fetch(
        first, "SELECT count(*) FROM users WHERE role = 'job_seeker' AND open_to_work"
    )
    app = await start_app(make_settings(database_url=first))
    async with make_client(app) as client:
        tokens = []
        for email in ("employer1@seed.hiremebahamas.bs", "seeker1@seed.hiremebahamas.bs"):
            response = await client.post(
                "/api/auth/login", json={"email": email, "password": SEED_PASSWORD}
            )
            assert response.status_code == 200, response.text
            tokens.append(response.json()["access_token"])
        listed = (await client.get("/api/jobs", params={"limit": 5})).json()["items"]
        assert len(listed) == 5
        assert all(j["status"] == "published" for j in listed)
        employer = {"Authorization": f"Bearer {tokens[0]}"}
        found, cursor = [], None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/candidates", params=params, headers=employer)).json()
            found += page["items"]
            if not (cursor := page.get("next_cursor")):
                break
        assert 0 < len(found) == open_to_work
        assert all(candidate["open_to_work"] for candidate in found)


def test_another_seed_gives_other_data() -> None:
    def titles(seed_value: int) -> list[str]:
        size = SeedSize(companies=3, jobs=20, applications=10)
        ids = {k: list(range(1, 100)) for k in ("users", "companies", "jobs", "applications")}
        data = generate(
            size, seed=seed_value, now=NOW, password_hash="x", ids=ids, taken_slugs=set()
        )
        return [job[2] for job in data.jobs]

    assert titles(7) == titles(7)
    assert titles(7) != titles(8)


@pytest.mark.slow
async def test_seeding_drops_a_running_instances_copy_of_the_job_list(
    start_app, settings, database_url: str, redis
) -> None:
    """A running instance keeps public pages in process; the seed command NOTIFYs it, so its
    empty job list gives way to the seeded jobs without waiting out the entry's lifetime (Redis
    emptied, so only the NOTIFY can tell it)."""
    app = await start_app(settings)
    async with make_client(app) as client:
        assert (await client.get("/api/jobs")).json()["items"] == []
        await asyncio.wait_for(app.state.services.of(EVENT_HUB).listening.wait(), 10)
        assert (await client.get("/api/jobs")).json()["items"] == []  # kept in process
        result = seed(database_url, *SIZE)
        assert result.returncode == 0, result.stdout + result.stderr
        await redis.flushdb()
        for _ in range(100):  # the NOTIFY arrives on the app's LISTEN connection
            if (await client.get("/api/jobs")).json()["items"]:
                break
            await asyncio.sleep(0.02)
        assert (await client.get("/api/jobs")).json()["items"]
