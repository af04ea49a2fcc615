"""Importing the app, and building it, opens no network connection (DESIGN 1.2); importing
app.main builds nothing."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.support.server_process import ROOT, server_env
from tests.support.tcp_fault import TcpFault

BUILD_APP = """
import app.main
served = app.main.app  # what Gunicorn loads
assert served is app.main.app and served.title
assert app.main.create_app().title
print("built", flush=True)
"""

IMPORT_ONLY = """
import app.main
print("app" in vars(app.main), flush=True)
"""


def test_importing_and_building_the_app_opens_no_connection() -> None:
    with TcpFault() as listener:
        env = server_env(
            {
                "DATABASE_URL": f"postgresql://u:p@127.0.0.1:{listener.port}/db",
                "REDIS_URL": f"redis://127.0.0.1:{listener.port}/0",
            }
        )
        result = subprocess.run(
            [sys.executable, "-c", BUILD_APP],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "built" in result.stdout
        time.sleep(0.2)  # let the listener thread accept anything still in flight
        assert listener.accepted == 0


def test_the_listener_does_count_connections() -> None:
    """The check above would be worthless if the listener could not see a connection."""
    with TcpFault() as listener:
        probe = f"import socket; socket.create_connection(('127.0.0.1', {listener.port})).close()"
        subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
        deadline = time.monotonic() + 10
        while listener.accepted == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert listener.accepted == 1


def test_importing_app_main_builds_nothing() -> None:
    """Gunicorn's master, Alembic and tools import app.main: only the worker builds the app, on
    first access to `app.main:app`."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ONLY],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"
