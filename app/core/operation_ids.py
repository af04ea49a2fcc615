"""How operations are named in the OpenAPI document."""

from __future__ import annotations

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """The endpoint function's name (`search_jobs`): stable while the route keeps its handler,
    readable in generated clients, and unique across the app (tests/test_openapi_document.py)."""
    return route.name
