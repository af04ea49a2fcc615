"""orjson for logs, cache payloads and the hand-built responses that bypass FastAPI's encoder."""

from __future__ import annotations

from typing import Any

import orjson


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def json_loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)
