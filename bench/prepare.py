"""Everything the load needs before it starts: a dedicated database (created, migrated and
seeded), users to log in as, signed-in seekers and employers (logged in through the API), the
inputs the wrk scripts read, and the SQL the service runs for each floor's case (captured on the
wire between the served service and PostgreSQL, bench/capture.py, so the floor does the same
work whatever path the service takes). Everything but the database set-up goes over HTTP to the
service started as production starts it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import orjson
from redis import Redis

from app.core.db import parse_database_url
from app.core.ratelimit import KEY_PREFIX
from app.core.security import PasswordHasher
from app.seed.command import SEED_PASSWORD
from app.seed.dataset import seed_email
from bench.capture import CaptureProxy, Sample, Statement, floor_statements, token_values

ROOT = Path(__file__).resolve().parent.parent
BENCH_PASSWORD = "bench-Password-2026"  # noqa: S105 - the seeded bench users' password
USER_EMAIL = "bench-user-{}@bench.hiremebahamas.bs"


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


def clear_rate_limits(redis_url: str | None) -> int:
    """Delete the rate limits' counters (`hmb:ratelimit:*`) in the run's Redis; how many.
    They count per account id and address for an hour: the accounts of an earlier run in the
    hour have the same ids, and their applications counted against this run's seekers (429s
    in the mixed day after a few short runs)."""
    if not redis_url:
        return 0
    client = Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{KEY_PREFIX}:*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


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


_WORD = re.compile(r"[A-Za-z]{4,}")


def _client_address(rng: random.Random) -> dict[str, str]:
    """A client address of its own (X-Forwarded-For from the trusted proxy 127.0.0.1), as many
    people signing in from many places would have."""
    return {
        "X-Forwarded-For": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    }


async def collect_jobs(
    client: httpx.AsyncClient, data_dir: Path, *, ids: int, queries: int, seed: int
) -> dict[str, Any]:
    """Live job ids and search queries, read from the public API.

    The queries are (word, island) pairs over the words of the jobs' titles and descriptions,
    shuffled: thousands of distinct searches, so the service's response cache rarely hits and
    the case measures the database path, as the floor does."""
    rng = random.Random(seed)
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
        words.update(w.lower() for w in _WORD.findall(f"{detail['title']} {detail['description']}"))
    islands = sorted({j["island"] for j in jobs if j.get("island")})
    pairs = [(w, i) for w in sorted(words) for i in islands]
    rng.shuffle(pairs)
    search = [urlencode({"q": q, "island": i}) for q, i in pairs[:queries]]
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "job_ids.txt").write_text("\n".join(str(j["id"]) for j in jobs[:ids]) + "\n")
    (data_dir / "search_queries.txt").write_text("\n".join(search) + "\n")
    (data_dir / "search_repeated.txt").write_text(search[0] + "\n")
    unused = pairs[queries:] or pairs  # searches no run has asked: not in the response cache
    return {"job_ids": [j["id"] for j in jobs[:ids]], "fresh_searches": unused[-20:]}


async def _gather_limited(n: int, work: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(n)

    async def one(item: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await item()

    return await asyncio.gather(*(one(w) for w in work))


async def sign_in(
    client: httpx.AsyncClient, data_dir: Path, *, seekers: int, employers: int, seed: int
) -> dict[str, list[dict[str, Any]]]:
    """Log the first `seekers` seed job seekers and `employers` seed employers in through the
    API, once each (bcrypt is the cost), and read what each may act on.

    Writes seekers.txt (`token application-ids notification-ids`, ids comma-separated, "-" for
    none) and employers.txt (`token - - job-ids`, their live jobs) for the wrk scripts."""
    rng = random.Random(seed)

    async def login(email: str) -> str:
        reply = await client.post(
            "/api/auth/login",
            json={"email": email, "password": SEED_PASSWORD},
            headers=_client_address(rng),
            timeout=120,
        )
        if reply.status_code != 200:
            raise RuntimeError(f"POST /api/auth/login as {email}: {reply.status_code} {reply.text}")
        return reply.json()["access_token"]

    async def seeker(number: int) -> dict[str, Any]:
        token = await login(seed_email("job_seeker", number))
        auth = {"Authorization": f"Bearer {token}"}
        mine = await client.get("/api/users/me/applications", params={"limit": 50}, headers=auth)
        unread = await client.get(
            "/api/notifications", params={"unread_only": "true", "limit": 50}, headers=auth
        )
        return {
            "token": token,
            "applications": [a["id"] for a in mine.raise_for_status().json()["items"]],
            "notifications": [n["id"] for n in unread.raise_for_status().json()["items"]],
        }

    async def employer(number: int) -> dict[str, Any]:
        token = await login(seed_email("employer", number))
        auth = {"Authorization": f"Bearer {token}"}
        mine = await client.get("/api/employer/jobs", params={"limit": 50}, headers=auth)
        items = mine.raise_for_status().json()["items"]
        return {"token": token, "jobs": [j["id"] for j in items if j["status"] == "published"]}

    # Four at a time: bcrypt runs in the worker's thread pool, on two CPUs.
    found_seekers = await _gather_limited(4, [lambda n=n: seeker(n) for n in range(1, seekers + 1)])
    found_employers = await _gather_limited(
        4, [lambda n=n: employer(n) for n in range(1, employers + 1)]
    )
    found_seekers = [s for s in found_seekers if s["applications"]]
    found_employers = [e for e in found_employers if e["jobs"]]
    if len(found_seekers) < 2 or len(found_employers) < 2:  # the capture compares two of each
        raise RuntimeError(
            "fewer than two signed-in seekers with applications, or employers with live jobs"
        )

    def ids(values: list[int]) -> str:
        return ",".join(map(str, values)) or "-"

    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "seekers.txt").write_text(
        "".join(
            f"{s['token']} {ids(s['applications'])} {ids(s['notifications'])}\n"
            for s in found_seekers
        )
    )
    (data_dir / "employers.txt").write_text(
        "".join(f"{e['token']} - - {ids(e['jobs'])}\n" for e in found_employers)
    )
    return {"seekers": found_seekers, "employers": found_employers}


def _claims(token: str) -> dict[str, Any]:
    """An access token's claims (it was just issued by the service: no need to verify it)."""
    payload = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def _quiet(proxy: CaptureProxy, started: float, settle: float = 0.15) -> list[Statement]:
    """Every statement since `started`, once none has arrived for `settle` seconds (a session
    may commit after the reply)."""
    seen, deadline = -1, time.monotonic() + 3
    while time.monotonic() < deadline:
        await asyncio.sleep(settle)
        now = len(proxy.since(started))
        if now == seen:
            break
        seen = now
    return [s for s in proxy.since(started) if s.kind != "driver"]


