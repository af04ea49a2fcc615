"""What an instance logs once at start about the configuration it runs with (secrets masked)."""

from __future__ import annotations

import logging
from typing import Any

from app.core.config import Settings
from app.core.db import Database

logger = logging.getLogger("app.config")


def effective_configuration(settings: Settings, database: Database) -> dict[str, Any]:
    """The settings an operator checks first, with nothing secret in them: no password, no
    key, no Redis URL (it may carry one)."""
    target = database.target
    return {
        "environment": settings.environment,
        "database_host": (target.url.host or "socket") if target else None,
        "database_port": target.url.port if target else None,
        "database_name": target.url.database if target else None,
        "pgbouncer": target.pgbouncer if target else None,
        "db_pool_size": settings.db_pool_size,
        "db_max_overflow": settings.db_max_overflow,
        "redis": settings.redis_url is not None,
        "allowed_origins": settings.allowed_origins,
        "allowed_origin_regex": settings.allowed_origin_regex,
        "trusted_proxies": settings.trusted_proxies,
        "rate_limit_per_minute": settings.rate_limit_per_minute,
        "metrics_token": settings.metrics_token is not None,
        "docs": settings.docs_enabled,
    }


def log_startup_configuration(settings: Settings, database: Database) -> None:
    """One line with the effective configuration, and a warning when production runs without
    Redis: every instance then keeps its own rate-limit counters and caches."""
    config = effective_configuration(settings, database)
    logger.info("effective configuration", extra={"config": config})
    if settings.is_production and settings.redis_url is None:
        logger.warning(
            "REDIS_URL is not set: rate limits and caches are per instance, so with more than "
            "one instance a client gets each limit once per instance and may see stale lists"
        )
