"""The probes that look at dependencies: /ready/db, /health/detailed, and /metrics.

/health, /live and /ready, which do no I/O, are in app/health/probes.py. `/health/metrics` is
the path the old monitors scrape: the same handler as `/metrics`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio.from_thread
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.db import DATABASE_UNAVAILABLE_ERRORS, Database
from app.core.errors import ErrorResponse, Unauthorized
from app.core.metrics import QueueStats, operator_view
from app.core.redis import RedisState, redis_errors
from app.core.routing import Router
from app.core.services import core_services

router = Router(tags=["health"])


async def _check_database(database: Database, limit_s: float) -> dict[str, Any]:
    if database.target is None:
        return {"state": "not_configured", "error": database.config_error}
    try:
        latency = await asyncio.wait_for(database.ping(), limit_s)
    except TimeoutError:
        return {"state": "timeout", "timeout_s": limit_s}
    except Exception as exc:  # any failure is a state to report, never a crash of the probe
        return {"state": "unavailable", "error": type(exc).__name__}
    return {"state": "ok", "latency_ms": round(latency, 2)}


async def _check_replica(database: Database, limit_s: float) -> dict[str, Any]:
    """The read replica's state (DATABASE_READ_URL); whatever it is, the primary serves."""
    if database.replica is None:
        if database.replica_config_error is not None:
            return {"state": "invalid", "error": database.replica_config_error}
        return {"state": "not_configured"}
    try:
        return dict(await asyncio.wait_for(database.replica.check(), limit_s))
    except TimeoutError:
        return {"state": "timeout", "timeout_s": limit_s}


async def _check_redis(redis: RedisState, limit_s: float) -> dict[str, Any]:
    if not redis.enabled:
        return {"state": "disabled"}
    try:
        latency = await asyncio.wait_for(redis.ping(), limit_s)
    except TimeoutError:
        return {"state": "timeout", "timeout_s": limit_s}
    except redis_errors() as exc:
        return {"state": "unavailable", "error": type(exc).__name__}
    return {"state": "ok", "latency_ms": round(latency, 2)}


@router.get(
    "/ready/db",
    summary="Readiness including a database round trip",
    responses={503: {"description": "The database did not answer; the body says how."}},
)
async def ready_db(request: Request) -> JSONResponse:
    services = core_services(request)
    timeout = services.settings.health_check_timeout
    check, replica = await asyncio.gather(
        _check_database(services.database, timeout), _check_replica(services.database, timeout)
    )
    ok = check["state"] == "ok"  # a replica that is down sends reads to the primary: still ready
    return JSONResponse(
        {"status": "ready" if ok else "unavailable", "database": check, "replica": replica},
        status_code=200 if ok else 503,
    )


@router.get(
    "/health/detailed",
    summary="Uptime and the state of every dependency; version and environment with METRICS_TOKEN",
)
async def health_detailed(request: Request) -> dict[str, Any]:
    services = core_services(request)
    timeout = services.settings.health_check_timeout
    database, replica, redis = await asyncio.gather(
        _check_database(services.database, timeout),
        _check_replica(services.database, timeout),
        _check_redis(services.redis, timeout),
    )
    identity = (
        {"version": services.version, "environment": services.settings.environment}
        if operator_view(services.settings, request.headers.get("authorization"))
        else {}
    )
    replica_ok = replica["state"] in ("ok", "not_configured")
    return {
        "status": "ok" if database["state"] == "ok" and replica_ok else "degraded",
        **identity,
        "uptime_s": round(time.monotonic() - services.started_at, 1),
        "database": database,
        "replica": replica,
        "redis": redis,
        "warmup": services.startup_tasks.status(),
    }


_QUEUE_STATS = text(
    """
    SELECT j.status::text AS status, count(*) AS jobs,
           max(extract(epoch FROM now() - coalesce(j.scheduled_at, d.at)))
               FILTER (WHERE j.status = 'todo' AND coalesce(j.scheduled_at, d.at) <= now()) AS lag
    FROM procrastinate_jobs j
    LEFT JOIN LATERAL (
        SELECT min(at) AS at FROM procrastinate_events e
        WHERE e.job_id = j.id AND e.type = 'deferred'
    ) d ON true
    WHERE j.status IN ('todo', 'doing', 'failed')
    GROUP BY j.status
    """
)


_QUEUE_STATS_FAILURES: tuple[type[BaseException], ...] = (
    TimeoutError,
    *DATABASE_UNAVAILABLE_ERRORS,
    SQLAlchemyError,
)


async def _read_queue_stats(database: Database, stats: QueueStats, seconds: float) -> None:
    """Refresh the queue figures; on a database that does not answer in time the last ones
    stay (and `/ready/db` tells the outage)."""
    if database.target is None:
        return
    try:
        async with asyncio.timeout(seconds), database.engine.connect() as conn:
            rows = (await conn.execute(_QUEUE_STATS)).all()
    except _QUEUE_STATS_FAILURES:
        return
    stats.by_status = {row.status: row.jobs for row in rows}
    stats.lag_seconds = max((float(row.lag) for row in rows if row.lag is not None), default=0.0)


@router.get(
    "/metrics",
    summary="Prometheus metrics (Authorization: Bearer <METRICS_TOKEN>, required in production)",
    response_class=Response,
    responses={401: {"model": ErrorResponse, "description": "METRICS_TOKEN missing or wrong."}},
)
@router.get(
    "/health/metrics",
    summary="Prometheus metrics (the old monitors' path)",
    response_class=Response,
    responses={401: {"model": ErrorResponse, "description": "METRICS_TOKEN missing or wrong."}},
    operation_id="metrics_old_path",
)
def metrics(request: Request) -> Response:
    services = core_services(request)
    if not operator_view(services.settings, request.headers.get("authorization")):
        raise Unauthorized("/metrics needs Authorization: Bearer <METRICS_TOKEN>.")
    # Served from the thread pool; the queue figures are read on the event loop, bounded.
    timeout = services.settings.health_check_timeout
    anyio.from_thread.run(_read_queue_stats, services.database, services.metrics.queue, timeout)
    body, content_type = services.metrics.exposition()
    return Response(body, media_type=content_type)
