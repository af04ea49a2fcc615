"""A route for handlers that do no I/O at all (the health probes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from app.core.json import json_bytes, send_json


class InlineJSONRoute(Route):
    """Calls a plain synchronous handler directly on the event loop and sends its result as JSON.

    Starlette and FastAPI run a plain `def` endpoint in the threadpool: a thread hop per call
    that costs more than the handler itself (DESIGN 1.3). A handler here must never block. It is
    an ordinary route of the app's router, behind the same middleware as every other route.

    Its requests are counted in the metrics but leave the access log (`access_logged`): the
    probes are polled every few seconds by every health checker, and their line was a third of
    a `/health`'s CPU (docs/performance.md).
    """

    access_logged = False

    def __init__(self, path: str, endpoint: Callable[[], Any], *, name: str | None = None):
        super().__init__(path, endpoint, methods=["GET", "HEAD"], name=name)
        self._handler = endpoint
        self.app = self._respond

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self  # FastAPI's router records only its own APIRoutes for metrics
        body = json_bytes(self._handler())
        await send_json(send, body, head=scope["method"] == "HEAD")
