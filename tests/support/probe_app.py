"""The production app plus a few routes that misbehave on request, for server tests.

Server tests boot Gunicorn on `tests.support.probe_app:app`: the same create_app(), middleware,
lifespan, worker and gunicorn.conf.py as production, plus:

- GET /test/db-sleep?seconds=: opens a request session (SessionDep: one transaction, committed
  by the dependency) and runs `pg_sleep`: a slow request that really waits on PostgreSQL, and a
  database-backed route to hit while the database is down;
- GET /test/boom: raises an unexpected exception (the 500 path);
- POST /test/echo: reads a JSON body (the body-size limit on a route that reads its body);
- GET /test/items/{item_id}: a route template with a typed path parameter.

This keeps test-only routes out of the production app.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query
from sqlalchemy import text

from app.core.config import get_settings
from app.core.db import SessionDep
from app.main import create_app

INTERNAL_DETAIL = "internal detail: connection string postgres://secret@db"

test_routes = APIRouter(prefix="/test")


@test_routes.get("/db-sleep")
async def db_sleep(session: SessionDep, seconds: float = Query(0, ge=0, le=30)) -> dict[str, float]:
    await session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": seconds})
    return {"slept": seconds}


@test_routes.get("/boom")
async def boom() -> None:
    raise RuntimeError(INTERNAL_DETAIL)


@test_routes.post("/echo")
async def echo(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


@test_routes.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


def build() -> FastAPI:
    api = create_app(get_settings())
    api.include_router(test_routes)
    return api


app = build()
