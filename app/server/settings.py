"""The web server's own settings (PORT, WEB_CONCURRENCY, the GUNICORN_* ones), read and
checked in one place: by `python -m app serve` before it becomes Gunicorn, and by
gunicorn.conf.py, which applies them. Gunicorn itself int()s WEB_CONCURRENCY when it is imported,
before gunicorn.conf.py runs, so only the check in `serve` can refuse a non-numeric or negative
one in a clear line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

RESERVED_PORTS = {5432: "PostgreSQL", 6379: "Redis"}
# Gunicorn's own levels; it reads any other value silently as info.
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class ServerSettingError(ValueError):
    """A server setting that cannot be used; its text is the one line an operator sees."""


def port(environ: Mapping[str, str]) -> int:
    raw = environ.get("PORT", "10000").strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ServerSettingError(f"Invalid PORT {raw!r}: it must be a number from 1 to 65535.")
    value = int(raw)
    if value in RESERVED_PORTS:
        raise ServerSettingError(
            f"Refusing PORT={value}: it is the {RESERVED_PORTS[value]} port. "
            "Set PORT to the port the web service should listen on (default 10000)."
        )
    return value


def whole_number(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name, str(default)).strip()
    if not raw.isdigit() or int(raw) < minimum:
        least = f" of at least {minimum}" if minimum else ""
        raise ServerSettingError(f"Invalid {name} {raw!r}: it must be a whole number{least}.")
    return int(raw)


def log_level(environ: Mapping[str, str]) -> str:
    raw = environ.get("GUNICORN_LOG_LEVEL", "info").strip()
    if raw.lower() not in LOG_LEVELS:
        raise ServerSettingError(
            f"Invalid GUNICORN_LOG_LEVEL {raw!r}: it must be one of {', '.join(LOG_LEVELS)}."
        )
    return raw.lower()


@dataclass(frozen=True)
class ServerSettings:
    port: int
    workers: int
    timeout: int
    graceful_timeout: int
    keepalive: int
    max_requests: int
    max_requests_jitter: int
    log_level: str
    max_header_bytes: int


def server_settings(environ: Mapping[str, str] = os.environ) -> ServerSettings:
    """Every server setting, checked in this order; raises ServerSettingError on the first
    one that cannot be used."""
    return ServerSettings(
        port=port(environ),
        workers=whole_number(environ, "WEB_CONCURRENCY", 1, minimum=1),
        timeout=whole_number(environ, "GUNICORN_TIMEOUT", 120),
        graceful_timeout=whole_number(environ, "GUNICORN_GRACEFUL_TIMEOUT", 30),
        keepalive=whole_number(environ, "GUNICORN_KEEPALIVE", 5),
        # Off by default: with one worker, recycling stalls the whole instance while the new
        # worker boots (docs/performance.md: half the throughput, dropped connections), and
        # the worker's memory is flat without it. Set it only to contain a leak you have
        # measured.
        max_requests=whole_number(environ, "GUNICORN_MAX_REQUESTS", 0),
        max_requests_jitter=whole_number(environ, "GUNICORN_MAX_REQUESTS_JITTER", 100),
        log_level=log_level(environ),
        # The request line and headers together; a request's body has MAX_BODY_BYTES.
        max_header_bytes=whole_number(environ, "MAX_HEADER_BYTES", 65536, minimum=4096),
    )
