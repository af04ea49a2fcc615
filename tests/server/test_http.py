"""HTTP behaviour of the real server that only a real HTTP stack shows: the 500 path and its
log, body limits with Content-Length and with chunked uploads, the cap on a request's headers and
URL, and the JSON access log."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.helpers import assert_error
from tests.support.probe_app import INTERNAL_DETAIL
from tests.support.server_process import ServerProcess, start_server

ORIGIN = "https://hiremebahamas.com"
MAX_BODY = 2048
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    server = start_server(
        {
            "DATABASE_URL": database_url,
            "ALLOWED_ORIGINS": ORIGIN,
            "MAX_BODY_BYTES": str(MAX_BODY),
            "TRUSTED_PROXIES": "127.0.0.1",
        },
        log_path=Path(tmp_path_factory.mktemp("http")) / "server.log",
        args=("tests.support.probe_app:app",),
    )
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def _log_records(server: ServerProcess) -> list[dict[str, Any]]:
    records = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def test_unexpected_exception_is_a_500_with_the_traceback_logged_under_its_id(
    server: ServerProcess, client: httpx.Client
) -> None:
    response = client.get("/test/boom", headers={"Origin": ORIGIN})

    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert INTERNAL_DETAIL not in response.text
    assert "Traceback" not in response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    logged = [r for r in _log_records(server) if r.get("error_id") == body["error_id"]]
    assert len(logged) == 1, server.log()
    assert logged[0]["level"] == "ERROR"
    assert logged[0]["request_id"] == body["request_id"]
    assert "RuntimeError" in logged[0]["exc_info"]
    assert INTERNAL_DETAIL in logged[0]["exc_info"]
    # The server process survives and keeps serving.
    assert client.get("/health").status_code == 200


def test_body_over_the_limit_declared_by_content_length_is_413(client: httpx.Client) -> None:
    response = client.post(
        "/test/echo",
        content=json.dumps({"text": "x" * MAX_BODY}),
        headers={"Content-Type": "application/json", "Origin": ORIGIN},
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.headers["access-control-allow-origin"] == ORIGIN


def _chunks(total: int) -> Iterator[bytes]:
    payload = json.dumps({"text": "x" * (total - 12)}).encode()
    for start in range(0, len(payload), 512):
        yield payload[start : start + 512]


def test_chunked_body_over_the_limit_is_413(client: httpx.Client) -> None:
    response = client.post(
        "/test/echo",
        content=_chunks(MAX_BODY * 2),
        headers={"Content-Type": "application/json", "Origin": ORIGIN},
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_chunked_body_under_the_limit_is_served(client: httpx.Client) -> None:
    response = client.post(
        "/test/echo",
        content=_chunks(MAX_BODY // 2),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["text"].startswith("xxx")


def test_access_log_is_one_json_line_per_request(
    server: ServerProcess, client: httpx.Client
) -> None:
    response = client.get(
        "/test/items/42",
        headers={"X-Request-ID": "trace-abc.123", "X-Forwarded-For": "198.51.100.7"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-abc.123"

    # The access line is written once the response has gone out: wait for it.
    server.wait_for_log('"request_id":"trace-abc.123"')
    lines = [
        r
        for r in _log_records(server)
        if r["logger"] == "app.access" and r.get("request_id") == "trace-abc.123"
    ]
    assert len(lines) == 1, server.log()
    line = lines[0]
    assert line["method"] == "GET"
    assert line["path"] == "/test/items/42"
    assert line["route"] == "/test/items/{item_id}"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    # The peer (127.0.0.1) is a trusted proxy, so the forwarded address is the client's.
    assert line["client"] == "198.51.100.7"


def _worker_rss(server: ServerProcess) -> int:
    [worker] = server.worker_pids()
    status = Path(f"/proc/{worker}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) * 1024


def _raw_request(server: ServerProcess, head: bytes, filler: int) -> bytes:
    """Send `head`, then `filler` bytes of one header's value as an attacker streams them, and
    return what the server answered. Sending stops when the server stops reading."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        chunk = b"a" * (64 * 1024)
        try:
            sock.sendall(head)
            for _ in range(filler // len(chunk)):
                sock.sendall(chunk)
            sock.sendall(b"\r\n\r\n")
        except OSError:  # the server closed the connection: read what it said first
            pass
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
        return answer


def _status_and_body(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_a_32_mb_header_is_refused_with_431_without_growing_the_worker(
    server: ServerProcess, client: httpx.Client
) -> None:
    before = _worker_rss(server)

    answer = _raw_request(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ", 32 * MiB)

    status, body = _status_and_body(answer)
    assert status == 431, answer[:300]
    assert body["error_code"] == "HEADERS_TOO_LARGE"
    assert "65536 bytes" in body["message"]
    assert _worker_rss(server) - before < 8 * MiB
    assert client.get("/health").status_code == 200


def test_a_url_longer_than_the_cap_is_refused_with_414(server: ServerProcess) -> None:
    answer = _raw_request(server, b"GET /health?q=", 1 * MiB)

    status, body = _status_and_body(answer)
    assert status == 414, answer[:300]
    assert body["error_code"] == "URL_TOO_LONG"


def test_big_but_legal_headers_are_served(client: httpx.Client) -> None:
    cookie = "; ".join(f"c{i}={'v' * 60}" for i in range(256))  # 16 KB
    assert len(cookie) > 16 * 1024
    many = {f"X-Trace-{i}": "t" * 100 for i in range(200)}  # 200 headers, 20 KB more
    response = client.get("/health", headers={"Cookie": cookie, **many})
    assert response.status_code == 200, response.text
