"""create_app(): settings, middleware, routers, lifespan; and `app`, what Gunicorn serves."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from app import __version__
from app.boot import DeferredApp
from app.core.background import StartupTasks
from app.core.config import Settings, get_settings
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.middleware import (
    BodySizeLimitMiddleware,
    CORSMiddleware,
    GZipMiddleware,
    RequestContextMiddleware,
    TrustedProxies,
    UnhandledErrorMiddleware,
)
from app.core.routing import ProbeLane
from app.core.startup_report import log_startup_configuration
from app.health.probes import probe_routes

logger = logging.getLogger("app.main")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    started = time.perf_counter()
    state = app.state
    log_startup_configuration(state.settings, state.database)
    state.startup_tasks.start("bcrypt_warmup", state.password_hasher.warm_up())
    state.startup_tasks.start("redis_connect", state.redis.connect())
    logger.info(
        "Application startup complete (lifespan took %.2f ms)",
        (time.perf_counter() - started) * 1000,
    )
    try:
        yield
    finally:
        await state.startup_tasks.cancel_all()
        await state.redis.close()
        await state.database.dispose()
        logger.info("Application shutdown complete")


def create_app(settings: Settings | None = None) -> FastAPI:
    # Imported here, not at the top: `app.main:app` answers the probes before these (SQLAlchemy,
    # Redis, passlib, every domain package) are loaded, in a thread, by this very function.
    from app.core.db import Database
    from app.core.ratelimit import ApiRateLimitMiddleware, RateLimiter
    from app.core.redis import RedisState
    from app.core.security import PasswordHasher
    from app.health.router import router as health_router
    from app.routers import ANONYMOUS_ROUTES, API_ROUTERS

    settings = settings or get_settings()
    configure_logging(settings.log_level, console=settings.console_logs)

    app = FastAPI(
        # The service exports Prometheus metrics; FastAPI's per-request OpenTelemetry check
        # costs ~10% of a /health.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        title=settings.app_name,
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.version = __version__
    app.state.started_at = time.monotonic()
    app.state.database = Database(settings)
    app.state.redis = RedisState(settings.redis_url, settings.redis_timeout)
    app.state.rate_limiter = RateLimiter(app.state.redis)
    app.state.password_hasher = PasswordHasher(settings.bcrypt_rounds)
    app.state.startup_tasks = StartupTasks()
    app.state.metrics = Metrics(
        app.state.database.pool_status, app.state.database.read_pool_status, version=__version__
    )

    # The probes come first so the router matches them before anything else; the rest of the
    # health routes (scraped, rarely called) after the API's, which FastAPI would otherwise try
    # every one of them before on every API request (~20 us of CPU per job page).
    app.router.routes[:0] = [*probe_routes, *ANONYMOUS_ROUTES]
    for router, prefix in API_ROUTERS:
        app.include_router(router, prefix=f"/api{prefix}")
    app.include_router(health_router)
    install_error_handlers(app)

    # add_middleware wraps what is there: the last one added is the outermost.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(
        ApiRateLimitMiddleware,
        limiter=app.state.rate_limiter,
        per_minute=settings.rate_limit_per_minute,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_origin_regex=settings.allowed_origin_regex,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(ProbeLane, routes=probe_routes)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        proxies=TrustedProxies(settings.trusted_proxies),
        hsts=settings.is_production,
    )
    return app


def __getattr__(name: str) -> DeferredApp:
    """`app.main:app` for Gunicorn and Uvicorn, made on first access instead of at import:
    importing this module (tests, Alembic, tools) builds nothing and reads no environment. It is
    the front of app/boot.py, which answers the probes at once and serves create_app()'s API as
    soon as it is built."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    settings = get_settings()
    front = DeferredApp(partial(create_app, settings), settings)
    globals()["app"] = front
    return front
