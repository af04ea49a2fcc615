"""RATE_LIMIT_PER_MINUTE: the general per-client limit on /api/*."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import RateLimited, error_body
from app.core.json import send_json
from app.core.ratelimit import FleetRateLimit


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
