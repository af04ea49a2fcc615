"""gzip for large JSON and text responses."""

from __future__ import annotations

import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _accepts_gzip(scope: Scope) -> bool:
    accept = _header(scope, b"accept-encoding")
    return accept is not None and "gzip" in accept.lower()


class GZipMiddleware:
    """gzip for large JSON and text responses, decided when the body arrives.

    Starlette's GZipMiddleware builds a responder and re-normalises its content-type list on
    every request, even when nothing is compressed (docs/performance.md); this one allocates
    only for a response it compresses.
    """

    def __init__(self, app: ASGIApp, *, minimum_size: int = 1024, level: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        compressor: Any = None

        async def gzip_send(message: Message) -> None:
            nonlocal start, compressor
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or (start is None and compressor is None):
                await send(message)
                return
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if start is not None:
                headers = start.get("headers", [])
                if (more_body or len(body) >= self.minimum_size) and _compressible(
                    start["status"], headers
                ):
                    compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)
                    body = compressor.compress(body) + (b"" if more_body else compressor.flush())
                    # A streamed body's compressed length is known only at its end: chunked.
                    headers = _gzip_headers(headers, None if more_body else len(body))
                    message = {"type": "http.response.body", "body": body, "more_body": more_body}
                await send({**start, "headers": headers})
                start = None
                await send(message)
                return
            if compressor is None:
                await send(message)
                return
            data = compressor.compress(body)
            if not more_body:
                data += compressor.flush()
            await send({"type": "http.response.body", "body": data, "more_body": more_body})

        await self.app(scope, receive, gzip_send)


def _compressible(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status in (204, 206, 304):
        return False
    content_type = b""
    for key, value in headers:
        if key == b"content-encoding":
            return False
        if key == b"content-type":
            content_type = value
    # A live stream must reach the client event by event, never wait in a compressor.
    if content_type.startswith(b"text/event-stream"):
        return False
    return content_type.startswith((b"application/json", b"text/"))


def _gzip_headers(
    headers: list[tuple[bytes, bytes]], length: int | None
) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k != b"content-length"]
    kept += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
    if length is not None:
        kept.append((b"content-length", str(length).encode()))
    return kept
