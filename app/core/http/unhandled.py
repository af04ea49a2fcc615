"""The last word on an exception nothing else handled: a 500 in the one error shape."""

from __future__ import annotations

import logging
import uuid

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import error_body
from app.core.json import send_json

error_log = logging.getLogger("app.errors")


class UnhandledErrorMiddleware:
    """Any exception nothing else handled becomes a 500 in the error shape; the traceback is
    logged under the error id the client sees, and the client sees no internals."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            # Nobody is left to answer, and nothing failed on our side: not an error, and no
            # 5xx in the metrics for anyone who aborts an upload on purpose.
            error_log.info("client disconnected on %s %s", scope["method"], scope["path"])
        except Exception:
            error_id = str(uuid.uuid4())
            error_log.exception(
                "unhandled error %s on %s %s",
                error_id,
                scope["method"],
                scope["path"],
                extra={"error_id": error_id},
            )
            if response_started:
                raise
            body = error_body(
                500, "INTERNAL_ERROR", "Something went wrong on our side.", error_id=error_id
            )
            await send_json(send, body, status=500)
