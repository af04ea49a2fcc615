"""Prometheus metrics (prometheus-client): request counts and latency by route template and
status, requests in flight, the database pools' state read at scrape time, the process (CPU
seconds, resident memory, open file descriptors, start time) and a build-info series.

Every pool series is a count of connections per instance whose states do not overlap, so
`sum(db_pool_connections)` over the fleet is the connections it holds open.
"""

from __future__ import annotations

import hmac
import platform
from bisect import bisect_left
from collections.abc import Callable, Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, Gauge, Info, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from app.core.config import Settings

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BUCKET_LABELS = [floatToGoString(b) for b in (*_LATENCY_BUCKETS, float("inf"))]


PoolStatus = Callable[[], dict[str, int] | None]


# The session pool's status (app/core/db.py) as states that partition its open connections.
_SESSION_STATES = {"checked_out": "in_use", "checked_in": "idle"}


class _PoolCollector(Collector):
    """Connection counts by state, read from the pools at scrape time: the primary's, and the
    read replica's when DATABASE_READ_URL is set."""

    def __init__(self, pool: PoolStatus, replica_pool: PoolStatus) -> None:
        self._pool = pool
        self._replica_pool = replica_pool

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        primary = self._pool() or {}
        yield _by_state("db_pool_connections", "Database pool (SQLAlchemy) connections", primary)
        for name, documentation, key in (
            (
                "db_pool_overflow_connections",
                "Database pool connections beyond its size",
                "overflow",
            ),
            ("db_pool_size", "Database pool connections kept open (DB_POOL_SIZE)", "size"),
        ):
            gauge = GaugeMetricFamily(name, documentation)
            if key in primary:
                gauge.add_metric([], primary[key])
            yield gauge
        if "waits" in primary:
            yield GaugeMetricFamily(
                "db_pool_waiting",
                "Checkouts waiting now for a pooled connection",
                value=primary["waiting"],
            )
            yield CounterMetricFamily(
                "db_pool_waits",
                "Checkouts that waited for a pooled connection (all were in use)",
                value=primary["waits"],
            )
            yield CounterMetricFamily(
                "db_pool_wait_seconds",
                "Time checkouts spent waiting for a pooled connection",
                value=primary["wait_us"] / 1_000_000,
            )
        replica = self._replica_pool()
        if replica is not None:
            yield _by_state("db_read_pool_connections", "Read replica pool connections", replica)


def _by_state(name: str, documentation: str, status: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, f"{documentation} by state", labels=["state"])
    for key, state in _SESSION_STATES.items():
        if key in status:
            family.add_metric([state], status[key])
    return family


class _Latency:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * len(_BUCKET_LABELS)  # per bucket, not yet cumulative
        self.total = 0.0


class _RequestCollector(Collector):
    """Request counts and latency histograms by method, route template and status, kept as
    plain numbers by the event loop and made into metric families at scrape time.
    prometheus-client's Counter.inc and Histogram.observe take a lock each, and its labels() a
    lock and a tuple: a measurable share of a /health (docs/performance.md)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._latency: dict[tuple[str, str], _Latency] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        series = self._latency.get((method, route))
        if series is None:
            series = self._latency[(method, route)] = _Latency()
        series.counts[bisect_left(_LATENCY_BUCKETS, seconds)] += 1
        series.total += seconds

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        # Scraped from a thread-pool thread: copies, taken under the GIL, not live views.
        requests = CounterMetricFamily(
            "http_requests", "HTTP requests", labels=["method", "route", "status"]
        )
        for (method, route, status), count in list(self._counts.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "http_request_duration_seconds", "HTTP request latency", labels=["method", "route"]
        )
        for (method, route), series in list(self._latency.items()):
            cumulative = accumulate(series.counts[:])
            latency.add_metric(
                [method, route], list(zip(_BUCKET_LABELS, cumulative, strict=True)), series.total
            )
        yield latency


class QueueStats(Collector):
    """The background queue (Procrastinate's jobs table) as last read, by `read_queue_stats`
    just before each scrape: jobs by status, and the lag of the oldest job that is due."""

    def __init__(self) -> None:
        self.by_status: dict[str, int] = {}
        self.lag_seconds: float | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily(
            "queue_jobs", "Background jobs by status (todo = queue depth)", labels=["status"]
        )
        for status in ("todo", "doing", "failed"):
            jobs.add_metric([status], self.by_status.get(status, 0))
        yield jobs
        if self.lag_seconds is not None:
            yield GaugeMetricFamily(
                "queue_lag_seconds",
                "How long the oldest due background job has waited for a worker",
                value=self.lag_seconds,
            )


class Metrics:
    """One registry per app, so that several apps in one process (tests) never collide."""

    def __init__(
        self, pool: PoolStatus, replica_pool: PoolStatus, *, version: str = "unknown"
    ) -> None:
        self.registry = CollectorRegistry()
        # process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
        # process_start_time_seconds, ... from /proc (Linux; empty elsewhere).
        ProcessCollector(registry=self.registry)
        Info("hiremebahamas_build", "The running build", registry=self.registry).info(
            {"version": version, "python": platform.python_version()}
        )
        requests = _RequestCollector()
        self.registry.register(requests)
        self.observe = requests.observe
        # A plain counter read at scrape time: Gauge.inc/dec take a lock twice per request.
        self.in_flight = 0
        Gauge(
            "http_requests_in_progress", "HTTP requests being served", registry=self.registry
        ).set_function(lambda: self.in_flight)
        self.registry.register(_PoolCollector(pool, replica_pool))
        self.queue = QueueStats()
        self.registry.register(self.queue)


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
