"""The router tries only the routes that could match a request's path
(app/core/http/route_index.py) and serves what Starlette's scan of every route serves: the same
route, the same 404 and 405, routes added later included."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Scope

from app.core.config import Settings
from app.core.http.route_index import RouteIndex, index_routes
from app.main import create_app

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _first_full(routes: list[BaseRoute], scope: Scope) -> BaseRoute | None:
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            return route
    return None


def _scope(path: str, method: str) -> Scope:
    return {"type": "http", "path": path, "method": method, "root_path": ""}


def _paths(routes: list[BaseRoute]) -> set[str]:
    """Each route's template with every parameter filled in two ways, and paths no route has."""
    templates = {route.path for route in routes if isinstance(route, Route)}
    filled = {re.sub(r"{[^}]+}", value, t) for t in templates for value in ("1", "me")}
    nowhere = {"/", "", "/api", "/api/", "/api/jobs/", "/api/jobs/1/", "/api/nope", "/health/x"}
    return filled | nowhere


def test_the_app_routes_every_request_as_the_full_scan_would(settings: Settings) -> None:
    app = create_app(settings)
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    routes = app.router.routes
    found: set[int] = set()
    for path in _paths(routes):
        for method in METHODS:
            scope = _scope(path, method)
            chosen = _first_full(index.candidates(path), scope)
            assert chosen is _first_full(routes, scope), (method, path)
            found.add(id(chosen))
    assert found >= {id(route) for route in routes}  # every route is reached through the index


async def _name(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.scope["route"].name)


def _router() -> Router:
    """Routes whose order decides: a parameter where a fixed segment also matches, one in the
    second segment (so tried for every path), a `:path` tail, a mount, the root."""
    return Router(
        [
            Route("/a/b/{x}", _name, name="a-b-x", methods=["GET"]),
            Route("/a/{y}/c", _name, name="a-y-c", methods=["GET", "POST"]),
            Route("/a/b/c", _name, name="a-b-c", methods=["GET", "POST", "PUT"]),
            Route("/f/{rest:path}", _name, name="f-path"),
            Mount("/m", app=Router([Route("/n/o", _name, name="m-n-o")])),
            Route("/", _name, name="root"),
        ]
    )


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/a/b/c", 200, "a-b-x"),
        ("POST", "/a/b/c", 200, "a-y-c"),
        ("PATCH", "/a/b/c", 405, "Method Not Allowed"),
        ("GET", "/a/z/c", 200, "a-y-c"),
        ("PUT", "/a/z/c", 405, "Method Not Allowed"),
        ("GET", "/f/g/h/i", 200, "f-path"),
        ("GET", "/m/n/o", 200, "m-n-o"),
        ("GET", "/", 200, "root"),
        ("GET", "/a/b/c/d", 404, "Not Found"),
        ("PUT", "/a/b/c", 200, "inserted"),
        ("GET", "/later/x", 200, "later"),
    ],
)
async def test_a_router_answers_as_it_did_without_the_index(
    method: str, path: str, status: int, body: str
) -> None:
    answers = []
    for indexed in (False, True):
        router = _router()
        if indexed:
            index_routes(router)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=router), base_url="http://test"
        ) as client:
            await client.get("/")  # the index is built on a first request; routes added since
            router.routes.insert(0, Route("/a/b/c", _name, name="inserted", methods=["PUT"]))
            router.routes.append(Route("/later/x", _name, name="later"))
            response = await client.request(method, path)
        answers.append((response.status_code, response.text))
    assert answers == [(status, body), (status, body)]


def test_a_router_with_middleware_of_its_own_is_refused() -> None:
    router = Router([], middleware=[Middleware(GZipMiddleware)])
    with pytest.raises(TypeError, match="without middleware"):
        index_routes(router)
