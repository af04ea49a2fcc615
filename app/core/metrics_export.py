"""The registry behind /metrics: prometheus-client collectors over the plain figures that
app/core/metrics.py keeps, built at the first scrape (see there)."""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, Info, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

if TYPE_CHECKING:
    from app.core.metrics import PoolStatus, QueueStats, RequestStats

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


class _RequestCollector(Collector):
    def __init__(self, stats: RequestStats, buckets: tuple[float, ...]) -> None:
        self._stats = stats
        self._labels = [floatToGoString(b) for b in (*buckets, float("inf"))]

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        # Scraped from a thread-pool thread: copies, taken under the GIL, not live views.
        requests = CounterMetricFamily(
            "http_requests", "HTTP requests", labels=["method", "route", "status"]
        )
        for (method, route, status), count in list(self._stats.counts.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "http_request_duration_seconds", "HTTP request latency", labels=["method", "route"]
        )
        for (method, route), series in list(self._stats.latency.items()):
            cumulative = accumulate(series.counts[:])
            latency.add_metric(
                [method, route], list(zip(self._labels, cumulative, strict=True)), series.total
            )
        yield latency


class _QueueCollector(Collector):
    def __init__(self, stats: QueueStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily(
            "queue_jobs", "Background jobs by status (todo = queue depth)", labels=["status"]
        )
        for status in ("todo", "doing", "failed"):
            jobs.add_metric([status], self._stats.by_status.get(status, 0))
        yield jobs
        if self._stats.lag_seconds is not None:
            yield GaugeMetricFamily(
                "queue_lag_seconds",
                "How long the oldest due background job has waited for a worker",
                value=self._stats.lag_seconds,
            )


def registry_for(
    requests: RequestStats,
    queue: QueueStats,
    pool: PoolStatus,
    replica_pool: PoolStatus,
    *,
    buckets: tuple[float, ...],
    in_flight: Callable[[], int],
    version: str,
) -> CollectorRegistry:
    registry = CollectorRegistry()
    # process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
    # process_start_time_seconds, ... from /proc (Linux; empty elsewhere).
    ProcessCollector(registry=registry)
    Info("hiremebahamas_build", "The running build", registry=registry).info(
        {"version": version, "python": platform.python_version()}
    )
    registry.register(_RequestCollector(requests, buckets))
    Gauge(
        "http_requests_in_progress", "HTTP requests being served", registry=registry
    ).set_function(in_flight)
    registry.register(_PoolCollector(pool, replica_pool))
    registry.register(_QueueCollector(queue))
    return registry
