"""The outermost middleware: the request id, the client's address (through TRUSTED_PROXIES),
security headers, `no-store` unless the route allows caching, the access line (not for the
health probes) and metrics."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.http.proxies import TrustedProxies
from app.core.logging import AccessLog
from app.core.metrics import Metrics
from app.core.request_context import accept_request_id, bind_request_id, reset_request_id

CLIENT_CLOSED_REQUEST = 499

_BASE_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


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
            # The health probes are counted above, not logged (InlineJSONRoute).
            if getattr(scope.get("route"), "access_logged", True):
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
