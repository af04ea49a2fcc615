"""Everything the load needs before it starts: a dedicated database (created, migrated and
seeded), users to log in as, the inputs the wrk scripts read, and the SQL the service runs for
the job routes (captured from the service itself, so the database floor does the same work).
"""

from __future__ import annotations

import logging
import os
import random
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.core.config import Settings
from app.core.db import parse_database_url
from app.core.security import PasswordHasher
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
BENCH_PASSWORD = "bench-Password-2026"  # noqa: S105 - the seeded bench users' password
USER_EMAIL = "bench-user-{}@bench.hiremebahamas.bs"
NOW = {"$now": True}


@dataclass(frozen=True)
class Database:
    url: str  # SQLAlchemy/app form
    dsn: str  # asyncpg form


def _asyncpg_dsn(url: str) -> str:
    return parse_database_url(url).url.set(drivername="postgresql").render_as_string(False)


def bench_database(server_url: str, name: str) -> Database:
    target = parse_database_url(server_url).url.set(database=name)
    url = target.render_as_string(hide_password=False)
    return Database(url=url, dsn=_asyncpg_dsn(url))


async def create_database(server_url: str, name: str, *, fresh: bool) -> bool:
    """Create `name` on the server (dropping it first when `fresh`); True if it is new."""
    conn = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and not fresh:
            return False
        if exists:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


def _python(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True)


def app_env(database: Database) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MIGRATION_DATABASE_URL"}
    env["DATABASE_URL"] = database.url
    return env


def migrate(database: Database) -> None:
    _python("-m", "alembic", "upgrade", "head", env=app_env(database))


def has_seed_command() -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "app", "seed", "--help"], cwd=ROOT, capture_output=True
    )
    return probe.returncode == 0


def seed(database: Database, *, jobs: int, companies: int, applications: int, seed: int) -> None:
    _python(
        "-m",
        "app",
        "seed",
        "--jobs",
        str(jobs),
        "--companies",
        str(companies),
        "--applications",
        str(applications),
        "--seed",
        str(seed),
        env=app_env(database),
    )


async def create_login_users(database: Database, count: int, rounds: int) -> tuple[list[str], str]:
    """`count` job seekers sharing one password hashed at the service's cost, as the service
    itself hashes it. Returns their emails and the hash (the bcrypt floor verifies the same)."""
    password_hash = PasswordHasher(rounds).hash_sync(BENCH_PASSWORD)
    emails = [USER_EMAIL.format(i) for i in range(count)]
    conn = await asyncpg.connect(database.dsn)
    try:
        await conn.execute("DELETE FROM users WHERE email LIKE 'bench-user-%@bench.%'")
        await conn.executemany(
            "INSERT INTO users (email, password_hash, full_name, role) "
            "VALUES ($1, $2, $3, 'job_seeker')",
            [(email, password_hash, f"Bench User {i}") for i, email in enumerate(emails)],
        )
    finally:
        await conn.close()
    return emails, password_hash


# What the pool's bounded pre-ping (app/core/db.py) sends on every checkout: the pool's work,
# not the route's (the floor's /session variant adds it back).
@asynccontextmanager
async def _statements() -> AsyncIterator[list[tuple[str, Any]]]:
    """Every statement the service sends while this is open, with its parameters (all go
    through SQLAlchemy, seen by its events)."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _encode(statements: list[tuple[str, Any]], values: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements with their parameters; where a parameter is one of the request's values,
    its position is recorded as a slot the floor fills from each request."""
    encoded = []
    for sql, params in statements:
        params = list(params or ())
        slots: dict[str, list[int]] = {name: [] for name in values}
        for i, param in enumerate(params):
            if isinstance(param, datetime):
                params[i] = NOW
            for name, value in values.items():
                if type(param) is not bool and param == value:
                    slots[name].append(i)
        encoded.append({"sql": sql, "params": params, "slots": slots})
    for name in values:
        if not any(s["slots"][name] for s in encoded):
            raise RuntimeError(f"the captured SQL does not use the request's {name!r} as a value")
    return encoded


_WORD = re.compile(r"[A-Za-z]{4,}")


async def capture(
    database: Database, data_dir: Path, *, ids: int, queries: int, seed: int
) -> dict[str, Any]:
    """Drive the real app in process to collect live job ids and search queries, and capture
    the SQL of one job detail and one (uncached) search for the database floor.

    The queries are (word, island) pairs over the words of the jobs' titles and descriptions,
    shuffled: thousands of distinct searches, so the service's 30-second response cache rarely
    hits and the case measures the database path, as the floor does."""
    app = create_app(Settings(database_url=database.url))
    logging.getLogger("app").setLevel(logging.WARNING)  # no access lines from this in-process app
    rng = random.Random(seed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        jobs: list[dict[str, Any]] = []
        cursor = None
        while len(jobs) < ids:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/jobs", params=params)).raise_for_status().json()
            jobs += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        if not jobs:
            raise RuntimeError("the seeded database lists no live jobs")
        words: set[str] = set()
        for job in jobs[:100]:
            detail = (await client.get(f"/api/jobs/{job['id']}")).raise_for_status().json()
            words.update(
                w.lower() for w in _WORD.findall(f"{detail['title']} {detail['description']}")
            )
        islands = sorted({j["island"] for j in jobs if j.get("island")})
        pairs = [(w, i) for w in sorted(words) for i in islands]
        rng.shuffle(pairs)
        search = [urlencode({"q": q, "island": i}) for q, i in pairs[:queries]]
        for query in search[:20]:  # the rest are the same shape
            (await client.get(f"/api/jobs?{query}")).raise_for_status()

        sample = jobs[0]
        async with _statements() as seen:
            (await client.get(f"/api/jobs/{sample['id']}")).raise_for_status()
        detail = _encode(seen, {"id": sample["id"]})
        for q, island in reversed(pairs[queries:] or pairs):  # a pair not cached
            async with _statements() as seen:
                params = {"q": q, "island": island}
                (await client.get("/api/jobs", params=params)).raise_for_status()
            if seen:
                break
        found = _encode(seen, {"q": q, "island": island})
    await app.state.database.dispose()

    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "job_ids.txt").write_text("\n".join(str(j["id"]) for j in jobs[:ids]) + "\n")
    (data_dir / "search_queries.txt").write_text("\n".join(search) + "\n")
    (data_dir / "search_repeated.txt").write_text(search[0] + "\n")
    captured = {"detail": detail, "search": found}
    (data_dir / "sql.json").write_bytes(orjson.dumps(captured, option=orjson.OPT_INDENT_2))
    return captured


def write_users(data_dir: Path, emails: list[str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "users.txt").write_text("\n".join(emails) + "\n")