async def _first_rows(conn: asyncpg.Connection, statements: list[Statement]) -> list[Any]:
    """Each read's first row, replayed (what a later statement might bind from)."""
    rows: list[Any] = []
    for statement in statements:
        row = None
        head = statement.sql.lstrip().split(None, 1)[0].upper() if statement.sql.strip() else ""
        if statement.kind == "query" and head in ("SELECT", "WITH"):
            found = await conn.fetchrow(statement.sql, *statement.params)
            row = dict(found) if found else None
        rows.append(row)
    return rows


async def capture_sql(
    base_url: str,
    proxy: CaptureProxy,
    database: Database,
    data_dir: Path,
    requests: dict[str, CaptureCase],
) -> dict[str, list[dict[str, Any]]]:
    """For each case, two requests sent to the service one at a time after a warm-up, their
    statements taken off the wire: what the floor runs. Writes sql.json for the floor."""
    captured: dict[str, list[dict[str, Any]]] = {}
    conn = await asyncpg.connect(database.dsn)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            for case, spec in requests.items():
                # Pooled connections opened and statements prepared first, so the captured
                # requests see neither connecting nor the driver's type introspection.
                warm = [client.get(path, headers=headers) for path, headers in spec.warm]
                for reply in await asyncio.gather(*warm):
                    reply.raise_for_status()
                taken = []
                for path, headers, values in spec.samples:
                    started = time.monotonic()
                    (await client.get(path, headers=headers)).raise_for_status()
                    statements = await _quiet(proxy, started)
                    taken.append(Sample(values, statements, await _first_rows(conn, statements)))
                captured[case] = floor_statements(*taken)
    finally:
        await conn.close()
    if proxy.errors:
        raise RuntimeError(f"the capture proxy failed: {proxy.errors[:3]}")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "sql.json").write_bytes(orjson.dumps(captured, option=orjson.OPT_INDENT_2))
    return captured


