"""Per-account write limits on job posts, applications, messages and reports: one helper,
counted in Redis so every instance shares the window, 429 with Retry-After past it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.moderation.world import Cast, make_cast
from tests.support.factories import Market
from tests.support.helpers import assert_error, make_client

Write = Callable[[Cast, httpx.AsyncClient], Awaitable[httpx.Response]]


async def _post_job(cast: Cast, client: httpx.AsyncClient) -> httpx.Response:
    body = {
        "company_id": cast.company_id,
        "title": "Dock Hand",
        "description": "Tie up the mail boat and move freight at Potter's Cay.",
        "location": "Nassau",
        "island": "New Providence",
        "category": "maritime_fishing",
        "employment_type": "full_time",
        "status": "published",
    }
    return await client.post("/api/jobs", json=body, headers=cast.employer.headers)


async def _apply(cast: Cast, client: httpx.AsyncClient) -> httpx.Response:
    job_id = await cast.published()
    return await client.post(
        f"/api/jobs/{job_id}/applications", json={}, headers=cast.seeker2.headers
    )


async def _message(cast: Cast, client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        f"/api/applications/{cast.application_id}/messages",
        json={"body": "Any news?"},
        headers=cast.seeker.headers,
    )


async def _report(cast: Cast, client: httpx.AsyncClient) -> httpx.Response:
    body = {"target_type": "job", "target_id": await cast.published(), "reason": "spam"}
    return await client.post("/api/reports", json=body, headers=cast.seeker2.headers)


@pytest.mark.parametrize(
    ("setting", "write", "table"),
    [
        ("rate_limit_job_posts", _post_job, "jobs"),
        ("rate_limit_applications", _apply, "applications"),
        ("rate_limit_messages", _message, "messages"),
        ("rate_limit_reports", _report, "reports"),
    ],
    ids=["job posts", "applications", "messages", "reports"],
)
async def test_each_write_is_limited_per_account_across_instances(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    redis: Any,
    setting: str,
    write: Write,
    table: str,
) -> None:
    settings = make_settings(**{setting: "2/hour"})
    one: FastAPI = await start_app(settings)
    other: FastAPI = await start_app(settings)
    async with make_client(one) as client, make_client(other) as second:
        cast = await make_cast(Market(one, client))
        await redis.flushdb()  # the windows start now, not with the cast's own writes
        [[before]] = await cast.market.sql(f"SELECT count(*) FROM {table}")
        assert (await write(cast, client)).status_code == 201
        assert (await write(cast, second)).status_code == 201
        for instance in (client, second):
            refused = await write(cast, instance)
            assert_error(refused, 429, "RATE_LIMITED")
            assert 1 <= int(refused.headers["retry-after"]) <= 3600
        [[after]] = await cast.market.sql(f"SELECT count(*) FROM {table}")
        assert after == before + 2
