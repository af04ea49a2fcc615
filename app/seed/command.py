"""`python -m app seed`: fill the database with realistic Bahamian data, fast (COPY)."""

from __future__ import annotations

import argparse
import logging
import time
from datetime import UTC, datetime

import asyncpg

from app.companies.listing_cache import JOBS
from app.core.cache import CACHE_CHANNEL, Cache
from app.core.config import ConfigError, load_settings
from app.core.db import DATABASE_UNAVAILABLE_ERRORS, Database
from app.core.redis import RedisState
from app.core.security import PasswordHasher
from app.seed import dataset as d
from app.seed.generate import generate

logger = logging.getLogger("app.seed")

# Every seeded account (employer1@seed.hiremebahamas.bs, seeker1@..., numbered from 1) logs in
# with this password. Its bcrypt hash is computed once, at low cost, and shared by all.
SEED_PASSWORD = "BahamasSeed2025!"  # noqa: S105 - documented demo credential
SEED_BCRYPT_ROUNDS = 4

_TABLES = (
    ("users", "users", d.USER_COLUMNS),
    ("companies", "companies", d.COMPANY_COLUMNS),
    ("jobs", "jobs", d.JOB_COLUMNS),
    ("saved_jobs", "saved_jobs", d.SAVED_JOB_COLUMNS),
    ("applications", "applications", d.APPLICATION_COLUMNS),
    ("status_changes", "application_status_changes", d.STATUS_CHANGE_COLUMNS),
    ("notifications", "notifications", d.NOTIFICATION_COLUMNS),
)


def _count(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 5_000_000:
        raise argparse.ArgumentTypeError("must be between 0 and 5000000")
    return value


def add_seed_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "seed",
        help="fill the database with realistic Bahamian demo data",
        description=f"Seed companies, jobs, applications, employers and job seekers. Seeded "
        f"accounts are employer<N>@{d.SEED_EMAIL_DOMAIN} and seeker<N>@{d.SEED_EMAIL_DOMAIN} "
        f"(N from 1), password {SEED_PASSWORD!r}. The same --seed gives the same data.",
    )
    parser.add_argument("--companies", type=_count, default=1000)
    parser.add_argument("--jobs", type=_count, default=10_000)
    parser.add_argument("--applications", type=_count, default=50_000)
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database already has jobs"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="seed even with ENVIRONMENT=production (refused without it: exit code 1)",
    )
    parser.set_defaults(handler=run_seed)


async def _allocate_ids(conn: asyncpg.Connection, table: str, count: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)",
        table,
        count,
    )
    return [r["id"] for r in rows]


async def seed_database(
    conn: asyncpg.Connection, size: d.SeedSize, *, seed: int, if_empty: bool
) -> dict[str, int] | None:
    """Write one dataset in one transaction; None when skipped because jobs exist (if_empty)."""
    async with conn.transaction():
        if if_empty and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM jobs)"):
            return None
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE $1)", f"%@{d.SEED_EMAIL_DOMAIN}"
        ):
            raise SeedError("this database already holds seed data")
        ids = {
            "users": await _allocate_ids(conn, "users", size.employers + size.seekers),
            "companies": await _allocate_ids(conn, "companies", size.companies),
            "jobs": await _allocate_ids(conn, "jobs", size.jobs if size.companies else 0),
            "applications": await _allocate_ids(conn, "applications", size.applications),
        }
        taken = {r["slug"] for r in await conn.fetch("SELECT slug FROM companies")}
        password_hash = PasswordHasher(SEED_BCRYPT_ROUNDS).hash_sync(SEED_PASSWORD)
        data = generate(
            size,
            seed=seed,
            now=datetime.now(UTC),
            password_hash=password_hash,
            ids=ids,
            taken_slugs=taken,
        )
        counts = {}
        for attribute, table, columns in _TABLES:
            records = getattr(data, attribute)
            counts[table] = len(records)
            if records:
                await conn.copy_records_to_table(table, records=records, columns=columns)
    for _, table, _ in _TABLES:
        await conn.execute(f"ANALYZE {table}")
    return counts


class SeedError(Exception):
    pass


async def run_seed(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc)
        return 2
    if settings.is_production and not args.force:
        print("Refusing to seed: ENVIRONMENT is production (add --force if you really mean it)")
        return 1
    database = Database(settings)
    if database.target is None:
        print(f"Cannot seed: {database.config_error}")
        return 2
    size = d.SeedSize(companies=args.companies, jobs=args.jobs, applications=args.applications)
    started = time.perf_counter()
    try:
        async with database.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert raw.driver_connection is not None  # a connection just checked out has one
            counts = await seed_database(
                raw.driver_connection, size, seed=args.seed, if_empty=args.if_empty
            )
            if counts is not None:  # running instances drop their copies of the job pages
                await raw.driver_connection.execute("SELECT pg_notify($1, $2)", CACHE_CHANNEL, JOBS)
    except SeedError as exc:
        print(f"Cannot seed: {exc}")
        return 1
    except asyncpg.UndefinedTableError:
        print("Cannot seed: the database is not migrated; run `alembic upgrade head` first")
        return 1
    except DATABASE_UNAVAILABLE_ERRORS as exc:
        print(f"Cannot seed: the database is unavailable ({type(exc).__name__}: {exc})")
        return 1
    finally:
        await database.dispose()
    if counts is None:
        print("The database already has jobs; nothing seeded.")
        return 0
    redis = RedisState(settings.redis_url, settings.redis_timeout)
    await Cache(redis).invalidate(JOBS)
    await redis.close()
    summary = ", ".join(f"{n} {table}" for table, n in counts.items())
    print(f"Seeded {summary} in {time.perf_counter() - started:.1f} s (seed {args.seed}).")
    print(
        f"Log in as employer1@{d.SEED_EMAIL_DOMAIN} or seeker1@{d.SEED_EMAIL_DOMAIN} "
        f"with password {SEED_PASSWORD}"
    )
    return 0
