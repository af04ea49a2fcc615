"""The HTTP contract every route shares (DESIGN 3): one error shape for every failure, CORS on
errors too, request ids, security headers, GZip, hidden docs in production, the access log.

The app is the production create_app(); routes that fail on purpose are added to the app the
test builds, never to the production app."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.core.config import Settings
from app.core.errors import NotFound
from app.core.logging import configure_logging
from tests.support.helpers import assert_error, make_client

ORIGIN = "https://hiremebahamas.com"
PREVIEW_ORIGIN = "https://hiremebahamas-git-new-search-team.vercel.app"
EVIL_ORIGIN = "https://hiremebahamas.com.evil.example"
INTERNAL_DETAIL = "password=hunter2 in a traceback"


class Item(BaseModel):
    name: str = Field(min_length=1)
    qty: int = Field(ge=1)


def _add_test_routes(app: FastAPI) -> None:
    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError(INTERNAL_DETAIL)

    @app.get("/test/missing")
    async def missing() -> None:
        raise NotFound("No such job.")

    @app.get("/test/forbidden")
    async def forbidden() -> None:
        raise HTTPException(403, "Employers only.")

    @app.post("/test/items")
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/test/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/test/big")
    async def big() -> list[dict[str, Any]]:
        return [{"id": i, "title": "Front Desk Agent, Nassau"} for i in range(500)]

    @app.get("/test/stream")
    async def stream() -> StreamingResponse:
        chunks = (f"line {i}: Bonefishing guide, Andros\n" for i in range(300))
        return StreamingResponse(chunks, media_type="text/plain")


SMTP = "smtp.example.com"  # production refuses to start without an SMTP server


@pytest.fixture
async def build(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> Callable[..., Any]:
    async def make(**overrides: Any) -> FastAPI:
        app = await start_app(make_settings(max_body_bytes=2048, **overrides))
        _add_test_routes(app)
        return app

    return make


@pytest.fixture
async def client(build: Callable[..., Any]) -> Any:
    async with make_client(await build()) as client:
        yield client


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def app_logs() -> Iterator[list[logging.LogRecord]]:
    handler = _Records()
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/no-such-thing"), 404, "NOT_FOUND")


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert_error(await client.put("/test/items"), 405, "METHOD_NOT_ALLOWED")


async def test_validation_errors_are_422_with_details(client: httpx.AsyncClient) -> None:
    body = assert_error(
        await client.post("/test/items", json={"name": "", "qty": 0}), 422, "VALIDATION_ERROR"
    )
    assert {tuple(d["loc"]) for d in body["details"]} == {("body", "name"), ("body", "qty")}
    assert all(d["msg"] and d["type"] for d in body["details"])

    assert_error(await client.get("/test/items/not-a-number"), 422, "VALIDATION_ERROR")
    malformed = await client.post(
        "/test/items", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(malformed, 422, "VALIDATION_ERROR")
    not_utf8 = await client.post(
        "/test/items", content=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert assert_error(not_utf8, 422, "VALIDATION_ERROR")["details"][0]["type"] == "json_invalid"


async def test_app_errors_and_http_exceptions_keep_their_status(client: httpx.AsyncClient) -> None:
    body = assert_error(await client.get("/test/missing"), 404, "NOT_FOUND")
    assert body["message"] == "No such job."
    body = assert_error(await client.get("/test/forbidden"), 403, "FORBIDDEN")
    assert body["message"] == "Employers only."


async def test_oversized_bodies_are_413_declared_or_streamed(client: httpx.AsyncClient) -> None:
    big = b'{"name": "' + b"x" * 4096 + b'", "qty": 1}'
    declared = await client.post(
        "/test/items", content=big, headers={"Content-Type": "application/json"}
    )
    assert_error(declared, 413, "PAYLOAD_TOO_LARGE")

    async def stream() -> Any:
        for start in range(0, len(big), 512):
            yield big[start : start + 512]

    streamed = await client.post(
        "/test/items", content=stream(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")

    fits = await client.post("/test/items", json={"name": "desk", "qty": 2})
    assert fits.status_code == 200


async def test_unexpected_exception_is_500_logged_under_its_error_id(
    client: httpx.AsyncClient, app_logs: list[logging.LogRecord]
) -> None:
    response = await client.get("/test/boom")

    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert INTERNAL_DETAIL not in response.text
    assert "RuntimeError" not in response.text
    logged = [r for r in app_logs if getattr(r, "error_id", None) == body["error_id"]]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None
    assert INTERNAL_DETAIL in str(logged[0].exc_info[1])
    assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize("origin", [ORIGIN, PREVIEW_ORIGIN])
@pytest.mark.parametrize(
    ("path", "status"), [("/health", 200), ("/nope", 404), ("/test/boom", 500)]
)
async def test_allowed_origins_get_cors_headers_even_on_errors(
    client: httpx.AsyncClient, origin: str, path: str, status: int
) -> None:
    response = await client.get(path, headers={"Origin": origin})
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize(
    ("path", "status"), [("/health", 200), ("/nope", 404), ("/test/boom", 500)]
)
async def test_other_origins_get_no_cors_headers(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await client.get(path, headers={"Origin": EVIL_ORIGIN})
    assert response.status_code == status
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_from_an_allowed_origin(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/auth/login",
        headers={
            "Origin": PREVIEW_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PREVIEW_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_sane_request_id_is_echoed_and_others_replaced(client: httpx.AsyncClient) -> None:
    sane = "vercel-req_01HZX.42:abc"
    response = await client.get("/nope", headers={"X-Request-ID": sane})
    assert response.headers["x-request-id"] == sane
    assert response.json()["request_id"] == sane

    for bad in ("x" * 200, "has spaces", "semi;colon", "<script>"):
        response = await client.get("/nope", headers={"X-Request-ID": bad})
        replaced = response.headers["x-request-id"]
        assert replaced != bad
        uuid.UUID(hex=replaced)
        assert response.json()["request_id"] == replaced

    generated = (await client.get("/health")).headers["x-request-id"]
    uuid.UUID(hex=generated)


@pytest.mark.parametrize("path", ["/health", "/nope", "/test/boom"])
async def test_security_headers_on_every_response(client: httpx.AsyncClient, path: str) -> None:
    headers = (await client.get(path)).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert "strict-transport-security" not in headers  # not outside production


async def test_hsts_only_in_production(build: Callable[..., Any]) -> None:
    async with make_client(await build(environment="production", smtp_host=SMTP)) as client:
        for path in ("/health", "/nope"):
            hsts = (await client.get(path)).headers["strict-transport-security"]
            assert "max-age=" in hsts


@pytest.mark.parametrize("origin", [None, ORIGIN, EVIL_ORIGIN])
async def test_responses_vary_on_origin_in_one_merged_header(
    client: httpx.AsyncClient, origin: str | None
) -> None:
    """Whether a caller sent an Origin or not, a shared cache must not hand one origin's reply
    to another: every response says Vary: Origin, merged with gzip's Accept-Encoding."""
    headers = {"Origin": origin} if origin else {}
    plain = await client.get("/nope", headers=headers)
    assert plain.headers.get_list("vary") == ["Origin"]
    gzipped = await client.get("/test/big", headers={**headers, "Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.headers.get_list("vary") == ["Accept-Encoding, Origin"]


async def test_large_responses_are_gzipped(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/big", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()) == 500  # httpx decoded it
    raw = await client.get("/test/big", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert int(response.headers["content-length"]) < len(raw.content)

    small = await client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


async def test_streamed_responses_are_gzipped_whole(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/stream", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    lines = response.text.splitlines()  # httpx decoded every chunk
    assert len(lines) == 300
    assert lines[-1] == "line 299: Bonefishing guide, Andros"


@pytest.mark.parametrize(
    ("overrides", "visible"),
    [
        ({}, True),
        ({"environment": "production", "smtp_host": SMTP}, False),
        ({"environment": "production", "smtp_host": SMTP, "enable_docs": True}, True),
        ({"enable_docs": False}, False),
    ],
)
async def test_docs_hidden_in_production_unless_enabled(
    build: Callable[..., Any], overrides: dict[str, Any], visible: bool
) -> None:
    async with make_client(await build(**overrides)) as client:
        docs = await client.get("/docs")
        spec = await client.get("/openapi.json")
    if visible:
        assert docs.status_code == 200
        assert spec.json()["info"]["title"]
    else:
        assert_error(docs, 404, "NOT_FOUND")
        assert_error(spec, 404, "NOT_FOUND")


async def _access_lines(captured: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The JSON access lines the app wrote to stderr (at the end of the loop iteration)."""
    await asyncio.sleep(0)
    lines = [json.loads(line) for line in captured.readouterr().err.splitlines() if line]
    return [line for line in lines if line["logger"] == "app.access"]


async def test_access_log_has_route_template_status_and_request_id(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get("/test/items/7", headers={"X-Request-ID": "req-7"})
    await client.get("/nope", headers={"X-Request-ID": "req-404"})

    first, second = await _access_lines(capsys)
    assert first["message"] == "request"
    assert first["level"] == "INFO"
    assert first["method"] == "GET"
    assert first["path"] == "/test/items/7"
    assert first["route"] == "/test/items/{item_id}"
    assert first["status"] == 200
    assert first["duration_ms"] >= 0
    assert first["request_id"] == "req-7"
    assert second["route"] == "unmatched"
    assert second["status"] == 404
    assert second["request_id"] == "req-404"


async def test_access_lines_of_concurrent_requests_are_each_whole_and_none_is_lost(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lines of one loop iteration go out in one write: still one JSON line each."""
    capsys.readouterr()
    ids = [f"burst-{i}" for i in range(25)]
    await asyncio.gather(
        *(client.get(f"/test/items/{n}", headers={"X-Request-ID": i}) for n, i in enumerate(ids))
    )
    lines = await _access_lines(capsys)
    assert sorted(line["request_id"] for line in lines) == sorted(ids)
    assert {line["route"] for line in lines} == {"/test/items/{item_id}"}


async def test_the_health_probes_are_counted_but_leave_the_access_log(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Health checkers poll them every few seconds: their lines would be most of the log."""
    capsys.readouterr()
    for path in ("/health", "/live", "/ready"):
        assert (await client.get(path, headers={"X-Request-ID": "probe"})).status_code == 200
    await client.get("/test/items/1", headers={"X-Request-ID": "item"})
    assert [line["request_id"] for line in await _access_lines(capsys)] == ["item"]
    metrics = (await client.get("/metrics")).text
    assert 'route="/health",status="200"' in metrics, metrics


async def test_access_log_follows_the_log_level(
    build: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app = await build(log_level="WARNING")
    capsys.readouterr()
    try:
        async with make_client(app) as client:
            assert (await client.get("/test/items/1")).status_code == 200
        assert await _access_lines(capsys) == []
    finally:
        configure_logging("INFO")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client_address"),
    [
        # An untrusted peer cannot choose its address.
        ("203.0.113.10", "198.51.100.7", "203.0.113.10"),
        # A trusted proxy's X-Forwarded-For is believed, up to the first untrusted hop.
        ("10.0.0.5", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        ("10.0.0.5", None, "10.0.0.5"),
    ],
)
async def test_client_address_honours_trusted_proxies_only(
    build: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
    peer: str,
    forwarded_for: str | None,
    client_address: str,
) -> None:
    app = await build(trusted_proxies=["10.0.0.0/8"])
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    capsys.readouterr()
    async with make_client(app, client_ip=peer) as client:
        await client.get("/test/items/1", headers=headers)
    (line,) = await _access_lines(capsys)
    assert line["client"] == client_address


async def test_preflight_from_another_origin_is_refused_in_the_error_shape(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(
        "/api/auth/login",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    body = assert_error(response, 400, "CORS_REJECTED")
    assert "origin" in body["message"]
    assert "access-control-allow-origin" not in response.headers
