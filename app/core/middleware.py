"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request).

Outermost first: RequestContext (request id, client address, security headers, `no-store`
unless the route allows caching, access log, metrics) -> CORS ->
ApiRateLimit (RATE_LIMIT_PER_MINUTE per client on /api/*) -> GZip ->
UnhandledError (500 in the error shape, inside CORS so browsers can read it) -> BodySizeLimit
(413) -> FastAPI.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
import zlib
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PayloadTooLarge, RateLimited, error_body, error_response
from app.core.json import send_json
from app.core.logging import AccessLog
from app.core.metrics import Metrics
from app.core.ratelimit import FleetRateLimit
from app.core.request_context import accept_request_id, bind_request_id, reset_request_id

error_log = logging.getLogger("app.errors")

CLIENT_CLOSED_REQUEST = 499

_BASE_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Which peers may tell us the client's address through X-Forwarded-For."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = list(entries)
        self.trust_all = "*" in entries
        self.networks: list[Network] = [
            ipaddress.ip_network(e, strict=False) for e in entries if e != "*"
        ]

    def trusts(self, host: str) -> bool:
        if self.trust_all:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """The rightmost address in the chain that is not one of our proxies."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's full path template (`/api/jobs/{job_id}`), for low-cardinality
    metrics and logs. FastAPI keeps an included router's route relative to its prefix; the
    full template is on its effective route context (tests/health pins this behaviour)."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    route = context or scope.get("route")
    template = getattr(route, "path_format", None)
    return template or "unmatched"


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, proxies: TrustedProxies, hsts: bool
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.proxies = proxies
        self.security_headers = _BASE_SECURITY_HEADERS + ([_HSTS] if hsts else [])
        self.access_log = AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming_id = forwarded_for = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                incoming_id = value.decode("latin-1")
            elif key == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
        request_id = accept_request_id(incoming_id)
        peer = scope["client"][0] if scope.get("client") else "unknown"
        client = self.proxies.client_address(peer, forwarded_for)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = client
        token = bind_request_id(request_id)
        # What is recorded when no response was started: the client left first (a failure
        # would have been answered 500 by UnhandledErrorMiddleware). 499 as nginx logs it.
        status = CLIENT_CLOSED_REQUEST
        extra_headers = [(b"x-request-id", request_id.encode()), *self.security_headers]

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                # Personal and token-bearing by default: only a route that says so is cacheable
                # (app/core/http_cache.py), so a CDN rule can never store a login.
                if not any(key == b"cache-control" for key, _ in headers):
                    headers = [*headers, _NO_STORE]
                message["headers"] = [*headers, *extra_headers]
            await send(message)

        metrics = self.metrics
        metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            metrics.in_flight -= 1
            elapsed = time.perf_counter() - started
            template = _route_template(scope)
            metrics.observe(scope["method"], template, status, elapsed)
            self.access_log.write(
                request_id,
                method=scope["method"],
                path=scope["path"],
                route=template,
                status=status,
                seconds=elapsed,
                client=client,
            )
            reset_request_id(token)


class CORSMiddleware(StarletteCORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the one error shape, and a short
    way for requests without an Origin (servers, probes, same-origin): all Starlette does for
    those is add `Vary: Origin`, through a MutableHeaders per response (~30 us, bench/)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(key == b"origin" for key, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_varying_on_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                vary = [value for key, value in headers if key == b"vary"]
                if vary:  # merged into one, as Starlette does
                    headers[:] = [(k, v) for k, v in headers if k != b"vary"]
                    headers.append((b"vary", b", ".join([*vary, b"Origin"])))
                else:
                    headers.append((b"vary", b"Origin"))
            await send(message)

        await self.app(scope, receive, send_varying_on_origin)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.startswith("access-control-") or k == "vary"
        }
        message = bytes(response.body).decode()  # e.g. "Disallowed CORS origin"
        return error_response(400, "CORS_REJECTED", f"{message}.", headers=headers)


class UnhandledErrorMiddleware:
    """Any exception nothing else handled becomes a 500 in the error shape; the traceback is
    logged under the error id the client sees, and the client sees no internals."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            # Nobody is left to answer, and nothing failed on our side: not an error, and no
            # 5xx in the metrics for anyone who aborts an upload on purpose.
            error_log.info("client disconnected on %s %s", scope["method"], scope["path"])
        except Exception:
            error_id = str(uuid.uuid4())
            error_log.exception(
                "unhandled error %s on %s %s",
                error_id,
                scope["method"],
                scope["path"],
                extra={"error_id": error_id},
            )
            if response_started:
                raise
            body = error_body(
                500, "INTERNAL_ERROR", "Something went wrong on our side.", error_id=error_id
            )
            await send_json(send, body, status=500)


class BodySizeLimitMiddleware:
    """413 for bodies over the limit, whether announced by Content-Length or streamed.

    `own_limit` matches the paths whose route bounds its body itself (a file upload, by its
    purpose's limit): only those skip this one."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, own_limit: str | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limit = re.compile(own_limit) if own_limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.own_limit and self.own_limit.match(scope["path"])):
            await self.app(scope, receive, send)
            return
        declared: str | None = None
        chunked = False
        for key, value in scope["headers"]:
            if key == b"content-length":
                declared = value.decode("latin-1")
            elif key == b"transfer-encoding":
                chunked = True
        if declared is None and not chunked:  # HTTP/1.1: a request without either has no body
            await self.app(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, not an AppError: FastAPI's body parser turns any other
                    # exception into a 400 "error parsing the body" but re-raises these.
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return f"The request body exceeds {self.max_bytes} bytes."

    async def _reject(self, send: Send) -> None:
        err = PayloadTooLarge(self._message())
        body = error_body(err.status_code, err.error_code, err.message)
        await send_json(send, body, status=err.status_code, headers=[(b"connection", b"close")])


def _accepts_gzip(scope: Scope) -> bool:
    accept = _header(scope, b"accept-encoding")
    return accept is not None and "gzip" in accept.lower()


class GZipMiddleware:
    """gzip for large JSON and text responses, decided when the body arrives.

    Starlette's GZipMiddleware builds a responder and re-normalises its content-type list on
    every request, about 100 µs per request here even when nothing is compressed (measured
    with bench/); this one allocates only for a response it compresses.
    """

    def __init__(self, app: ASGIApp, *, minimum_size: int = 1024, level: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        compressor: Any = None

        async def gzip_send(message: Message) -> None:
            nonlocal start, compressor
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or (start is None and compressor is None):
                await send(message)
                return
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if start is not None:
                headers = start.get("headers", [])
                if (more_body or len(body) >= self.minimum_size) and _compressible(
                    start["status"], headers
                ):
                    compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)
                    body = compressor.compress(body) + (b"" if more_body else compressor.flush())
                    # A streamed body's compressed length is known only at its end: chunked.
                    headers = _gzip_headers(headers, None if more_body else len(body))
                    message = {"type": "http.response.body", "body": body, "more_body": more_body}
                await send({**start, "headers": headers})
                start = None
                await send(message)
                return
            if compressor is None:
                await send(message)
                return
            data = compressor.compress(body)
            if not more_body:
                data += compressor.flush()
            await send({"type": "http.response.body", "body": data, "more_body": more_body})

        await self.app(scope, receive, gzip_send)


def _compressible(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status in (204, 206, 304):
        return False
    content_type = b""
    for key, value in headers:
        if key == b"content-encoding":
            return False
        if key == b"content-type":
            content_type = value
    # A live stream must reach the client event by event, never wait in a compressor.
    if content_type.startswith(b"text/event-stream"):
        return False
    return content_type.startswith((b"application/json", b"text/"))


def _gzip_headers(
    headers: list[tuple[bytes, bytes]], length: int | None
) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k != b"content-length"]
    kept += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
    if length is not None:
        kept.append((b"content-length", str(length).encode()))
    return kept


class ApiRateLimitMiddleware:
    """The general per-client limit on the API (RATE_LIMIT_PER_MINUTE requests a minute to
    /api/*), apart from the credential limits and counted for the whole fleet
    (FleetRateLimit: in process, summed in Redis in the background until a client nears it).

    Keyed by the client address RequestContextMiddleware resolved through TRUSTED_PROXIES, so
    it sits inside that middleware, and inside CORS so a browser can read the 429. The probes
    and /metrics are outside /api and never counted.
    """

    def __init__(self, app: ASGIApp, *, limit: FleetRateLimit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        retry_after = await self.limit.hit(scope.get("state", {}).get("client_ip", "unknown"))
        if retry_after is not None:
            refusal = RateLimited(retry_after)
            body = error_body(refusal.status_code, refusal.error_code, refusal.message)
            headers = [(k.lower().encode(), v.encode()) for k, v in (refusal.headers or {}).items()]
            await send_json(send, body, status=refusal.status_code, headers=headers)
            return
        await self.app(scope, receive, send)
