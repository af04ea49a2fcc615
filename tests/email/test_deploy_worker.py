"""The worker's start commands in the deploy files, run as the platforms run them."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.support.server_process import ROOT, STRONG_KEY, server_env

_RENDER = yaml.safe_load((ROOT / "render.yaml").read_text())["services"]
_COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
WORKER_COMMANDS = {
    "render.yaml worker": next(s for s in _RENDER if s["type"] == "worker")["startCommand"],
    "docker-compose worker": " ".join(_COMPOSE["worker"]["command"]),
}


@pytest.mark.parametrize("name", WORKER_COMMANDS)
def test_worker_start_commands_run_the_worker_and_stop_on_sigterm(
    name: str, database_url: str, tmp_path: Path
) -> None:
    env = server_env({"DATABASE_URL": database_url, "MAIL_DIR": str(tmp_path / "mail")})
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", "exec " + WORKER_COMMANDS[name]],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "worker started" not in log.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert process.poll() is None, log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
        assert "worker stopped" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _start_worker(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m app worker`, run until it exits (a refusal exits at once)."""
    return subprocess.run(
        ["python", "-m", "app", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_worker_refuses_to_start_without_smtp(database_url: str) -> None:
    env = server_env(
        {"DATABASE_URL": database_url, "ENVIRONMENT": "production", "SECRET_KEY": STRONG_KEY}
        | {"ALLOWED_ORIGINS": "https://hiremebahamas.com"}
    )
    result = _start_worker(env)
    assert result.returncode == 1
    assert "Refusing to start" in result.stderr
    assert "SMTP_HOST must be set in production" in result.stderr


def test_the_worker_refuses_to_reach_the_queue_through_the_pooler(database_url: str) -> None:
    """With DATABASE_URL behind PgBouncer and no direct endpoint, the queue's LISTEN would seem
    to hold while the pooler lends its server connection out, and psycopg's prepared statements
    would meet other clients' server connections: the worker says so and does not start."""
    env = server_env({"DATABASE_URL": database_url, "DB_PGBOUNCER": "true"})
    env.pop("MIGRATION_DATABASE_URL", None)
    result = _start_worker(env)
    assert result.returncode == 1
    assert "Refusing to start: DATABASE_URL goes through PgBouncer" in result.stderr
