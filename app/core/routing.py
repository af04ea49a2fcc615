"""Routers whose routes are built once, by the app that includes them, and cheaply.

FastAPI builds a route (its dependency graph, a pydantic adapter for every parameter and for
the response) when `@router.get(...)` declares it, and `app.include_router` then builds every
route again from the first one's attributes and throws the first away: half of the work of
registering the routes, about a sixth of a worker's boot (docs/performance.md). A `Router`
keeps each declaration as the call it was; `include` makes that call once, on a router set up
as `app.include_router(router, prefix=...)` would combine the two, and hands the routes to the
app. Every route is still built and registered in create_app(), before the worker serves.

A `Route` also makes one pydantic field per model, shared by every route that answers with it
or documents it, instead of one per route and status code: FastAPI's adapter (~0.2-0.4 ms
each) was 357 copies of the error model's and 61 response fields for 34 response models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.datastructures import Default, DefaultPlaceholder
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute, request_response
from fastapi.utils import create_model_field, is_body_allowed_for_status_code
from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]


@functools.cache
def _response_field(model: type[Any]) -> Any:
    return create_model_field(name=f"Response_{model.__name__}", type_=model, mode="serialization")


class Route(APIRoute):
    """An APIRoute whose response model (`response_model=` or the return annotation) and
    documented responses (`responses={404: {"model": ...}}`) share one field per pydantic model.
    The document is the same: a model's schema there is a reference to it. Other response types
    (`list[...]`, `dict[...]`) keep FastAPI's own field, whose title the document shows."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        responses: Responses | None = None,
        response_model: Any = Default(None),
        **options: Any,
    ) -> None:
        documented = responses or {}
        bare = {
            code: {k: v for k, v in r.items() if k != "model"} for code, r in documented.items()
        }
        model = response_model
        if isinstance(model, DefaultPlaceholder):
            model = get_typed_return_annotation(endpoint)
        shared = isinstance(model, type) and issubclass(model, BaseModel)
        super().__init__(
            path,
            endpoint,
            responses=bare,
            response_model=None if shared else response_model,
            **options,
        )
        self.responses = documented
        self.response_fields = {
            code: _response_field(r["model"]) for code, r in documented.items() if r.get("model")
        }
        if shared:
            assert is_body_allowed_for_status_code(self.status_code), (
                f"Status code {self.status_code} must not have a response body"
            )
            self.response_model = model
            self.response_field = _response_field(model)
            self.app = request_response(self.get_route_handler())


@dataclass(frozen=True)
class _Operation:
    path: str
    endpoint: Callable[..., Any]
    options: dict[str, Any]


class Router(APIRouter):
    """An APIRouter (same arguments, same decorators) for `include`: it keeps its operations
    unbuilt. It has no other kind of route; a mounted app or a websocket would be refused.
    Its routes are `Route`s unless it names another `route_class`."""

    def __init__(self, *, route_class: type[APIRoute] = Route, **kwargs: Any) -> None:
        super().__init__(route_class=route_class, **kwargs)
        self.operations: list[_Operation] = []

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        self.operations.append(_Operation(path, endpoint, options))


def _chosen(value: Any, default: Any) -> Any:
    """FastAPI's rule for a setting: the router's own unless it left FastAPI's default."""
    return default if isinstance(value, DefaultPlaceholder) else value


def include(app: FastAPI, router: Router, prefix: str = "") -> None:
    """`app.include_router(router, prefix=prefix)`, with each route built once."""
    if router.routes:  # a plain APIRouter (its routes already built) or a non-operation route
        raise TypeError(
            f"{router.prefix or '/'}: include() takes an app.core.routing.Router, which holds "
            "only path operations"
        )
    top = app.router
    combined = APIRouter(
        prefix=prefix + router.prefix,
        tags=[*top.tags, *router.tags],
        dependencies=[*top.dependencies, *router.dependencies],
        responses={**top.responses, **router.responses},
        callbacks=[*top.callbacks, *router.callbacks],
        deprecated=router.deprecated or top.deprecated,
        include_in_schema=router.include_in_schema and top.include_in_schema,
        route_class=router.route_class,
        default_response_class=_chosen(router.default_response_class, top.default_response_class),
        generate_unique_id_function=_chosen(
            router.generate_unique_id_function, top.generate_unique_id_function
        ),
        strict_content_type=_chosen(router.strict_content_type, top.strict_content_type),
        dependency_overrides_provider=top.dependency_overrides_provider,
    )
    for operation in router.operations:
        combined.add_api_route(operation.path, operation.endpoint, **operation.options)
    top.routes.extend(combined.routes)
