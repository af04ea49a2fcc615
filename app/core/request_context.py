"""The current request's id, readable from logs and error handlers without passing it around."""

from __future__ import annotations

import random
import re
from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# A caller-supplied id is echoed only if it is short and harmless in logs and headers.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def current_request_id() -> str | None:
    return _request_id.get()


def accept_request_id(incoming: str | None) -> str:
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    # Unique, not secret: 128 bits from the process's PRNG (reseeded in each forked worker)
    # instead of uuid4's os.urandom system call on every request.
    return f"{random.getrandbits(128):032x}"


def bind_request_id(request_id: str) -> Token[str | None]:
    return _request_id.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)
