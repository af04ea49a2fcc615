"""Who is calling, read cheaply (app/identity/deps.py): a signed-in read checks the caller with
one SELECT of the account's id and role, whose WHERE is the whole check (live, not suspended,
not deleted, the token's version), never the users row with its password hash; the profile
(GET /api/users/me) is read as its columns under the same check, and the routes that change the
account read the full row."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.core.config import Settings
from app.core.db import parse_database_url
from bench.capture import CaptureProxy
from tests.support.factories import Market
from tests.support.helpers import assert_error, make_client


@pytest.fixture
async def watched(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    database_url: str,
) -> AsyncIterator[tuple[Market, CaptureProxy]]:
    """A market whose app reaches PostgreSQL through the capture proxy: what the server
    receives, whichever way the app sends it."""
    session_url = parse_database_url(database_url).url
    host = session_url.host or session_url.query.get("host")
    assert isinstance(host, str), "DATABASE_URL names several hosts"
    with CaptureProxy(host, session_url.port or 5432) as proxy:
        url = session_url.set(host="127.0.0.1", port=proxy.port, query={})
        app = await start_app(make_settings(database_url=url.render_as_string(False)))
        async with make_client(app) as client:
            yield Market(app, client), proxy


async def _sent(
    proxy: CaptureProxy, market: Market, path: str, headers: dict[str, str]
) -> list[str]:
    """The statements of one GET, as PostgreSQL received them."""
    started = time.monotonic()
    response = await market.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [" ".join(s.sql.split()) for s in proxy.since(started) if s.kind == "query"]


async def test_a_signed_in_read_checks_the_caller_without_the_users_row(
    watched: tuple[Market, CaptureProxy],
) -> None:
    market, proxy = watched
    seeker = await market.user()
    sent = await _sent(proxy, market, "/api/notifications", seeker.headers)
    users = [s for s in sent if "FROM users" in s]
    assert len(users) == 1, sent
    caller = users[0]
    assert caller.startswith("SELECT users.id, users.role FROM users WHERE"), caller
    for condition in ("token_version", "is_active", "deleted_at IS NULL", "suspended_at IS NULL"):
        assert condition in caller, caller
    assert not any("password_hash" in s for s in sent), sent


async def test_the_profile_is_read_as_its_columns_under_the_same_check(
    watched: tuple[Market, CaptureProxy],
) -> None:
    market, proxy = watched
    seeker = await market.user(full_name="Ada Rolle")
    response = await market.client.get("/api/users/me", headers=seeker.headers)
    assert response.json()["full_name"] == "Ada Rolle"
    assert response.json()["email"] == seeker.email
    sent = await _sent(proxy, market, "/api/users/me", seeker.headers)
    users = [s for s in sent if "FROM users" in s]
    assert len(users) == 1, sent
    for condition in ("token_version", "is_active", "deleted_at IS NULL", "suspended_at IS NULL"):
        assert condition in users[0], users[0]
    assert "password_hash" not in users[0], users[0]


async def test_the_profile_read_as_a_row_is_the_one_the_account_routes_render(
    market: Market,
) -> None:
    """GET /api/users/me renders a row; PATCH renders the ORM `User` it changed: one reply."""
    seeker = await market.user(full_name="Ada Rolle")
    body = {
        "headline": "Front desk",
        "skills": ["Opera PMS"],
        "min_pay": {"amount": 30000, "period": "year"},
    }
    patched = await market.client.patch("/api/users/me", headers=seeker.headers, json=body)
    assert patched.status_code == 200, patched.text
    read = await market.client.get("/api/users/me", headers=seeker.headers)
    assert read.status_code == 200, read.text
    assert read.content == patched.content


@pytest.mark.parametrize(
    "change",
    [
        "suspended_at = now()",
        "deleted_at = now()",
        "is_active = false",
        "token_version = token_version + 1",
    ],
)
@pytest.mark.parametrize("path", ["/api/notifications", "/api/users/me"])
async def test_a_token_of_an_account_no_longer_live_is_refused(
    market: Market, change: str, path: str
) -> None:
    seeker = await market.user()
    assert (await market.client.get(path, headers=seeker.headers)).status_code == 200
    await market.sql(f"UPDATE users SET {change} WHERE id = :id", id=seeker.id)
    assert_error(await market.client.get(path, headers=seeker.headers), 401, "UNAUTHORIZED")
