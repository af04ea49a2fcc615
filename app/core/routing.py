"""A route for handlers that do no I/O at all (the health probes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.core.json import json_bytes


class InlineJSONRoute(Route):
    """Calls a plain synchronous handler directly on the event loop and sends its result as JSON.

    Starlette and FastAPI run a plain `def` endpoint in the threadpool: a thread hop per call
    that costs more than the handler itself. A handler here must never block.
    """

    def __init__(self, path: str, endpoint: Callable[[], Any], *, name: str | None = None):
        super().__init__(path, endpoint, methods=["GET", "HEAD"], name=name)
        self._handler = endpoint
        self.app = self._respond

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self  # FastAPI's router records only its own APIRoutes for metrics
        body = json_bytes(self._handler())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
