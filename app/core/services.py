"""The kit's services, built once by create_app() and kept on `app.state.services`: every
dependency reads them here, typed, and nothing else is kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

# Types only: the modules that read the services (the session, cache and rate-limit
# dependencies) are the ones these would import.
if TYPE_CHECKING:
    from app.core.cache import Cache
    from app.core.config import Settings
    from app.core.db import Database
    from app.core.metrics import Metrics
    from app.core.ratelimit import RateLimiter
    from app.core.redis import RedisState
    from app.core.security import PasswordHasher
    from app.core.startup_tasks import StartupTasks


@dataclass(eq=False)
class CoreServices:
    settings: Settings
    version: str
    started_at: float  # time.monotonic() when the app was built: /health/detailed's uptime
    database: Database
    redis: RedisState
    cache: Cache
    rate_limiter: RateLimiter
    password_hasher: PasswordHasher
    startup_tasks: StartupTasks
    metrics: Metrics


def core_services(connection: HTTPConnection) -> CoreServices:
    """The services of the app serving this request."""
    services: CoreServices = connection.app.state.services
    return services
