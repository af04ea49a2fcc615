"""`include` (app/core/routing.py) registers a Router's operations as `app.include_router`
would, with each route built once instead of twice."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.core.operation_ids import operation_id
from app.core.routing import Route, Router, include
from tests.support.helpers import make_client


class Item(BaseModel):
    id: int
    name: str


def caller(x_caller: Annotated[str, Header()] = "anonymous") -> str:
    return x_caller


class CountedRoute(APIRoute):
    built = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).built += 1
        super().__init__(*args, **kwargs)


def declare(router: APIRouter) -> None:
    """The same operations on either kind of router."""

    @router.get("/items/{item_id}", response_model=Item, responses={404: {"description": "No"}})
    async def read_item(item_id: int, who: Annotated[str, Depends(caller)]) -> dict[str, Any]:
        return {"id": item_id, "name": who}

    @router.post("/items", status_code=201, tags=["writes"], deprecated=True)
    async def create_item(item: Item) -> Item:
        return item

    @router.get("/hidden", include_in_schema=False, response_class=PlainTextResponse)
    async def hidden() -> str:
        return "hidden"


def build(kind: type[APIRouter], including: bool) -> FastAPI:
    router = kind(
        prefix="/shop",
        tags=["shop"],
        responses={401: {"description": "Sign in"}},
        route_class=CountedRoute,
    )
    declare(router)
    app = FastAPI(generate_unique_id_function=operation_id)
    if including:
        assert isinstance(router, Router)
        include(app, router, prefix="/api")
    else:
        app.include_router(router, prefix="/api")
    return app


def describe(app: FastAPI) -> list[tuple[Any, ...]]:
    return [
        (
            type(r).__name__,
            r.path,
            sorted(r.methods),
            r.name,
            r.unique_id,
            r.tags,
            r.status_code,
            sorted(r.responses),
            r.deprecated,
            r.include_in_schema,
            r.response_class,
            r.dependency_overrides_provider is app,
        )
        for r in app.router.routes
        if isinstance(r, APIRoute)
    ]


def test_include_registers_what_include_router_does_building_each_route_once() -> None:
    CountedRoute.built = 0
    stock = build(APIRouter, including=False)
    assert CountedRoute.built == 6  # three declared, three again when included

    CountedRoute.built = 0
    once = build(Router, including=True)
    assert CountedRoute.built == 3

    assert describe(once) == describe(stock)
    assert [r[1] for r in describe(once)] == [
        "/api/shop/items/{item_id}",
        "/api/shop/items",
        "/api/shop/hidden",
    ]
    assert once.openapi() == stock.openapi()


async def test_included_routes_serve_and_honour_dependency_overrides() -> None:
    app = build(Router, including=True)
    async with make_client(app) as client:
        read = await client.get("/api/shop/items/7", headers={"X-Caller": "ana"})
        assert read.json() == {"id": 7, "name": "ana"}
        created = await client.post("/api/shop/items", json={"id": 1, "name": "x"})
        assert (created.status_code, created.json()) == (201, {"id": 1, "name": "x"})
        assert (await client.post("/api/shop/items", json={"id": "one"})).status_code == 422
        assert (await client.get("/api/shop/hidden")).text == "hidden"

        app.dependency_overrides[caller] = lambda: "override"
        assert (await client.get("/api/shop/items/7")).json()["name"] == "override"


def test_a_router_that_holds_anything_but_operations_is_refused() -> None:
    router = Router(prefix="/ws")
    router.add_route("/plain", lambda request: None)
    with pytest.raises(TypeError, match="only path operations"):
        include(FastAPI(), router)


def test_a_plain_api_router_is_refused_not_served_half_built() -> None:
    stock = APIRouter(prefix="/stock")
    declare(stock)
    with pytest.raises(TypeError, match=r"/stock: include\(\) takes an app.core.routing.Router"):
        include(FastAPI(), stock)  # type: ignore[arg-type]  # what a merged APIRouter would do


def test_documented_responses_share_one_field_per_model_and_document_the_same() -> None:
    responses: dict[int | str, dict[str, Any]] = {
        404: {"model": Item, "description": "No such item"},
        409: {"model": Item, "description": "Taken"},
        410: {"description": "Gone, no body documented"},
    }
    stock_router, router = APIRouter(responses=responses), Router(responses=responses)
    for each in (stock_router, router):
        declare(each)
    stock, app = FastAPI(), FastAPI()
    stock.include_router(stock_router)
    include(app, router)

    routes = [r for r in app.router.routes if isinstance(r, APIRoute)]
    assert {type(r) for r in routes} == {Route}
    fields = {id(f) for r in routes for f in r.response_fields.values()}
    assert len(fields) == 1  # FastAPI's own: one per route and status code
    # read_item documents its own 404, without a body; the others keep the router's
    assert [sorted(r.response_fields) for r in routes] == [[409], [404, 409], [404, 409]]
    assert routes[1].responses[404] == responses[404]
    assert app.openapi() == stock.openapi()
