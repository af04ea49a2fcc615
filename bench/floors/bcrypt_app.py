"""The login floor: a bare ASGI app that reads the JSON body and runs bcrypt.checkpw at the
service's cost in the default thread pool (what asyncio.to_thread uses), nothing else.

BENCH_BCRYPT_HASH is the seeded users' hash, so the cost is the same as the service's.
"""

from __future__ import annotations

import asyncio
import os

import bcrypt
import orjson
from starlette.types import Receive, Scope, Send

STORED = os.environ["BENCH_BCRYPT_HASH"].encode()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["method"] == "GET":  # the harness's readiness probe
        await _reply(send, 200, {"status": "ok"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    password = orjson.loads(body)["password"].encode()
    ok = await asyncio.get_running_loop().run_in_executor(None, bcrypt.checkpw, password, STORED)
    await _reply(send, 200 if ok else 401, {"ok": ok})


async def _reply(send: Send, status: int, payload: object) -> None:
    body = orjson.dumps(payload)
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
