"""/metrics as a Prometheus scraper and an operator see it: process, build and pool series
that add up across instances, and a bearer token (METRICS_TOKEN) that production requires;
/health/detailed shows version and environment only to the same token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app import __version__
from app.core.config import Settings
from tests.support.helpers import assert_error, make_client

TOKEN = "metrics-token-for-the-tests-0123456789"
SMTP = "smtp.example.com"  # production refuses to start without an SMTP server


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


async def _scrape(client: httpx.AsyncClient, **headers: str) -> dict[str, Any]:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_process_and_build_series(client: httpx.AsyncClient) -> None:
    samples = await _scrape(client)
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ):
        ((_, value),) = samples[name]
        assert value > 0, name
    ((labels, value),) = samples["hiremebahamas_build_info"]
    assert labels["version"] == __version__
    assert labels["python"]
    assert value == 1.0


async def test_pool_series_add_up_across_instances(
    start_app: Callable[[Settings], Any], settings: Settings
) -> None:
    """Two instances that each served one database request hold one connection each: the
    pool states partition the connections, so the fleet's sum is 2."""
    total = 0.0
    for _ in range(2):
        async with make_client(await start_app(settings)) as client:
            assert (await client.get("/api/users/me/applications")).status_code == 401
            assert (await client.get("/ready/db")).status_code == 200
            pool = (await _scrape(client))["db_pool_connections"]
            assert {labels["state"] for labels, _ in pool} == {"in_use", "idle"}
            total += sum(value for _, value in pool)
            samples = await _scrape(client)
            ((_, size),) = samples["db_pool_size"]
            assert size == settings.db_pool_size
            # Nobody waited for a connection (app/core/db/fair_pool.py counts those who do).
            for name in ("db_pool_waiting", "db_pool_waits_total", "db_pool_wait_seconds_total"):
                assert samples[name] == [({}, 0.0)], name
    assert total == 2


async def test_production_requires_the_metrics_token(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(
        make_settings(environment="production", smtp_host=SMTP, metrics_token=TOKEN)
    )
    async with make_client(app) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            refused = await client.get("/metrics", headers=headers)
            assert_error(refused, 401, "UNAUTHORIZED")
            assert refused.headers["www-authenticate"] == "Bearer"
            hidden = (await client.get("/health/detailed", headers=headers)).json()
            assert "version" not in hidden and "environment" not in hidden
            assert hidden["database"]["state"] == "ok"

        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert "process_open_fds" in await _scrape(client, **auth)
        shown = (await client.get("/health/detailed", headers=auth)).json()
        assert (shown["version"], shown["environment"]) == (__version__, "production")


async def test_production_without_a_token_keeps_metrics_closed(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(environment="production", smtp_host=SMTP))
    async with make_client(app) as client:
        assert_error(await client.get("/metrics"), 401, "UNAUTHORIZED")
        assert "version" not in (await client.get("/health/detailed")).json()


async def test_outside_production_a_configured_token_is_still_required(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(metrics_token=TOKEN))
    async with make_client(app) as client:
        assert_error(await client.get("/metrics"), 401, "UNAUTHORIZED")
        assert "process_open_fds" in await _scrape(client, Authorization=f"Bearer {TOKEN}")


async def test_development_without_a_token_is_open(client: httpx.AsyncClient) -> None:
    assert "process_open_fds" in await _scrape(client)
    body = (await client.get("/health/detailed")).json()
    assert body["version"] == __version__
    assert body["environment"] == "test"
