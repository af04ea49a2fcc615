"""Routes that skip FastAPI's per-request machinery where it costs more than the work: handlers
that do no I/O at all (the health probes) and a lane that serves them without the rest of the
middleware stack; and the anonymous GET of the busiest public page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.datastructures import State
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.json import json_bytes, send_json

_NO_STORE = [(b"cache-control", b"no-store")]


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
        await send_json(send, body, headers=_NO_STORE, head=scope["method"] == "HEAD")


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


class AnonymousGetRoute(Route):
    """The anonymous GET of a public page, answered straight from `render(app_state, **params)`.

    It matches only a GET without an Authorization header whose path converts; it is placed
    before the API's routers, and everything it does not match (a signed-in reader, an id the
    route's own validation would refuse, another method) goes on to the FastAPI route at the
    same path, which stays the documented one. That route's per-request machinery (its request
    object, dependency solving, exit stacks and the included routers' matching) costs more CPU
    than the page's query (bench/). An error `render` raises is rendered by the app's
    exception handlers, as from any route.
    """

    def __init__(self, path: str, render: Callable[..., Awaitable[bytes]], *, name: str) -> None:
        super().__init__(path, render, methods=["GET"], name=name, include_in_schema=False)
        self._render = render

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or any(key == b"authorization" for key, _ in scope["headers"])
        ):
            return Match.NONE, {}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self
        state: State = scope["app"].state
        await send_json(send, await self._render(state, **scope["path_params"]))
