"""Prometheus metrics: request counts and latency by route template and status, requests in
flight, the database pools' state read at scrape time, the process (CPU seconds, resident
memory, open file descriptors, start time) and a build-info series.

Every pool series is a count of connections per instance whose states do not overlap, so
`sum(db_pool_connections)` over the fleet is the connections it holds open.

Requests are counted here as plain numbers; prometheus-client (app/core/metrics_export.py)
turns them into metric families at the first scrape, so a worker's boot does not load it.
"""

from __future__ import annotations

import functools
import hmac
from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.core.config import Settings

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

PoolStatus = Callable[[], dict[str, int] | None]


class Latency:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # per bucket (+Inf last), not cumulative
        self.total = 0.0


class RequestStats:
    """Request counts and latency histograms by method, route template and status, kept as
    plain numbers by the event loop and made into metric families at scrape time.
    prometheus-client's Counter.inc and Histogram.observe take a lock each, and its labels() a
    lock and a tuple: a measurable share of a /health (docs/performance.md)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        self.latency: dict[tuple[str, str], Latency] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        series = self.latency.get((method, route))
        if series is None:
            series = self.latency[(method, route)] = Latency()
        series.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series.total += seconds


class QueueStats:
    """The background queue (Procrastinate's jobs table) as last read, by `read_queue_stats`
    just before each scrape: jobs by status, and the lag of the oldest job that is due."""

    def __init__(self) -> None:
        self.by_status: dict[str, int] = {}
        self.lag_seconds: float | None = None


class Metrics:
    """One registry per app, so that several apps in one process (tests) never collide."""

    def __init__(
        self, pool: PoolStatus, replica_pool: PoolStatus, *, version: str = "unknown"
    ) -> None:
        self.pool, self.replica_pool, self.version = pool, replica_pool, version
        self.requests = RequestStats()
        self.observe = self.requests.observe
        # A plain counter read at scrape time: Gauge.inc/dec take a lock twice per request.
        self.in_flight = 0
        self.queue = QueueStats()

    @functools.cached_property
    def registry(self) -> CollectorRegistry:
        from app.core.metrics_export import registry_for

        return registry_for(
            self.requests,
            self.queue,
            self.pool,
            self.replica_pool,
            buckets=LATENCY_BUCKETS,
            in_flight=lambda: self.in_flight,
            version=self.version,
        )

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus's text format, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def operator_view(settings: Settings, authorization: str | None) -> bool:
    """Whether a caller may read /metrics and /health/detailed's version and environment: with
    METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` (compared in constant
    time); without it, anyone except in production, where it is then closed to everyone."""
    if not settings.metrics_token:
        return not settings.is_production
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), settings.metrics_token.encode()
    )
