"""A bare FastAPI app: the startup floor, the two usual ways to write /health in FastAPI (a
plain `def`, which FastAPI runs in the threadpool, and an `async def`), and a route shaped like
the job page (one validated path parameter, a ready-made JSON reply, no database) that shows
what FastAPI's own request handling costs against a bare ASGI app.

As the startup floor it imports the libraries the service is built on (FastAPI, pydantic,
SQLAlchemy with its asyncio extension, asyncpg), so the start-up ratio is the service's own
work on top of theirs."""

from __future__ import annotations

from typing import Annotated

import asyncpg  # noqa: F401 - imported for the start-up floor (see above)
import pydantic  # noqa: F401
import sqlalchemy.ext.asyncio  # noqa: F401
from fastapi import FastAPI, Path, Response

app = FastAPI()

_JOB = b'{"id": 1, "title": "Front desk agent", "company": {"id": 1, "name": "Reef Resort"}}'


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/health-async")
async def health_async() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/jobs/{job_id}")
async def job(job_id: Annotated[int, Path(ge=1)]) -> Response:
    return Response(_JOB, media_type="application/json")
