"""The real server with a database that is missing, hanging or misconfigured: it boots, /health
stays 200, the database probes and database-backed routes say 503 DATABASE_UNAVAILABLE within
the configured timeouts, the password never reaches the log, and it recovers on its own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.helpers import assert_error
from tests.support.server_process import ServerProcess, StartServer, free_port
from tests.support.tcp_fault import TcpFault

PROBE_APP = ("tests.support.probe_app:app",)
PASSWORD = "Recognisable-Pa55word-7f3e"
# Generous bound on every request: the server's own timeouts below are 1-2 s, so a request
# that takes this long has hung.
CLIENT_TIMEOUT = 30.0
LOGIN = {"email": "someone@example.com", "password": "correct horse battery"}
OUTAGE_ENV = {
    "DB_CONNECT_TIMEOUT": "1",
    "DB_POOL_TIMEOUT": "2",
    "HEALTH_CHECK_TIMEOUT": "2",
    "REDIS_URL": None,
}


def _url_on_port(database_url: str, port: int) -> str:
    url = make_url(database_url).set(
        drivername="postgresql", host="127.0.0.1", port=port, password=PASSWORD
    )
    return url.render_as_string(hide_password=False)


@pytest.fixture
def blackhole() -> Iterator[TcpFault]:
    with TcpFault() as server:
        yield server


def _start(server_factory: StartServer, database_url: str) -> ServerProcess:
    server = server_factory({**OUTAGE_ENV, "DATABASE_URL": database_url}, args=PROBE_APP)
    server.wait_healthy()
    return server


def _assert_database_down(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=CLIENT_TIMEOUT) as client:
        assert client.get("/health").json() == {"status": "ok"}

        ready = client.get("/ready/db")
        assert ready.status_code == 503, ready.text
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["database"]["state"] in {"unavailable", "timeout", "not_configured"}

        detailed = client.get("/health/detailed")
        assert detailed.status_code == 200
        assert detailed.json()["status"] == "degraded"

        for _ in range(3):
            for response in (
                client.get("/test/db-sleep"),
                client.post("/api/auth/login", json=LOGIN),
            ):
                assert_error(response, 503, "DATABASE_UNAVAILABLE")
                assert PASSWORD not in response.text
                assert response.headers["retry-after"]

        assert client.get("/health").status_code == 200


def _unreachable(database_url: str, _: TcpFault) -> str:
    return _url_on_port(database_url, free_port())


def _hanging(database_url: str, blackhole: TcpFault) -> str:
    return _url_on_port(database_url, blackhole.port)


def _malformed(_: str, __: TcpFault) -> str:
    return f"postgresql://hmb:{PASSWORD}@db.example.com:notaport/hmb"


@pytest.mark.parametrize(
    ("make_url_for", "logged_reason"),
    [
        (_unreachable, "ConnectionRefusedError"),
        (_hanging, "TimeoutError: no answer within the timeout"),
        (_malformed, "DATABASE_URL is not a valid database URL"),
    ],
    ids=["refused", "hanging", "malformed"],
)
def test_database_outage_is_503_and_health_stays_up(
    server_factory: StartServer,
    database_url: str,
    blackhole: TcpFault,
    make_url_for: Callable[[str, TcpFault], str],
    logged_reason: str,
) -> None:
    server = _start(server_factory, make_url_for(database_url, blackhole))
    _assert_database_down(server)

    log = server.log()
    assert PASSWORD not in log
    assert "Traceback" not in log
    # The outage is logged once, not once per request.
    outage_lines = [
        line
        for line in log.splitlines()
        if "database unavailable" in line or "DATABASE_URL is not a valid" in line
    ]
    assert len(outage_lines) == 1, log
    assert logged_reason in outage_lines[0]


def test_health_answers_while_the_database_hangs(
    server_factory: StartServer, database_url: str, blackhole: TcpFault
) -> None:
    """While a database request is stuck in its connect (the peer accepted and says nothing),
    /health still answers."""
    server = server_factory(
        {
            **OUTAGE_ENV,
            "DB_CONNECT_TIMEOUT": "5",
            "DATABASE_URL": _hanging(database_url, blackhole),
        },
        args=PROBE_APP,
    )
    server.wait_healthy()
    with httpx.Client(base_url=server.base_url, timeout=CLIENT_TIMEOUT) as client:
        import threading

        stuck = threading.Thread(target=client.get, args=("/test/db-sleep",))
        stuck.start()
        deadline = time.monotonic() + CLIENT_TIMEOUT
        while blackhole.accepted == 0:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.02)
        assert client.get("/health").json() == {"status": "ok"}
        stuck.join(CLIENT_TIMEOUT)


def _wait_for_status(server: ServerProcess, path: str, status: int) -> httpx.Response:
    deadline = time.monotonic() + CLIENT_TIMEOUT
    with httpx.Client(base_url=server.base_url, timeout=CLIENT_TIMEOUT) as client:
        while True:
            response = client.get(path)
            if response.status_code == status:
                return response
            if time.monotonic() > deadline:
                pytest.fail(f"{path} never answered {status}: {response.text}\n{server.log()}")
            time.sleep(0.1)


def test_recovers_on_its_own_when_the_database_returns(
    server_factory: StartServer, database_url: str
) -> None:
    """The database's port first refuses connections, then forwards to the real PostgreSQL,
    then goes away and comes back again: the same server process follows each change."""
    port = free_port()
    server = _start(server_factory, _url_on_port(database_url, port))
    _assert_database_down(server)

    for _ in range(2):
        with TcpFault(("127.0.0.1", make_url(database_url).port or 5432), port=port):
            _wait_for_status(server, "/ready/db", 200)
            response = _wait_for_status(server, "/test/db-sleep", 200)
            assert response.json() == {"slept": 0.0}
        _wait_for_status(server, "/ready/db", 503)
        assert_error(_wait_for_status(server, "/test/db-sleep", 503), 503, "DATABASE_UNAVAILABLE")

    log = server.log()
    assert "database reachable again" in log
    assert PASSWORD not in log
