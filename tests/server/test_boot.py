"""Gunicorn with gunicorn.conf.py, booted and stopped as Render and Docker do it."""

from __future__ import annotations

import re
import signal
import threading
import time

import httpx
import pytest
from gunicorn.arbiter import Arbiter

from tests.support.server_process import StartServer

PROBE_APP = ("tests.support.probe_app:app",)
BROKEN_APP = ("tests.server.broken_app:app",)


def test_boots_one_uvicorn_worker_and_answers_health(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    server.wait_healthy()
    log = server.log()
    assert "Using worker: app.server.worker.UvicornWorker" in log
    assert "Booting worker with pid" in log
    assert re.search(r"Application startup complete \(lifespan took [0-9.]+ ms\)", log), log
    assert len(server.worker_pids()) == 1, log
    assert httpx.get(server.url("/health")).json() == {"status": "ok"}
    head = httpx.head(server.url("/health"))
    assert head.status_code == 200
    assert head.content == b""


def _in_flight(server_url: str) -> float:
    metrics = httpx.get(server_url + "/metrics").text
    match = re.search(r"^http_requests_in_progress ([0-9.]+)$", metrics, re.MULTILINE)
    assert match, metrics
    return float(match.group(1))


def test_sigterm_lets_a_slow_request_finish_and_exits_zero(
    server_factory: StartServer, database_url: str
) -> None:
    """A request that is waiting on PostgreSQL (pg_sleep through the request session) when
    the master gets SIGTERM still gets its 200, and the worker then exits on its own: exit code
    0 and no "Worker (pid:N) was sent SIGTERM!" (which would mean it died of the signal)."""
    server = server_factory(
        {"DATABASE_URL": database_url, "GUNICORN_GRACEFUL_TIMEOUT": "30"}, args=PROBE_APP
    )
    server.wait_healthy()
    result: dict[str, httpx.Response | BaseException] = {}

    def slow_request() -> None:
        try:
            result["response"] = httpx.get(server.url("/test/db-sleep?seconds=3"), timeout=60)
        except BaseException as exc:
            result["response"] = exc

    client = threading.Thread(target=slow_request)
    client.start()
    deadline = time.monotonic() + 30
    while _in_flight(server.base_url) < 2:  # the slow request plus this /metrics request
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)

    server.send_signal(signal.SIGTERM)
    assert server.wait_exit(timeout=60) == 0, server.log()
    client.join(60)

    response = result["response"]
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 200, response.text
    assert response.json() == {"slept": 3.0}
    log = server.log()
    assert "was sent SIGTERM" not in log
    assert "was sent SIGKILL" not in log
    assert "Application shutdown complete" in log
    assert "Shutting down: Master" in log


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("5432", "Refusing PORT=5432: it is the PostgreSQL port"),
        ("abc", "Invalid PORT 'abc': it must be a number from 1 to 65535."),
        ("70000", "Invalid PORT '70000'"),
    ],
)
def test_bad_port_exits_nonzero_with_a_clear_message(
    server_factory: StartServer, port: str, message: str
) -> None:
    server = server_factory({"PORT": port})
    assert server.wait_exit() != 0
    assert message in server.log()
    assert "Booting worker" not in server.log()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set to a unique random value in production"),
        (
            {"SECRET_KEY": "dev-only-insecure-secret-key-change-me"},
            "SECRET_KEY must be set to a unique random value in production",
        ),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY must be at least 32 characters"),
        (
            {"ALLOWED_ORIGINS": "https://hiremebahamas.com,*"},
            "ALLOWED_ORIGINS must list origins, not '*', in production",
        ),
    ],
)
def test_production_refuses_insecure_settings_in_one_line(
    server_factory: StartServer, overrides: dict[str, str | None], message: str
) -> None:
    server = server_factory({"ENVIRONMENT": "production", **overrides})
    assert server.wait_exit() != 0
    log = server.log()
    refusals = [line for line in log.splitlines() if line.startswith("Refusing to start:")]
    assert len(refusals) == 1, log
    assert message in refusals[0]
    assert "Traceback" not in log
    assert "Booting worker" not in log


def test_routers_that_fail_to_import_stop_the_server_with_the_traceback(
    server_factory: StartServer,
) -> None:
    """Never a server that answers /health without some of its routes."""
    server = server_factory(args=BROKEN_APP)
    assert server.wait_exit() == Arbiter.WORKER_BOOT_ERROR, server.log()
    log = server.log()
    assert "Traceback (most recent call last)" in log
    assert "ImportError: cannot import name 'no_such_router'" in log
    assert "Worker failed to boot." in log
