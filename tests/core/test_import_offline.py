"""Importing the app, and building it, opens no network connection (DESIGN 1.2); and what the
worker loads before it answers the probes is only what they need (app/boot.py)."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.server_process import ROOT, server_env
from tests.tcp_fault import TcpFault

BUILD_APP = """
import app.main
front = app.main.app  # what Gunicorn loads: the front that builds the API in its lifespan
api = app.main.create_app()  # what the front builds
assert api.title
print("built", flush=True)
"""

# Imported only by the API's build, after the worker already answers /health.
API_ONLY_MODULES = ("sqlalchemy", "asyncpg", "redis", "limits", "passlib", "bcrypt", "jwt")
API_ONLY_PACKAGES = ("app.routers", "app.core.db", "app.auth", "app.jobs", "app.users")

LOAD_FRONT = """
import sys
import app.main
app.main.app
print(" ".join(sorted(sys.modules)))
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


def test_the_front_loads_none_of_the_api() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOAD_FRONT],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = result.stdout.split()
    too_early = [
        name
        for name in loaded
        if name.split(".")[0] in API_ONLY_MODULES
        or any(name == p or name.startswith(p + ".") for p in API_ONLY_PACKAGES)
    ]
    assert too_early == []
    assert "app.boot" in loaded