Request = tuple[str, dict[str, str]]  # path, headers


@dataclass(frozen=True)
class CaptureCase:
    warm: list[Request]  # sent concurrently first
    samples: list[tuple[str, dict[str, str], dict[str, Any]]]  # two, with the request's values


def capture_requests(
    jobs: dict[str, Any], signed_in: dict[str, list[dict[str, Any]]] | None
) -> dict[str, CaptureCase]:
    """What to send for each floor's case. The job page and search samples are ones no earlier
    request asked for, so a response cache cannot answer them: the floor runs what a miss runs."""
    ids, fresh = jobs["job_ids"], jobs["fresh_searches"]

    def search(pair: tuple[str, str]) -> str:
        return f"/api/jobs?{urlencode({'q': pair[0], 'island': pair[1]})}"

    out = {
        "detail": CaptureCase(
            warm=[(f"/api/jobs/{i}", {}) for i in ids[:32]],
            samples=[(f"/api/jobs/{i}", {}, {"id": i}) for i in (ids[-1], ids[-2])],
        ),
        "search": CaptureCase(
            warm=[(search(pair), {}) for pair in fresh[2:]],
            samples=[(search(pair), {}, {"q": pair[0], "island": pair[1]}) for pair in fresh[:2]],
        ),
    }
    if not signed_in:
        return out
    seekers, employers = signed_in["seekers"], signed_in["employers"]

    def auth(who: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {who['token']}"}

    def values(who: dict[str, Any], path: str) -> dict[str, Any]:
        found = token_values(_claims(who["token"]))
        if "/applications/" in path:
            return found | {"id": who["applications"][0]}
        if "/candidate-matches" in path:
            return found | {"id": who["jobs"][0]}
        return found

    def case(path: Callable[[dict[str, Any]], str], people: list[dict[str, Any]]) -> CaptureCase:
        return CaptureCase(
            warm=[(path(who), auth(who)) for who in people[:32] * 2],
            samples=[
                (path(who), auth(who), values(who, path(who))) for who in (people[0], people[-1])
            ],
        )

    out["me"] = case(lambda _: "/api/users/me", seekers)
    out["application"] = case(lambda who: f"/api/applications/{who['applications'][0]}", seekers)
    out["notifications"] = case(lambda _: "/api/notifications", seekers)
    out["employer_jobs"] = case(lambda _: "/api/employer/jobs", employers)
    out["job_matches"] = case(lambda _: "/api/users/me/job-matches", seekers)
    out["candidate_matches"] = case(
        lambda who: f"/api/jobs/{who['jobs'][0]}/candidate-matches", employers
    )
    return out


def print_sql(captured: dict[str, list[dict[str, Any]]]) -> str:
    """The captured statements of each case, as the report prints them."""
    lines = []
    for case, statements in captured.items():
        lines.append(f"-- {case}")
        for s in statements:
            binds = {n: [f"${p + 1}" for p in ps] for n, ps in s["slots"].items() if ps}
            chained = [f"${p + 1} <- statement {i + 1}.{c}" for p, i, c in s["chain"]]
            notes = ", ".join([*(f"{n} = {' '.join(ps)}" for n, ps in binds.items()), *chained])
            text = " ".join(s["sql"].split())
            lines.append(f"[{s['kind']}] {text}" + (f"   -- {notes}" if notes else ""))
    return "\n".join(lines)


def write_users(data_dir: Path, emails: list[str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "users.txt").write_text("\n".join(emails) + "\n")
