"""The probes that do no I/O of any kind: /health, /live and /ready.

They import nothing but the routing core, so the worker can answer them before the rest of the
app is imported (app/boot.py).
"""

from __future__ import annotations

from app.core.routing import InlineJSONRoute


def health() -> dict[str, str]:
    return {"status": "ok"}


def live() -> dict[str, str]:
    return {"status": "alive"}


def ready() -> dict[str, str]:
    return {"status": "ready"}


health_route = InlineJSONRoute("/health", health, name="health")
live_route = InlineJSONRoute("/live", live, name="live")
ready_route = InlineJSONRoute("/ready", ready, name="ready")
probe_routes = [health_route, live_route, ready_route]
