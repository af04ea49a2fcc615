"""Prometheus metrics (prometheus-client): request counts and latency by route template and
status, requests in flight, and the database pool's state read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


PoolStatus = Callable[[], dict[str, int] | None]


class _PoolCollector(Collector):
    """Connection counts by state, read from the pools at scrape time."""

    def __init__(self, sessions: PoolStatus, reads: PoolStatus) -> None:
        self._families = (
            ("db_pool_connections", "Session pool (SQLAlchemy) connections by state", sessions),
            ("db_read_pool_connections", "Read pool (asyncpg) connections by state", reads),
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, documentation, status in self._families:
            family = GaugeMetricFamily(name, documentation, labels=["state"])
            for state, value in (status() or {}).items():
                family.add_metric([state], value)
            yield family


class Metrics:
    """One registry per app, so that several apps in one process (tests) never collide."""

    def __init__(self, session_pool: PoolStatus, read_pool: PoolStatus) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        # A plain counter read at scrape time: Gauge.inc/dec take a lock twice per request.
        self.in_flight = 0
        Gauge(
            "http_requests_in_progress", "HTTP requests being served", registry=self.registry
        ).set_function(lambda: self.in_flight)
        self.registry.register(_PoolCollector(session_pool, read_pool))
        # labels() costs a lock and a tuple build per call, twice per request: keep the
        # children per (method, route template, status), a small bounded set.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)
