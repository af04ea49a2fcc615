"""The kit's services, built once by create_app() and kept on `app.state.services`: every
dependency reads them here, typed, and nothing else is kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar, cast

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


T = TypeVar("T")


class ServiceKey(Generic[T]):
    """Names a service a domain owns (the live events hub, file storage): the domain defines the
    key beside the service, create_app() provides it, and the domain's dependency reads it back
    typed, so the kit never imports a domain."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ServiceKey({self.name!r})"


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
    domain_services: dict[ServiceKey[object], object] = field(default_factory=dict)

    def provide(self, key: ServiceKey[T], service: T) -> None:
        self.domain_services[cast("ServiceKey[object]", key)] = service

    def of(self, key: ServiceKey[T]) -> T:
        """The service `key` names; a KeyError if create_app() did not provide it."""
        return cast("T", self.domain_services[cast("ServiceKey[object]", key)])


def core_services(connection: HTTPConnection) -> CoreServices:
    """The services of the app serving this request."""
    services: CoreServices = connection.app.state.services
    return services
