"""`python -m app`, the operator CLI, run as operators run it: a process against a real
database (and Redis), judged by its exit code, its output and what changed."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.helpers import assert_error, make_client
from tests.support.server_process import ROOT, STRONG_KEY

ADMIN_PASSWORD = "a long admin passphrase"
COMMANDS = ("migrate", "serve", "seed", "create-admin", "grant-admin", "revoke-admin", "unlock")


def cli(
    *args: str, env: dict[str, str | None] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    full["MIGRATION_DATABASE_URL"] = ""
    for key, value in (env or {}).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=full,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_touches_nothing(command: str) -> None:
    result = cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m app {command}")
    assert "Exit code" in result.stdout or command == "seed"


def test_unknown_commands_and_flags_are_refused() -> None:
    for args in (("frobnicate",), ("migrate", "--everything"), ("unlock",)):
        result = cli(*args)
        assert result.returncode == 2, args
        assert "usage: python -m app" in result.stderr


async def test_migrate_brings_an_empty_database_to_head(
    create_database: Callable[..., Any],
) -> None:
    url = await create_database(migrate=False)
    result = cli("migrate", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Migrating postgresql+asyncpg://postgres@" in result.stdout
    assert "The database is at head (" in result.stdout
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.jobs') IS NOT NULL")
    finally:
        await conn.close()
    again = cli("migrate", env={"DATABASE_URL": url})
    assert again.returncode == 0, again.stderr


def test_migrate_without_a_usable_database_is_exit_2() -> None:
    result = cli("migrate", env={"DATABASE_URL": "mysql://nope/x"})
    assert result.returncode == 2
    assert "Cannot migrate: DATABASE_URL must be a PostgreSQL URL" in result.stderr


def create_admin(
    database_url: str, email: str, password: str, full_name: str = "Chief Admin"
) -> subprocess.CompletedProcess[str]:
    """create-admin as a script runs it: the password on stdin."""
    args = ("create-admin", "--email", email, "--full-name", full_name)
    return cli(*args, env={"DATABASE_URL": database_url}, stdin=password + "\n")


async def test_create_admin_from_stdin_then_sign_in(
    database_url: str, client: httpx.AsyncClient
) -> None:
    created = create_admin(database_url, "Chief@Example.com", ADMIN_PASSWORD)
    assert created.returncode == 0, created.stderr
    assert "chief@example.com" in created.stdout and "is an admin" in created.stdout
    signed_in = await login(client, "chief@example.com", ADMIN_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "admin"

    taken = create_admin(database_url, "chief@example.com", ADMIN_PASSWORD, "Again")
    assert taken.returncode == 1
    assert "already exists" in taken.stderr


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 8 characters"), ("x" * 73, "too long")],
)
def test_create_admin_refuses_what_sign_up_refuses(
    database_url: str, password: str, message: str
) -> None:
    result = create_admin(database_url, "chief@example.com", password)
    assert result.returncode == 1
    assert message in result.stderr


def test_create_admin_prompts_for_the_password_twice(database_url: str) -> None:
    """On a terminal the password is asked for (getpass, not echoed) and confirmed."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env.update(DATABASE_URL=database_url, MIGRATION_DATABASE_URL="")
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        os.chdir(ROOT)
        os.execve(  # noqa: S606 - pty.fork's child becomes the command
            sys.executable,
            [
                sys.executable,
                "-m",
                "app",
                "create-admin",
                "--email",
                "tty@example.com",
                "--full-name",
                "Terminal Admin",
            ],
            env,
        )
    output = b""
    for answer in (ADMIN_PASSWORD, ADMIN_PASSWORD):
        output += _read_until(fd, b": ")
        os.write(fd, answer.encode() + b"\n")
    output += _read_until(fd, None)
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Password for the new admin:" in text and "The same password again:" in text
    assert ADMIN_PASSWORD not in text  # never echoed
    assert "tty@example.com" in text and "is an admin" in text


def _read_until(fd: int, marker: bytes | None, timeout: float = 60.0) -> bytes:
    """Read the pty until `marker` (or the child's end, for None)."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            return data
        if not chunk:
            return data
        data += chunk
        if marker is not None and data.rstrip().endswith(marker.rstrip()):
            return data
    pytest.fail(f"no {marker!r} from the command: {data!r}")


async def test_revoke_admin_ends_its_sessions(
    database_url: str, client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    account = await register(client, "boss@example.com", role="employer")
    assert (
        cli(
            "grant-admin", "--email", "boss@example.com", env={"DATABASE_URL": database_url}
        ).returncode
        == 0
    )
    result = cli(
        "revoke-admin",
        "--email",
        "BOSS@example.com",
        "--role",
        "employer",
        env={"DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    assert "no longer an admin (now employer)" in result.stdout
    assert await db.fetchval("SELECT role FROM users") == "employer"
    assert_error(await client.get("/api/auth/me", headers=bearer(account["access_token"])), 401)

    again = cli("revoke-admin", "--email", "boss@example.com", env={"DATABASE_URL": database_url})
    assert again.returncode == 1
    assert "is not an admin" in again.stderr
    unknown = cli("revoke-admin", "--email", "who@example.com", env={"DATABASE_URL": database_url})
    assert unknown.returncode == 1
    assert "No account has the email who@example.com" in unknown.stderr


async def test_unlock_clears_the_failed_login_limit(
    client: httpx.AsyncClient, app: FastAPI, redis_url: str | None
) -> None:
    if redis_url is None:
        pytest.skip("needs Redis: set REDIS_URL")
    await register(client, "locked@example.com")
    # From an address the account does not know (the one it signed up from is never refused).
    async with make_client(app, client_ip="192.0.2.66") as stranger:
        for _ in range(5):
            response = await login(stranger, "locked@example.com", "wrong password")
            assert response.status_code == 401
        assert_error(await login(stranger, "locked@example.com"), 429, "RATE_LIMITED")

        result = cli("unlock", "--email", " LOCKED@example.com", env={"REDIS_URL": redis_url})
        assert result.returncode == 0, result.stderr
        assert "Clearing the failed sign-in limit of locked@example.com" in result.stdout
        assert (await login(stranger, "locked@example.com", PASSWORD)).status_code == 200


def test_unlock_without_redis_says_why_it_cannot() -> None:
    result = cli("unlock", "--email", "a@example.com", env={"REDIS_URL": None})
    assert result.returncode == 1
    assert "REDIS_URL is not set" in result.stderr


def test_unlock_with_redis_down_is_exit_2() -> None:
    result = cli("unlock", "--email", "a@example.com", env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 2
    assert "Redis does not answer" in result.stderr


async def test_seed_refuses_production_without_force(
    database_url: str, db: asyncpg.Connection
) -> None:
    production = {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_ORIGINS": "https://hiremebahamas.com",
        "SMTP_HOST": "smtp.example.com",
    }
    small = ("--companies", "1", "--jobs", "1", "--applications", "0")
    refused = cli("seed", *small, env=production)
    assert refused.returncode == 1
    assert "Refusing to seed: ENVIRONMENT is production" in refused.stdout
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0

    forced = cli("seed", *small, "--force", env=production)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert await db.fetchval("SELECT count(*) FROM jobs") == 1
