"""CORS: Starlette's, in the one error shape, with a short way for requests without an Origin."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.core.errors import error_response


class CORSMiddleware(StarletteCORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the one error shape, and a short
    way for requests without an Origin (servers, probes, same-origin): all Starlette does for
    those is add `Vary: Origin`, through a MutableHeaders per response (docs/performance.md)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(key == b"origin" for key, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_varying_on_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                vary = [value for key, value in headers if key == b"vary"]
                if vary:  # merged into one, as Starlette does
                    headers[:] = [(k, v) for k, v in headers if k != b"vary"]
                    headers.append((b"vary", b", ".join([*vary, b"Origin"])))
                else:
                    headers.append((b"vary", b"Origin"))
            await send(message)

        await self.app(scope, receive, send_varying_on_origin)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.startswith("access-control-") or k == "vary"
        }
        message = bytes(response.body).decode()  # e.g. "Disallowed CORS origin"
        return error_response(400, "CORS_REJECTED", f"{message}.", headers=headers)
