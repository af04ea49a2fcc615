"""The production app plus a few routes that misbehave on request, for server tests.

Server tests boot Gunicorn on `tests.server.probe_app:app`: the same create_app(), middleware,
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

from fastapi import Query
from sqlalchemy import text

from app.core.db import SessionDep
from app.main import create_app

INTERNAL_DETAIL = "internal detail: connection string postgres://secret@db"

app = create_app()


@app.get("/test/db-sleep")
async def db_sleep(session: SessionDep, seconds: float = Query(0, ge=0, le=30)) -> dict[str, float]:
    await session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": seconds})
    return {"slept": seconds}


@app.get("/test/boom")
async def boom() -> None:
    raise RuntimeError(INTERNAL_DETAIL)


@app.post("/test/echo")
async def echo(payload: dict[str, Any]) -> dict[str, Any]:
    return payload


@app.get("/test/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}
