"""The callers an instance checked, kept in process (app/identity/known_callers.py): a token
whose account stops being live is refused on every instance once the write commits, whoever
wrote it, and the copy is not trusted while the LISTEN connection that carries the news is
down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.events.hub import EVENT_HUB
from tests.support.factories import Market
from tests.support.helpers import assert_error, make_client
from tests.support.tcp_fault import TcpFault

NOTIFICATIONS = "/api/notifications"


async def _known(app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """The caller checked and kept: the first signed-in read starts the LISTEN connection,
    the first once it holds checks the caller and keeps it, the next is served with it known."""
    assert (await client.get(NOTIFICATIONS, headers=headers)).status_code == 200
    await asyncio.wait_for(app.state.services.of(EVENT_HUB).listening.wait(), 10)
    for _ in range(2):
        assert (await client.get(NOTIFICATIONS, headers=headers)).status_code == 200


async def _refused_soon(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """401 once the write's NOTIFY has reached this instance (milliseconds; 5 s at most)."""
    deadline = time.monotonic() + 5
    while (response := await client.get(NOTIFICATIONS, headers=headers)).status_code == 200:
        assert time.monotonic() < deadline, "the token is still taken 5 s after the write"
        await asyncio.sleep(0.02)
    assert_error(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE users SET suspended_at = now() WHERE id = :id",
        "UPDATE users SET deleted_at = now() WHERE id = :id",
        "UPDATE users SET is_active = false WHERE id = :id",
        "UPDATE users SET token_version = token_version + 1 WHERE id = :id",
        "DELETE FROM users WHERE id = :id",
    ],
)
async def test_an_operators_change_in_sql_ends_a_known_callers_access(
    market: Market, change: str
) -> None:
    seeker = await market.user()
    await _known(market.app, market.client, seeker.headers)
    await market.sql(change, id=seeker.id)
    await _refused_soon(market.client, seeker.headers)


async def test_logout_all_ends_the_token_on_this_instance_at_once_and_on_another_soon(
    market: Market, start_app: Callable[[Settings], Any], settings: Settings
) -> None:
    seeker = await market.user()
    other = await start_app(settings)
    async with make_client(other) as elsewhere:
        await _known(market.app, market.client, seeker.headers)
        await _known(other, elsewhere, seeker.headers)

        ended = await market.client.post("/api/auth/logout-all", headers=seeker.headers)
        assert ended.status_code == 204, ended.text
        # The writer's instance forgot at the commit, before it answered.
        assert_error(await market.client.get(NOTIFICATIONS, headers=seeker.headers), 401)
        await _refused_soon(elsewhere, seeker.headers)


async def test_a_copy_is_not_trusted_while_the_listen_connection_is_down(
    market: Market,
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    database_url: str,
) -> None:
    """With the LISTEN connection cut, a suspension's NOTIFY reaches nobody here: the next
    request still refuses the token, as the check is read from the database again."""
    seeker = await market.user()
    url = make_url(database_url)
    with TcpFault((url.host or "127.0.0.1", url.port or 5432)) as listen_path:
        listen_url = url.set(host="127.0.0.1", port=listen_path.port)
        app = await start_app(
            make_settings(migration_database_url=listen_url.render_as_string(False))
        )
        hub = app.state.services.of(EVENT_HUB)
        async with make_client(app) as client:
            await _known(app, client, seeker.headers)

            listen_path.refuse()
            for _ in range(100):
                if not hub.listening.is_set():
                    break
                await asyncio.sleep(0.05)
            assert not hub.listening.is_set()
            await market.sql("UPDATE users SET suspended_at = now() WHERE id = :id", id=seeker.id)
            assert_error(await client.get(NOTIFICATIONS, headers=seeker.headers), 401)
