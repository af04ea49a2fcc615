"""The database floor: a bare ASGI app running, through a raw asyncpg pool, exactly the SQL the
service runs for GET /api/jobs/{id} and GET /api/jobs?q=&island= (captured from the service by
bench/prepare.py), with the request's id or query substituted, and the rows sent as JSON.
Under /session/... it also makes the session's extra round trips (see _run).

BENCH_DSN names the database, BENCH_SQL_FILE the captured statements. The pool is as large as
the service's read pool (DB_READ_POOL_SIZE).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import orjson
from starlette.types import Receive, Scope, Send

NOW = {"$now": True}
CAPTURED = orjson.loads(Path(os.environ["BENCH_SQL_FILE"]).read_bytes())
POOL_MAX = int(os.environ.get("DB_READ_POOL_SIZE", "5"))
_pool: asyncpg.Pool | None = None


def _bind(statement: dict[str, Any], values: dict[str, Any]) -> list[Any]:
    params = [datetime.now(UTC) if p == NOW else p for p in statement["params"]]
    for name, positions in statement["slots"].items():
        for position in positions:
            params[position] = values[name]
    return params


async def _run(case: str, values: dict[str, Any], wrapped: bool) -> list[list[dict[str, Any]]]:
    """The captured statements; `wrapped` adds the round trips the service's session makes
    around them (the pool's pre-ping, BEGIN, COMMIT), to tell those apart from Python work."""
    assert _pool is not None
    async with _pool.acquire() as conn:
        if wrapped:
            await conn.fetchrow(";")  # what SQLAlchemy's asyncpg pre-ping sends
            await conn.execute("BEGIN")
        rows = [
            [dict(row) for row in await conn.fetch(s["sql"], *_bind(s, values))]
            for s in CAPTURED[case]
        ]
        if wrapped:
            await conn.execute("COMMIT")
        return rows


async def _reply(send: Send, status: int, payload: Any) -> None:
    body = orjson.dumps(payload, default=str)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global _pool
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            if message["type"] == "lifespan.startup":
                _pool = await asyncpg.create_pool(
                    os.environ["BENCH_DSN"], min_size=1, max_size=POOL_MAX
                )
                await send({"type": "lifespan.startup.complete"})
        if _pool is not None:
            await _pool.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    path: str = scope["path"]
    wrapped = path.startswith("/session")
    path = path.removeprefix("/session")
    if path == "/health":
        await _reply(send, 200, {"status": "ok"})
    elif path == "/api/jobs":
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
        await _reply(send, 200, await _run("search", query, wrapped))
    elif path.startswith("/api/jobs/") and path[10:].isdigit():
        rows = await _run("detail", {"id": int(path[10:])}, wrapped)
        await _reply(send, 200 if rows[0] else 404, rows)
    else:
        await _reply(send, 404, {"error": "not found"})
