"""The worker answers the probes as soon as it boots and builds the API in a thread meanwhile
(app/boot.py): requests that come before the API is built wait for it and get its answer, the
probes answer the same before and after, and a build that fails stops the whole server."""

from __future__ import annotations

import re
import signal
import threading
from pathlib import Path

import httpx
from gunicorn.arbiter import Arbiter

from tests.helpers import assert_error
from tests.server_process import StartServer

GATED_APP = ("tests.server.gated_app:app",)
BROKEN_APP = ("tests.server.broken_app:app",)
WAIT = 60.0  # generous bound on waits: reaching it means a hang, not slowness


def test_an_api_request_sent_when_health_first_answers_gets_its_real_answer(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    server.wait_healthy()
    with httpx.Client(base_url=server.base_url, timeout=WAIT) as client:
        assert_error(client.get("/api/users/me"), 401, "UNAUTHORIZED")
        assert client.get("/ready/db").json()["database"]["state"] == "ok"
        assert client.get("/ready").json() == {"status": "ready"}


def test_once_built_the_probes_answered_by_the_front_are_counted_in_metrics(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    server.wait_healthy()
    server.wait_for_log("API built in")
    with httpx.Client(base_url=server.base_url, timeout=WAIT) as client:
        for _ in range(3):
            assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").json() == {"status": "ready"}
        metrics = client.get("/metrics").text
    counted = re.search(
        r'^http_requests_total\{method="GET",route="/health",status="200"\} (\S+)$',
        metrics,
        re.MULTILINE,
    )
    assert counted is not None, metrics
    assert float(counted.group(1)) >= 3
    assert 'route="/ready",status="200"' in metrics


def _probe_view(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k != "date"}
    return response.status_code, response.content, headers


def test_before_the_api_is_built_probes_answer_and_api_requests_wait(
    server_factory: StartServer, database_url: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    server = server_factory({"BOOT_GATE": str(gate), "DATABASE_URL": database_url}, args=GATED_APP)
    server.wait_healthy()
    outcome: dict[str, httpx.Response | BaseException] = {}

    def api_request() -> None:
        try:
            outcome["response"] = httpx.get(server.url("/api/users/me"), timeout=WAIT)
        except BaseException as exc:
            outcome["response"] = exc

    with httpx.Client(base_url=server.base_url, timeout=WAIT) as client:
        probes = ("/health", "/live")
        before = {
            (method, path): client.request(method, path, headers={"X-Request-ID": "probe-1"})
            for method in ("GET", "HEAD")
            for path in probes
        }
        not_ready = client.get("/ready")
        assert_error(not_ready, 503, "SERVICE_UNAVAILABLE")
        assert not_ready.headers["retry-after"] == "1"
        assert not_ready.headers["cache-control"] == "no-store"
        assert not_ready.headers["x-content-type-options"] == "nosniff"

        waiting = threading.Thread(target=api_request)
        waiting.start()
        assert_error(client.get("/ready"), 503, "SERVICE_UNAVAILABLE")  # still building
        gate.touch()
        waiting.join(WAIT)
        response = outcome["response"]
        assert isinstance(response, httpx.Response), response
        assert_error(response, 401, "UNAUTHORIZED")

        assert client.get("/ready").json() == {"status": "ready"}
        for (method, path), early in before.items():
            late = client.request(method, path, headers={"X-Request-ID": "probe-1"})
            assert _probe_view(late) == _probe_view(early), (method, path)
    assert before["GET", "/health"].json() == {"status": "ok"}
    assert before["GET", "/health"].headers["x-request-id"] == "probe-1"

    # Both the early and the late probes wrote their access line.
    server.wait_for_log("API built in")
    server.wait_for_log('"route":"/live","status":200')
    log = server.log()
    assert log.count('"path":"/health","route":"/health","status":200') >= 3, log


def test_sigterm_while_the_api_is_still_building_exits_zero(
    server_factory: StartServer, tmp_path: Path
) -> None:
    server = server_factory({"BOOT_GATE": str(tmp_path / "never-opened")}, args=GATED_APP)
    server.wait_healthy()
    server.send_signal(signal.SIGTERM)
    assert server.wait_exit() == 0, server.log()
    log = server.log()
    assert "was sent SIGTERM" not in log
    assert "API built" not in log
    assert "Shutting down: Master" in log


def test_routers_that_fail_to_import_stop_the_server_with_the_traceback(
    server_factory: StartServer,
) -> None:
    server = server_factory(args=BROKEN_APP)
    assert server.wait_exit() == Arbiter.WORKER_BOOT_ERROR, server.log()
    log = server.log()
    assert "The app failed to build; the worker exits" in log
    assert "Traceback (most recent call last)" in log
    assert "ImportError: cannot import name 'no_such_router'" in log
    assert "Worker failed to boot." in log
    assert "API built" not in log
