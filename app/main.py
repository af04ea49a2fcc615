"""create_app(): settings, middleware, routers, lifespan; and `app`, what Gunicorn serves."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.core.cache import CACHE_CHANNEL, Cache
from app.core.config import Settings, get_settings
from app.core.db import DATABASE_UNAVAILABLE_ERRORS, Database
from app.core.errors import install_error_handlers
from app.core.http.body_size import BodySizeLimitMiddleware
from app.core.http.context import RequestContextMiddleware
from app.core.http.cors import CORSMiddleware
from app.core.http.gzip import GZipMiddleware
from app.core.http.proxies import TrustedProxies
from app.core.http.ratelimit import ApiRateLimitMiddleware
from app.core.http.route_index import index_routes
from app.core.http.unhandled import UnhandledErrorMiddleware
from app.core.http_cache import GZIP_MINIMUM_SIZE
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.operation_ids import operation_id
from app.core.ratelimit import FleetRateLimit, RateLimiter
from app.core.redis import RedisState
from app.core.routing import include
from app.core.security import PasswordHasher
from app.core.services import CoreServices
from app.core.startup_tasks import StartupTasks
from app.events.hub import EVENT_HUB, EventHub
from app.files.router import UPLOAD_CONTENT_PATH
from app.files.storage import STORAGE, make_storage
from app.health.probes import probe_routes
from app.health.router import router as health_router
from app.identity.known_callers import CALLERS_CHANNEL, KNOWN_CALLERS, KnownCallers
from app.routers import API_ROUTERS
from app.server.startup_report import log_startup_configuration

logger = logging.getLogger("app.main")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    started = time.perf_counter()
    services: CoreServices = app.state.services
    log_startup_configuration(services.settings, services.database)
    services.startup_tasks.start("bcrypt_warmup", services.password_hasher.warm_up())
    services.startup_tasks.start("redis_connect", services.redis.connect())
    logger.info(
        "Application startup complete (lifespan took %.2f ms)",
        (time.perf_counter() - started) * 1000,
    )
    try:
        yield
    finally:
        await services.startup_tasks.cancel_all()
        await services.of(EVENT_HUB).aclose()
        await services.redis.close()
        await services.database.dispose()
        logger.info("Application shutdown complete")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, console=settings.console_logs)

    app = FastAPI(
        # The service exports Prometheus metrics; FastAPI's per-request OpenTelemetry check
        # is a measurable share of a /health (docs/performance.md).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        title=settings.app_name,
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        # Starlette's trailing-slash redirect builds its Location from the Host header (an open
        # redirect behind a proxy that passes Host on); `/api/jobs/` is simply no route.
        redirect_slashes=False,
        generate_unique_id_function=operation_id,
    )
    started_at = time.monotonic()
    database = Database(settings)
    redis = RedisState(settings.redis_url, settings.redis_timeout)
    rate_limiter = RateLimiter(redis)
    metrics = Metrics(database.pool_status, database.replica_pool_status, version=__version__)
    app.state.services = services = CoreServices(
        settings=settings,
        version=__version__,
        started_at=started_at,
        database=database,
        redis=redis,
        cache=Cache(redis),
        rate_limiter=rate_limiter,
        password_hasher=PasswordHasher(settings.bcrypt_rounds),
        startup_tasks=StartupTasks(),
        metrics=metrics,
    )
    hub = EventHub.from_settings(settings)
    hub.carry(CACHE_CHANNEL, services.cache)
    known_callers = KnownCallers()
    hub.carry(CALLERS_CHANNEL, known_callers)
    services.provide(KNOWN_CALLERS, known_callers)
    services.provide(EVENT_HUB, hub)
    services.provide(STORAGE, make_storage(settings))

    app.router.routes[:0] = probe_routes
    for router, prefix in API_ROUTERS:
        include(app, router, prefix=f"/api{prefix}")
    include(app, health_router)
    index_routes(app.router)
    install_error_handlers(app, DATABASE_UNAVAILABLE_ERRORS)

    # add_middleware wraps what is there: the last one added is the outermost.
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, own_limit=UPLOAD_CONTENT_PATH
    )
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE)
    app.add_middleware(
        ApiRateLimitMiddleware,
        limit=FleetRateLimit(services.redis, settings.rate_limit_per_minute),
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_origin_regex=settings.allowed_origin_regex,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "If-None-Match"],
        expose_headers=["X-Request-ID", "Retry-After", "ETag"],
        max_age=600,
    )
    app.add_middleware(
        RequestContextMiddleware,
        metrics=services.metrics,
        proxies=TrustedProxies(settings.trusted_proxies),
        hsts=settings.is_production,
    )
    return app


def __getattr__(name: str) -> FastAPI:
    """`app.main:app` for Gunicorn and Uvicorn: create_app() itself, made on first access
    instead of at import, so importing this module (tests, Alembic, tools) builds nothing and
    reads no environment. A router that fails to import fails here, in the worker's boot, and
    Gunicorn's master stops with its boot-error status."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = globals()["app"] = create_app()
    return app
