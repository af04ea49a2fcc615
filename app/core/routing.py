"""A route for handlers that do no I/O at all (the health probes), and a lane that serves them
without the rest of the middleware stack."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.json import json_bytes


class InlineJSONRoute(Route):
    """Calls a plain synchronous handler directly on the event loop and sends its result as JSON.

    Starlette and FastAPI run a plain `def` endpoint in the threadpool: a thread hop per call
    that costs more than the handler itself. A handler here must never block.
    """

    def __init__(self, path: str, endpoint: Callable[[], Any], *, name: str | None = None):
        super().__init__(path, endpoint, methods=["GET", "HEAD"], name=name)
        self._handler = endpoint
        self.app = self._respond

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self  # FastAPI's router records only its own APIRoutes for metrics
        body = json_bytes(self._handler())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


class ProbeLane:
    """Serves GET/HEAD of the given InlineJSONRoutes directly; everything else goes on down.

    Sits just inside RequestContextMiddleware, so probes keep their request id, security
    headers, access line and metrics, but skip CORS, GZip, the error and body-size layers and
    FastAPI's router, which together cost more than the probe itself (bench/: 214 -> 127 us of
    worker CPU per /health, 0.21 -> 0.34 of the bare-ASGI floor's req/s). A request with an
    Origin header takes the normal path, so browsers still get CORS headers; other methods
    still get the router's 405.
    """

    def __init__(self, app: ASGIApp, *, routes: Iterable[InlineJSONRoute]) -> None:
        self.app = app
        self.routes = {route.path: route for route in routes}

    def route_for(self, scope: Scope) -> InlineJSONRoute | None:
        """The probe this request is for, or None if it takes the normal path."""
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if (
            route is None
            or scope["method"] not in ("GET", "HEAD")
            or any(key == b"origin" for key, _ in scope["headers"])
        ):
            return None
        return route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route_for(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        await route.app(scope, receive, send)
