"""Forged and out-of-range pagination cursors are a 422 on every list (every GET of the OpenAPI
document that takes `cursor`), never a 500, and are refused before the route takes a database
connection: counted on the PostgreSQL server itself. A real cursor of another list or sort is a
422 too (found once the list knows its ordering, so after the caller is looked up)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from app.core.config import Settings
from app.core.security import create_access_token
from tests.support.database import asyncpg_dsn
from tests.support.helpers import assert_error, make_client


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def _raw(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


FORGED = {
    "not base64": "!!!",
    "not JSON": _raw(b"\xff{not json"),
    "not a list": _cursor({"x": 1}),
    "empty list": _cursor([]),
    "unknown ordering": _cursor(["jobs:oldest", [1]]),
    "too few values": _cursor(["jobs:newest", [1]]),
    "id past bigint": _cursor(["companies:newest", [2**63]]),
    "id far past bigint": _cursor(["companies:newest", [10**40]]),
    "id below bigint": _cursor(["notifications:newest", [-(2**63) - 1]]),
    "id zero": _cursor(["companies:newest", [0]]),
    "id negative": _cursor(["notifications:newest", [-5]]),
    "second key id negative": _cursor(["jobs:newest", ["2026-01-01T00:00:00+00:00", -1]]),
    "id a boolean": _cursor(["applications:newest", [True]]),
    "id a string": _cursor(["jobs:employer", ["1"]]),
    "naive datetime": _cursor(["jobs:newest", ["2026-01-01T00:00:00", 1]]),
    "datetime before year 1 in UTC": _cursor(["jobs:newest", ["0001-01-01T00:00:00+05:00", 1]]),
    "datetime after 9999 in UTC": _cursor(["jobs:newest", ["9999-12-31T23:59:59-05:00", 1]]),
    "not a datetime": _cursor(["jobs:saved", ["yesterday", 1]]),
    "huge amount": _cursor(["jobs:salary", ["1e999999", 1]]),
    "amount not a number": _cursor(["jobs:salary", ["NaN", 1]]),
    "amount below no-pay": _cursor(["jobs:salary", ["-2", 1]]),
    "amount past numeric(12, 2)": _cursor(["jobs:salary", ["10000000000", 1]]),
    "rank negative": _cursor(["jobs:relevance", [-0.5, "2026-01-01T00:00:00+00:00", 1]]),
    "rank past REAL": _cursor(["jobs:relevance", [1e300, "2026-01-01T00:00:00+00:00", 1]]),
    "too long": "A" * 600,
}


@pytest.fixture
async def fresh(
    create_database: Callable[..., Any],
    make_settings: Callable[..., Settings],
    start_app: Callable[[Settings], Any],
    server_database_url: str,
) -> Any:
    """An app on a database of its own, and a count of the connections open to that database."""
    url = await create_database(prefix="hmb_cursor")
    settings = make_settings(database_url=url)
    app = await start_app(settings)
    name = url.rsplit("/", 1)[-1].split("?")[0]
    dsn, kwargs = asyncpg_dsn(server_database_url)

    async def connections() -> int:
        conn = await asyncpg.connect(dsn, **kwargs)
        try:
            return await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
            )
        finally:
            await conn.close()

    for _ in range(100):  # the migration's connection may take a moment to go
        if await connections() == 0:
            break
        await asyncio.sleep(0.05)
    token, _ = create_access_token(settings, user_id=1, role="employer", token_version=0)
    return app, connections, {"Authorization": f"Bearer {token}"}


def _list_paths(app: Any) -> list[str]:
    paths = []
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get", {})
        if any(p["name"] == "cursor" for p in get.get("parameters", [])):
            paths.append(re.sub(r"\{\w+_id\}", "1", path))
    return paths


async def test_forged_cursors_are_422_on_every_list_without_a_connection(fresh: Any) -> None:
    app, connections, headers = fresh
    paths = _list_paths(app)
    assert {"/api/jobs", "/api/companies", "/api/employer/jobs", "/api/notifications"} <= set(paths)
    assert await connections() == 0
    async with make_client(app) as client:
        for path in paths:
            for why, cursor in FORGED.items():
                if path.startswith("/api/admin/"):
                    # The admin API is a 404 to everyone else before it reads anything (telling
                    # a non-admin's token apart needs the account's row, so only anonymously).
                    response = await client.get(path, params={"cursor": cursor})
                    assert_error(response, 404, "NOT_FOUND")
                    continue
                for sent in ({}, headers):
                    response = await client.get(path, params={"cursor": cursor}, headers=sent)
                    body = assert_error(response, 422, "VALIDATION_ERROR")
                    assert body["details"][0]["loc"] == ["query", "cursor"], (path, why)
        assert await connections() == 0, "a forged cursor took a database connection"
        # The control: a request that does reach the database shows up in the count.
        assert (await client.get("/api/companies")).status_code == 200
        assert await connections() > 0


async def test_a_cursor_of_another_list_or_sort_is_422(fresh: Any) -> None:
    app, _, _ = fresh
    async with make_client(app) as client:
        companies = _cursor(["companies:newest", [5]])
        newest = _cursor(["jobs:newest", ["2026-01-01T00:00:00+00:00", 5]])
        for path, params in [
            ("/api/jobs", {"cursor": companies}),
            ("/api/jobs", {"cursor": newest, "sort": "salary"}),
            ("/api/companies", {"cursor": newest}),
        ]:
            response = await client.get(path, params=params)
            assert_error(response, 422, "VALIDATION_ERROR")
        # The same cursor where it belongs is accepted.
        assert (await client.get("/api/jobs", params={"cursor": newest})).status_code == 200
