"""The probes that do no I/O of any kind: /health, /live and /ready, and the paths the old
monitors still poll for the last two (`/health/live`, `/health/liveness`, `/health/ready`,
`/health/readiness`): each path is one route of the app's router calling the same handler."""

from __future__ import annotations

from app.core.http.inline_route import InlineJSONRoute


def health() -> dict[str, str]:
    return {"status": "ok"}


def live() -> dict[str, str]:
    return {"status": "alive"}


def ready() -> dict[str, str]:
    return {"status": "ready"}


probe_routes = [
    InlineJSONRoute("/health", health, name="health"),
    InlineJSONRoute("/live", live, name="live"),
    InlineJSONRoute("/ready", ready, name="ready"),
    *(InlineJSONRoute(path, live, name="live") for path in ("/health/live", "/health/liveness")),
    *(
        InlineJSONRoute(path, ready, name="ready")
        for path in ("/health/ready", "/health/readiness")
    ),
]
