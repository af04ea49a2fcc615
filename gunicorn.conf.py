"""Gunicorn configuration for production (Render, Docker) and the local run command, all of
which start it through `python -m app serve`.

One Uvicorn worker per instance: more traffic means more instances, not more workers.
Every value can be overridden from the environment (checked in app/server/settings.py).
"""

from __future__ import annotations

import os
import sys

from app.server.settings import ServerSettingError, server_settings

# The same checks `python -m app serve` makes first; here for a plain `gunicorn -c` start.
try:
    _server = server_settings()
except ServerSettingError as exc:
    sys.stderr.write(f"{exc}\n")
    sys.exit(2)

bind = f"0.0.0.0:{_server.port}"
worker_class = "app.server.worker.UvicornWorker"
workers = _server.workers
timeout = _server.timeout
graceful_timeout = _server.graceful_timeout
keepalive = _server.keepalive
max_requests = _server.max_requests
max_requests_jitter = _server.max_requests_jitter
preload_app = False
# The app writes one JSON access line per request itself; Gunicorn's would repeat it.
accesslog = None
errorlog = "-"
# Gunicorn's and Uvicorn's lines in the app's format: JSON, or the console one in development.
logger_class = "app.core.logging.GunicornLogger"
loglevel = _server.log_level
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
