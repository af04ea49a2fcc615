"""Gunicorn configuration for production (Render, Docker) and the local run command.

One Uvicorn worker per instance: more traffic means more instances, not more workers.
Every value can be overridden from the environment.
"""

from __future__ import annotations

import os
import sys

RESERVED_PORTS = {5432: "PostgreSQL", 6379: "Redis"}


def _port() -> int:
    raw = os.environ.get("PORT", "10000").strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        sys.stderr.write(f"Invalid PORT {raw!r}: it must be a number from 1 to 65535.\n")
        sys.exit(2)
    port = int(raw)
    if port in RESERVED_PORTS:
        sys.stderr.write(
            f"Refusing PORT={port}: it is the {RESERVED_PORTS[port]} port. "
            "Set PORT to the port the web service should listen on (default 10000).\n"
        )
        sys.exit(2)
    return port


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, str(default)).strip()
    if not raw.isdigit() or int(raw) < minimum:
        least = f" of at least {minimum}" if minimum else ""
        sys.stderr.write(f"Invalid {name} {raw!r}: it must be a whole number{least}.\n")
        sys.exit(2)
    return int(raw)


bind = f"0.0.0.0:{_port()}"
worker_class = "app.worker.UvicornWorker"
# A non-numeric WEB_CONCURRENCY never gets here: Gunicorn itself int()s it on import.
workers = _int("WEB_CONCURRENCY", 1, minimum=1)
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Off by default: with one worker, recycling stalls the whole instance while the new worker
# boots (measured in the README: half the throughput, dropped connections), and the worker's
# memory is flat without it. Set it only to contain a leak you have measured.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
preload_app = False
# The app writes one JSON access line per request itself; Gunicorn's would repeat it.
accesslog = None
errorlog = "-"
# Gunicorn's and Uvicorn's lines in the app's format: JSON, or the console one in development.
logger_class = "app.core.logging.GunicornLogger"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "hiremebahamas-api"
# Gunicorn 25+ opens a control socket at a fixed per-user path (~/.gunicorn/gunicorn.ctl) that
# several instances on one host would fight over; nothing here uses it.
control_socket_disable = True
# The worker's heartbeat file (made with mkstemp): in memory, not on a container's overlay disk
# that can stall it.
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None


def on_starting(server: object) -> None:
    """Refuse to start, in one clear line and a non-zero exit, on a configuration the app
    would reject (checked in the master so no worker boot loop follows)."""
    from app.core.config import ConfigError, load_settings

    try:
        load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"Refusing to start: {exc}\n")
        sys.exit(1)
