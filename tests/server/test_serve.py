"""`python -m app serve`, the start command of Procfile, render.yaml and the Dockerfile: it
refuses a server setting Gunicorn would choke on in one line, else it becomes Gunicorn's
master (the same process)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server_process import ROOT, StartServer, server_env

SERVE = [sys.executable, "-m", "app", "serve"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # Gunicorn itself int()s WEB_CONCURRENCY on import: its traceback (exit 1) without serve.
        (
            {"WEB_CONCURRENCY": "abc"},
            "Invalid WEB_CONCURRENCY 'abc': it must be a whole number of at least 1.",
        ),
        # ... and its `Error: Value must be positive`.
        (
            {"WEB_CONCURRENCY": "-1"},
            "Invalid WEB_CONCURRENCY '-1': it must be a whole number of at least 1.",
        ),
        (
            {"WEB_CONCURRENCY": "0"},
            "Invalid WEB_CONCURRENCY '0': it must be a whole number of at least 1.",
        ),
        ({"PORT": "abc"}, "Invalid PORT 'abc': it must be a number from 1 to 65535."),
        # Gunicorn reads an unknown level silently as info.
        (
            {"GUNICORN_LOG_LEVEL": "verbose"},
            "Invalid GUNICORN_LOG_LEVEL 'verbose': it must be one of debug, info, warning, "
            "error, critical.",
        ),
        # Below a few KiB ordinary browsers' requests would be refused.
        (
            {"MAX_HEADER_BYTES": "512"},
            "Invalid MAX_HEADER_BYTES '512': it must be a whole number of at least 4096.",
        ),
    ],
)
def test_an_unusable_setting_is_refused_in_one_line_with_exit_2(
    overrides: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        SERVE, cwd=ROOT, env=server_env(overrides), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""


def test_it_becomes_the_gunicorn_master_that_sigterm_stops_with_exit_0(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url, "WEB_CONCURRENCY": "1"}, command=SERVE)
    server.wait_healthy()
    # The process started is the master itself (exec), not a parent waiting on one.
    assert "gunicorn" in Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
    assert len(server.worker_pids()) == 1, server.log()

    server.send_signal(signal.SIGTERM)
    assert server.wait_exit() == 0, server.log()
    log = server.log()
    assert "Application shutdown complete" in log
    assert "Shutting down: Master" in log


def test_arguments_after_serve_go_to_gunicorn(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url}, command=[*SERVE, "--workers", "2"])
    server.wait_healthy()
    assert len(server.worker_pids()) == 2, server.log()
