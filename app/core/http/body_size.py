"""MAX_REQUEST_BODY_BYTES: 413 for a request body over the limit."""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PayloadTooLarge, error_body
from app.core.json import send_json


class BodySizeLimitMiddleware:
    """413 for bodies over the limit, whether announced by Content-Length or streamed.

    `own_limit` matches the paths whose route bounds its body itself (a file upload, by its
    purpose's limit): only those skip this one."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, own_limit: str | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limit = re.compile(own_limit) if own_limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.own_limit and self.own_limit.match(scope["path"])):
            await self.app(scope, receive, send)
            return
        declared: str | None = None
        chunked = False
        for key, value in scope["headers"]:
            if key == b"content-length":
                declared = value.decode("latin-1")
            elif key == b"transfer-encoding":
                chunked = True
        if declared is None and not chunked:  # HTTP/1.1: a request without either has no body
            await self.app(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, not an AppError: FastAPI's body parser turns any other
                    # exception into a 400 "error parsing the body" but re-raises these.
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return f"The request body exceeds {self.max_bytes} bytes."

    async def _reject(self, send: Send) -> None:
        err = PayloadTooLarge(self._message())
        body = error_body(err.status_code, err.error_code, err.message)
        await send_json(send, body, status=err.status_code, headers=[(b"connection", b"close")])
