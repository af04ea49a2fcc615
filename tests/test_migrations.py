"""The schema only through Alembic: up from empty, down to nothing, every step both ways, and
no drift between the models and the migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.all_models import Base
from app.core.db import parse_database_url
from tests.support.database import run_alembic
from tests.support.server_process import ROOT

# Alembic as a process per step, over every revision: the heaviest tests of the suite, left out
# of the fast subset, with room for a machine busy with parallel workers.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _revisions() -> list[str]:
    """Every revision, oldest first (read from the files; no database involved)."""
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def _tables(url: str) -> set[str]:
    dsn = parse_database_url(url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' AND tablename NOT LIKE 'procrastinate%'"
        )
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


async def _queue_objects(url: str) -> int:
    """Procrastinate's tables, functions and types (its schema comes with revision 0003)."""
    dsn = parse_database_url(url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        return await conn.fetchval(
            "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'procrastinate%') "
            "+ (SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%') "
            "+ (SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%')"
        )
    finally:
        await conn.close()


def _ok(url: str, *args: str) -> str:
    result = run_alembic(url, *args)
    assert result.returncode == 0, f"alembic {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout + result.stderr


async def test_upgrade_downgrade_and_no_drift(create_database: Callable[..., Any]) -> None:
    url = await create_database("hmb_migrations", migrate=False)
    model_tables = set(Base.metadata.tables)

    _ok(url, "upgrade", "head")
    assert await _tables(url) == model_tables
    assert "No new upgrade operations detected" in _ok(url, "check")
    assert await _queue_objects(url) > 0

    _ok(url, "downgrade", "base")
    assert await _queue_objects(url) == 0
    assert await _tables(url) == set()

    _ok(url, "upgrade", "head")
    assert await _tables(url) == model_tables
    assert "No new upgrade operations detected" in _ok(url, "check")


async def test_every_revision_upgrades_and_downgrades_one_step_at_a_time(
    create_database: Callable[..., Any],
) -> None:
    url = await create_database("hmb_migrations", migrate=False)
    revisions = _revisions()
    assert revisions[0] == "0001"
    for revision in revisions:
        _ok(url, "upgrade", revision)
        assert revision in _ok(url, "current")
    for _ in revisions:
        _ok(url, "downgrade", "-1")
    assert await _tables(url) == set()


async def test_migrations_keep_the_urls_sslmode(create_database: Callable[..., Any]) -> None:
    """The local server has no TLS: MIGRATION_DATABASE_URL with sslmode=require must fail
    rather than run the DDL in plain text (the URL used to be rendered back to text without
    its sslmode, and the connection silently fell back to asyncpg's `prefer`)."""
    url = await create_database("hmb_migrations", migrate=False)
    refused = run_alembic(url, "upgrade", "head", migration_database_url=f"{url}?sslmode=require")
    assert refused.returncode != 0, refused.stderr
    assert await _tables(url) == set()

    allowed = run_alembic(url, "upgrade", "head", migration_database_url=f"{url}?sslmode=disable")
    assert allowed.returncode == 0, allowed.stderr
    assert await _tables(url) == set(Base.metadata.tables)


async def test_the_server_ends_a_session_left_idle_in_a_transaction(
    create_database: Callable[..., Any],
) -> None:
    url = await create_database("hmb_idle")
    dsn = parse_database_url(url).url.set(drivername="postgresql")
    dsn_text = dsn.render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn_text)
    try:
        # A new session has the migrated limit without sending any startup parameter (as
        # through PgBouncer's transaction mode).
        assert await admin.fetchval("SHOW idle_in_transaction_session_timeout") == "2min"
        # The same database setting, made short so the test need not wait two minutes.
        await admin.execute(
            f"ALTER DATABASE \"{dsn.database}\" SET idle_in_transaction_session_timeout = '1s'"
        )
        stalled = await asyncpg.connect(dsn_text)
        await stalled.execute("BEGIN; SELECT 1")
        pid = stalled.get_server_pid()
        await asyncio.sleep(3)
        ended = await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
        assert ended == 0
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await stalled.execute("SELECT 1")
        await stalled.close()
    finally:
        await admin.close()
