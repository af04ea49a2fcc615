"""The HTTP protocol the Gunicorn worker serves with: uvicorn's httptools protocol, with a cap on
the size of a request's head (request line and headers).

httptools has no such cap of its own: it buffers a header until its end arrives, so a header of
any size was read whole into the worker's memory and then served. Here at most
`h11_max_incomplete_event_size` bytes of a head are handed to the parser (the same limit h11
applies, set from MAX_HEADER_BYTES by the worker); a head that has not ended by then is answered
414 (the request line alone is that long) or 431 in the service's error shape, and the
connection is closed without reading the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.errors import error_body

logger = logging.getLogger("uvicorn.error")

# At most a method and a space stand before the URL ("OPTIONS " is the longest).
_REQUEST_LINE_PREFIX = 8
_REASONS = {414: b"URI Too Long", 431: b"Request Header Fields Too Large"}


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The worker always sets it (MAX_HEADER_BYTES); uvicorn's type allows None.
        self._head_limit = self.config.h11_max_incomplete_event_size or 65536
        self._head_bytes = 0
        self._in_head = True

    def data_received(self, data: bytes) -> None:
        while data and not self.transport.is_closing():
            if not self._in_head:
                super().data_received(data)
                return
            room = self._head_limit - self._head_bytes
            if room <= 0:
                self._refuse()
                return
            self._head_bytes += min(room, len(data))
            super().data_received(data[:room])
            data = data[room:]

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()

    def _refuse(self) -> None:
        if len(self.url) + _REQUEST_LINE_PREFIX >= self._head_bytes:
            status, code, what = 414, "URL_TOO_LONG", "The request URL is"
        else:
            status, code, what = 431, "HEADERS_TOO_LARGE", "The request's headers are"
        message = f"{what} larger than {self._head_limit} bytes."
        logger.warning("Refused a request: %s", message)
        body = error_body(status, code, message)
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])]
        for name, value in self.server_state.default_headers:
            head.append(b"%s: %s\r\n" % (name, value))
        head.append(
            b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % len(body)
        )
        self.transport.write(b"".join(head) + body)
        self.transport.close()
