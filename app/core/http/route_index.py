"""The router's dispatch, trying only the routes that could match a request's path.

Starlette's router tries its routes in order until one matches the whole request, about a
microsecond each: `/api/users/me` is the 45th of ~90, so finding it cost ~50 us of a signed-in
read's ~400 (docs/performance.md). A plain route whose template's first two segments hold no
parameter (`/api/jobs/{job_id}`: `/api/jobs`) can only match a path that starts with those two
segments, so the index keeps, for each such prefix, the routes that could match it in the
router's own order, with every other route (a parameter early on, a mount) in each list too.
The first full match among them is the one the whole scan would have found first.

Everything else goes to the router's own dispatch, which scans as before: a lifespan or
websocket scope, and a request no candidate matches in full (a 404, or a 405 that the scan
answers from the first route matching the path but not the method). The index follows the
routes the router holds: it is rebuilt when their number changes.
"""

from __future__ import annotations

from starlette._utils import get_route_path  # what Route.matches reads the path with
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send


def _prefix(path: str) -> str:
    """A path's first two segments: `/api/jobs/7/save` -> `/api/jobs`, `/health` -> `/health`."""
    first = path.find("/", 1)
    end = -1 if first == -1 else path.find("/", first + 1)
    return path if end == -1 else path[:end]


def _static_prefix(route: BaseRoute) -> str | None:
    """The prefix of every path this route matches, or None if it could be any. A Route's
    pattern is its whole template (parameters match within a segment or, for `:path`, what
    follows a fixed start); a mount or a websocket route is tried for every path."""
    if not isinstance(route, Route):
        return None
    prefix = _prefix(route.path)
    return None if "{" in prefix else prefix


class RouteIndex:
    """An ASGI app in place of `router.app`, the dispatch at the end of the router's stack."""

    def __init__(self, router: Router) -> None:
        self._router = router
        self._scan = router.app
        self._indexed = -1
        self._by_prefix: dict[str, list[BaseRoute]] = {}
        self._anywhere: list[BaseRoute] = []

    def _build(self) -> None:
        routes = self._router.routes
        prefixes = [_static_prefix(route) for route in routes]
        self._by_prefix = {
            prefix: [r for r, p in zip(routes, prefixes, strict=True) if p in (prefix, None)]
            for prefix in set(prefixes)
            if prefix is not None
        }
        self._anywhere = [r for r, p in zip(routes, prefixes, strict=True) if p is None]
        self._indexed = len(routes)

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that could match `path`, in the router's order."""
        if self._indexed != len(self._router.routes):
            self._build()
        return self._by_prefix.get(_prefix(path), self._anywhere)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self._router)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self._scan(scope, receive, send)


def index_routes(router: Router) -> None:
    """Dispatch `router`'s requests through a RouteIndex. The router must have no middleware
    of its own: the index replaces the whole of what its `__call__` runs."""
    if router.middleware_stack != router.app:
        raise TypeError("index_routes() takes a router without middleware of its own")
    router.middleware_stack = RouteIndex(router)
