"""`python -m app grant-admin`: the only road to the admin role."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import asyncpg
import httpx

from tests.support.accounts import bearer, register
from tests.support.server_process import ROOT


def _grant_admin(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "app", "grant-admin", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_grant_admin_by_email(
    client: httpx.AsyncClient, database_url: str, db: asyncpg.Connection
) -> None:
    account: dict[str, Any] = await register(client, "chief@example.com", role="employer")
    result = _grant_admin(database_url, "--email", "  CHIEF@Example.com ")
    assert result.returncode == 0, result.stderr
    assert "chief@example.com" in result.stdout
    assert "now an admin (was employer)" in result.stdout
    assert await db.fetchval("SELECT role FROM users") == "admin"
    # The existing session sees the new role at once.
    me = await client.get("/api/auth/me", headers=bearer(account["access_token"]))
    assert me.json()["role"] == "admin"

    again = _grant_admin(database_url, "--email", "chief@example.com")
    assert again.returncode == 0
    assert "already an admin" in again.stdout


async def test_grant_admin_unknown_email_fails_clearly(database_url: str) -> None:
    result = _grant_admin(database_url, "--email", "nobody@example.com")
    assert result.returncode == 1
    assert "No account has the email nobody@example.com" in result.stderr


def test_grant_admin_without_a_database_fails_clearly() -> None:
    result = _grant_admin("not a url", "--email", "a@example.com")
    assert result.returncode == 2
    assert "Cannot grant admin" in result.stderr
    assert result.stdout == ""
