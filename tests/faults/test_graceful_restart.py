"""Restarts under load lose no request the app had started, and the process exits 0 without
Gunicorn having to kill its worker: SIGTERM to the Gunicorn master (as Render sends it on every
deploy), and the worker's own recycling after max_requests.

Each request carries its own X-Request-ID, and the app's access log names the requests it
handled, so "started" is what the app saw, not a guess from timing. A connection the app never
read from may be closed unanswered as the listener or an idle keep-alive connection goes away
(the platform stops routing before it signals; HTTP clients retry such a connection, RFC 9112
9.3.1): those are counted, and must not be requests the app handled.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
import time

import httpx
import pytest

from tests.support.server_process import ServerProcess, StartServer

PROBE_APP = ("tests.support.probe_app:app",)
SLOW_SECONDS = 2.0
IN_FLIGHT = 8
LOAD_CLIENTS = 4
RECYCLE_AFTER = 40
RECYCLES = 3
REQUEST_BOUND = 30.0

pytestmark = pytest.mark.slow
_ids = itertools.count()


def _handled(server: ServerProcess) -> dict[str, int]:
    """request id -> status, for every request the app's access log recorded."""
    handled = {}
    for line in server.log().splitlines():
        if line.startswith("{") and '"logger":"app.access"' in line:
            record = json.loads(line)
            handled[record["request_id"]] = record["status"]
    return handled


async def _get(client: httpx.AsyncClient, seconds: float) -> tuple[str, httpx.Response | str]:
    request_id = f"graceful-{next(_ids)}"
    try:
        response = await client.get(
            "/test/db-sleep", params={"seconds": seconds}, headers={"X-Request-ID": request_id}
        )
    except httpx.ConnectError:
        return request_id, "refused"
    except httpx.HTTPError as exc:
        return request_id, f"closed unanswered: {type(exc).__name__}"
    return request_id, response


async def _steady_load(
    base_url: str, stop: asyncio.Event, *, keep_alive: bool = False
) -> list[tuple[str, object]]:
    """Fast requests until `stop` or until the server refuses connections; a connection
    closed unanswered is replaced by a new one, as an HTTP client does."""
    outcomes: list[tuple[str, object]] = []
    limits = httpx.Limits(max_keepalive_connections=1 if keep_alive else 0)
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_BOUND, limits=limits) as c:
        while not stop.is_set() and (not outcomes or outcomes[-1][1] != "refused"):
            outcomes.append(await _get(c, 0))
    return outcomes


def _assert_no_handled_request_lost(
    outcomes: list[tuple[str, object]], handled: dict[str, int]
) -> None:
    """Every request the app handled got its answer; the others never reached it."""
    served = 0
    for request_id, outcome in outcomes:
        if isinstance(outcome, httpx.Response):
            assert outcome.status_code == 200, outcome.text
            assert handled[request_id] == 200
            served += 1
        else:
            assert request_id not in handled, (request_id, outcome)
    assert served > 0


async def _wait_in_flight(client: httpx.AsyncClient, server: ServerProcess, n: int) -> None:
    """Until the app reports at least `n` requests in progress besides this /metrics scrape."""
    deadline = time.monotonic() + REQUEST_BOUND
    while True:
        metrics = (await client.get("/metrics")).text
        match = re.search(r"^http_requests_in_progress (\S+)$", metrics, re.MULTILINE)
        if match and float(match.group(1)) >= n + 1:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the requests never reached the app:\n{server.log()[-4000:]}")
        await asyncio.sleep(0.05)


async def test_sigterm_under_load_loses_no_started_request(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url, "REDIS_URL": None}, args=PROBE_APP)
    server.wait_healthy()

    async with httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_BOUND) as client:
        stop_load = asyncio.Event()
        load = [
            asyncio.create_task(_steady_load(server.base_url, stop_load))
            for _ in range(LOAD_CLIENTS)
        ]
        slow = [asyncio.create_task(_get(client, SLOW_SECONDS)) for _ in range(IN_FLIGHT)]
        await _wait_in_flight(client, server, IN_FLIGHT)

        server.send_signal(signal.SIGTERM)
        slow_outcomes = await asyncio.gather(*slow)
        stop_load.set()
        load_outcomes = [o for task in load for o in await task]

    assert server.wait_exit() == 0
    handled = _handled(server)

    # The slow requests were in the app when the signal came: each got its whole answer.
    for request_id, outcome in slow_outcomes:
        assert isinstance(outcome, httpx.Response), (request_id, outcome)
        assert outcome.status_code == 200 and outcome.json() == {"slept": SLOW_SECONDS}
        assert handled[request_id] == 200

    _assert_no_handled_request_lost(load_outcomes, handled)

    log = server.log()
    assert "was sent SIGTERM" not in log
    assert "Application shutdown complete" in log


async def test_worker_recycling_under_keep_alive_load_loses_no_started_request(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "GUNICORN_MAX_REQUESTS": str(RECYCLE_AFTER),
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
        },
        args=PROBE_APP,
    )
    server.wait_healthy()

    stop_load = asyncio.Event()
    load = [
        asyncio.create_task(_steady_load(server.base_url, stop_load, keep_alive=True))
        for _ in range(LOAD_CLIENTS)
    ]
    deadline = time.monotonic() + REQUEST_BOUND
    while server.log().count("Maximum request limit") < RECYCLES:
        assert time.monotonic() < deadline, server.log()[-4000:]
        await asyncio.sleep(0.1)
    stop_load.set()
    outcomes = [o for task in load for o in await task]

    # The access line is written once the response is sent: give the last ones a moment.
    answered = {rid for rid, outcome in outcomes if isinstance(outcome, httpx.Response)}
    deadline = time.monotonic() + REQUEST_BOUND
    while not answered <= _handled(server).keys() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    _assert_no_handled_request_lost(outcomes, _handled(server))
    assert "was sent SIGTERM" not in server.log()
    server.wait_healthy()
