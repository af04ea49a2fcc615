"""The database floor: a bare ASGI app running, through a raw asyncpg pool, exactly the route
statements the service sent for each case (taken off the wire by bench/capture.py), with the
request's values substituted, and the rows sent as JSON:

    GET /api/jobs/{id}            GET /api/jobs?q=&island=        (anonymous)
    GET /api/users/me             GET /api/applications/{id}      (bearer token)
    GET /api/notifications        GET /api/employer/jobs          (bearer token)

A signed-in request's token is verified (HS256 with the service's SECRET_KEY, as the service
does) and its claims are the request's values. Under /session/... the floor also sends the
service's other statements in the same order (its transaction, pings, settings).

BENCH_DSN names the database, BENCH_SQL_FILE the captured statements, BENCH_POOL_SIZE the
pool (as many connections as the service may hold). BENCH_POOL_RESET=off drops asyncpg's reset
of a connection on release (one more round trip per request: `SELECT pg_advisory_unlock_all();
CLOSE ALL; UNLISTEN *; RESET ALL`), which the service's pool does not send; the floor's
connections carry no state to reset. The cases at Neon's distance set it (bench/distance.py),
where that round trip costs 2 ms; on loopback the floor keeps asyncpg's default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import jwt
import orjson
from starlette.types import Receive, Scope, Send

from bench.capture import decode_constant, token_values

_pool: asyncpg.Pool | None = None
_captured: dict[str, list[dict[str, Any]]] = {}
_SIGNED_IN = {
    "/api/users/me": "me",
    "/api/notifications": "notifications",
    "/api/employer/jobs": "employer_jobs",
}


def _bind(statement: dict[str, Any], values: dict[str, Any], rows: list[Any]) -> list[Any]:
    params = [decode_constant(p) for p in statement["params"]]
    for name, positions in statement["slots"].items():
        for position in positions:
            params[position] = values[name]
    for position, index, column in statement["chain"]:
        params[position] = rows[index][column] if rows[index] else None
    return params


async def _run(case: str, values: dict[str, Any], wrapped: bool) -> list[list[dict[str, Any]]]:
    """The captured route statements; `wrapped` adds the service's others, in order."""
    assert _pool is not None
    out: list[list[dict[str, Any]]] = []
    firsts: list[Any] = []
    async with _pool.acquire() as conn:
        for statement in _captured[case]:
            if statement["kind"] == "query":
                rows = [
                    dict(r)
                    for r in await conn.fetch(statement["sql"], *_bind(statement, values, firsts))
                ]
                out.append(rows)
                firsts.append(rows[0] if rows else None)
                continue
            if wrapped and statement["kind"] == "session":
                await conn.execute(statement["sql"], *_bind(statement, values, firsts))
            firsts.append(None)
    return out


def _claims(scope: Scope) -> dict[str, Any] | None:
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            try:
                claims = jwt.decode(
                    value[7:].decode(),
                    os.environ["SECRET_KEY"],
                    algorithms=["HS256"],
                    options={"verify_aud": False},
                )
            except jwt.PyJWTError:
                return None
            return token_values(claims)
    return None


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


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Nothing to reset: the floor only reads (asyncpg still rolls back an open transaction)."""


async def _lifespan(receive: Receive, send: Send) -> None:
    global _pool
    while (message := await receive())["type"] != "lifespan.shutdown":
        if message["type"] == "lifespan.startup":
            _captured.update(orjson.loads(Path(os.environ["BENCH_SQL_FILE"]).read_bytes()))
            size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
            reset = _no_reset if os.environ.get("BENCH_POOL_RESET") == "off" else None
            _pool = await asyncpg.create_pool(
                os.environ["BENCH_DSN"], min_size=1, max_size=size, reset=reset
            )
            await send({"type": "lifespan.startup.complete"})
    if _pool is not None:
        await _pool.close()
    await send({"type": "lifespan.shutdown.complete"})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path: str = scope["path"]
    wrapped = path.startswith("/session")
    path = path.removeprefix("/session")
    if path == "/health":
        await _reply(send, 200, {"status": "ok"})
        return
    if path == "/api/jobs":
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
        await _reply(send, 200, await _run("search", query, wrapped))
        return
    if path.startswith("/api/jobs/") and path[10:].isdigit():
        rows = await _run("detail", {"id": int(path[10:])}, wrapped)
        await _reply(send, 200 if rows and rows[0] else 404, rows)
        return
    case = _SIGNED_IN.get(path)
    values: dict[str, Any] = {}
    if path.startswith("/api/applications/") and path[18:].isdigit():
        case, values = "application", {"id": int(path[18:])}
    if case is None:
        await _reply(send, 404, {"error": "not found"})
        return
    claims = _claims(scope)
    if claims is None:
        await _reply(send, 401, {"error": "unauthorized"})
        return
    await _reply(send, 200, await _run(case, {**values, **claims}, wrapped))
