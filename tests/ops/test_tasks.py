"""The two commands as a newcomer meets them: real `--help`, unknown flags refused, and
`.env.example` copied to `.env` leaving `run` working on the embedded PostgreSQL, which
prints the URL to open once the API answers."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server_process import ROOT, free_port

URL_LINE = re.compile(r"HireMeBahamas API is up at (http://localhost:\d+) - open (\S+/docs)")


def tasks(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(cwd / "tasks.py"), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("command", ["run", "test", "lint", "bench", "lock"])
def test_every_command_has_a_real_help(command: str) -> None:
    result = tasks(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python3 tasks.py {command}")
    assert "Embedded PostgreSQL" not in result.stdout  # nothing was started


@pytest.mark.parametrize(
    "args", [("run", "--bogus"), ("lint", "--fix-everything"), ("lock", "--bogus"), ("serve",), ()]
)
def test_unknown_commands_and_flags_exit_2(args: tuple[str, ...]) -> None:
    result = tasks(*args)
    assert result.returncode == 2
    assert "usage: python3 tasks.py" in result.stderr


def test_unknown_pytest_flags_exit_2(server_database_url: str) -> None:
    result = tasks("test", "--no-such-pytest-flag", DATABASE_URL=server_database_url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unrecognized arguments: --no-such-pytest-flag" in result.stderr


@pytest.fixture
def newcomer_checkout(tmp_path: Path) -> Iterator[Path]:
    """The project as a newcomer has it, with `.env.example` copied to `.env` (the virtualenv
    and the code shared with this checkout; the data folder its own)."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("tasks.py", "gunicorn.conf.py", "alembic.ini", "pyproject.toml"):
        shutil.copy(ROOT / name, checkout / name)
    for name in ("app", "alembic", ".venv"):
        (checkout / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / ".env.example", checkout / ".env")
    yield checkout
    postmaster = checkout / ".data" / "postgres" / "postmaster.pid"
    if postmaster.exists():  # the run did not get to stop its PostgreSQL
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(postmaster.read_text().split()[0]), signal.SIGTERM)


@pytest.mark.slow
def test_run_with_the_example_env_serves_on_the_embedded_database(
    newcomer_checkout: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(PORT=str(port), PYTHONUNBUFFERED="1")
    log_path = newcomer_checkout / "run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "tasks.py", "run"],
            cwd=newcomer_checkout,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while not (found := URL_LINE.search(log_path.read_text(errors="replace"))):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        assert found.group(1) == f"http://localhost:{port}"
        output = log_path.read_text()
        assert "Embedded PostgreSQL running in" in output
        assert "Traceback" not in output
        with httpx.Client(timeout=30) as http:
            assert http.get(found.group(2)).status_code == 200
            assert http.get(f"http://127.0.0.1:{port}/api/jobs").json()["items"] == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log_path.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
