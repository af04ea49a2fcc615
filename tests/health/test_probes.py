from __future__ import annotations

import re

import httpx
import pytest
from prometheus_client import generate_latest

from app.core.metrics import Metrics
from tests.support.helpers import assert_error


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/health", {"status": "ok"}),
        ("/live", {"status": "alive"}),
        ("/ready", {"status": "ready"}),
        # The paths the old monitors poll answer exactly as the probes they stand for.
        ("/health/live", {"status": "alive"}),
        ("/health/liveness", {"status": "alive"}),
        ("/health/ready", {"status": "ready"}),
        ("/health/readiness", {"status": "ready"}),
    ],
)
async def test_probe_answers_get_and_head(client: httpx.AsyncClient, path: str, body: dict) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json() == body
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"

    head = await client.head(path)
    assert head.status_code == 200
    assert head.content == b""


async def test_browser_probe_gets_cors_headers(client: httpx.AsyncClient) -> None:
    # A browser's status page calling /health must be allowed to read the answer.
    response = await client.get("/health", headers={"Origin": "https://hiremebahamas.com"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["access-control-allow-origin"] == "https://hiremebahamas.com"
    assert response.headers["x-request-id"]


async def test_probe_rejects_other_methods_in_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/health"), 405, "METHOD_NOT_ALLOWED")


async def test_ready_db_reports_latency(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready/db")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"]["state"] == "ok"
    assert body["database"]["latency_ms"] >= 0


async def test_detailed_health_reports_every_dependency(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health/detailed")).json()
    assert body["database"]["state"] == "ok"
    assert body["version"]
    assert body["uptime_s"] >= 0
    assert set(body["warmup"]) == {"bcrypt_warmup", "redis_connect"}
    assert body["redis"]["state"] in {"ok", "disabled"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    await client.get("/ready/db")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert 'route="/ready/db"' in text
    await client.get("/api/users/12345")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/api/users/{user_id}",status="401"}' in text
    assert "http_requests_in_progress" in text
    assert 'db_pool_connections{state="in_use"}' in text


async def test_metrics_histogram_counts_every_request_in_cumulative_buckets(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(3):
        await client.get("/health")
    text = (await client.get("/metrics")).text
    series = '{method="GET",route="/health"}'
    assert f"http_request_duration_seconds_count{series} 3.0" in text
    buckets = re.findall(
        r'http_request_duration_seconds_bucket\{le="([^"]+)",method="GET",route="/health"\} (\S+)',
        text,
    )
    assert [le for le, _ in buckets][-3:] == ["5.0", "10.0", "+Inf"]
    counts = [float(n) for _, n in buckets]
    assert counts == sorted(counts) and counts[-1] == 3.0
    # Parsed, not matched as text: a sum like 0.00014 starts with "0.0" too.
    total = re.search(rf"^http_request_duration_seconds_sum{re.escape(series)} (\S+)$", text, re.M)
    assert total is not None and float(total.group(1)) > 0


def test_latency_buckets_are_inclusive_upper_bounds() -> None:
    metrics = Metrics(lambda: None, lambda: None)
    for seconds in (0.0004, 0.001, 0.0011, 20.0):
        metrics.observe("GET", "/health", 200, seconds)
    text = generate_latest(metrics.registry).decode()
    bucket = 'http_request_duration_seconds_bucket{{le="{}",method="GET",route="/health"}} {}'
    for le, count in (("0.001", 2.0), ("0.0025", 3.0), ("10.0", 3.0), ("+Inf", 4.0)):
        assert bucket.format(le, count) in text
    assert 'http_request_duration_seconds_sum{method="GET",route="/health"} 20.0025' in text
    assert 'http_requests_total{method="GET",route="/health",status="200"} 4.0' in text


async def test_metrics_show_the_pools_connections(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/jobs/2147483647")).status_code == 404  # a database read
    text = (await client.get("/metrics")).text
    assert 'db_pool_connections{state="idle"} 1.0' in text
    assert 'db_pool_connections{state="in_use"} 0.0' in text
    assert 'http_requests_total{method="GET",route="/api/jobs/{job_id}",status="404"} 1.0' in text


async def test_the_old_monitors_metrics_path_is_the_metrics(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await client.get("/health")).status_code == 200
    old = await client.get("/health/metrics")
    assert old.status_code == 200
    assert old.headers["content-type"] == (await client.get("/metrics")).headers["content-type"]
    assert 'http_requests_total{method="GET",route="/health",status="200"} 2.0' in old.text
