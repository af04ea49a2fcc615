"""Rate limits: failed sign-ins per account (refusing only addresses the account does not know,
and slowing every attempt once it keeps failing) and per address, sign-ups and refreshes per
address, shared by every instance through Redis, and still enforced in process when Redis is
down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.config import Settings
from tests.support.accounts import PASSWORD, login, register
from tests.support.helpers import assert_error, make_client

StartApp = Callable[[Settings], Any]


def _assert_limited(response: httpx.Response, window_seconds: int) -> None:
    assert_error(response, 429, "RATE_LIMITED")
    assert 1 <= int(response.headers["retry-after"]) <= window_seconds


STRANGER = "192.0.2.66"


async def _fail(client: httpx.AsyncClient, n: int, email: str = "ann@example.com") -> None:
    for _ in range(n):
        response = await login(client, email, password="wrong password")
        assert_error(response, 401, "INVALID_CREDENTIALS")


async def test_a_stranger_cannot_lock_the_owner_out(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The probe's lever: five wrong passwords from anywhere refused the owner for 15 minutes.
    The owner signed up from `client`'s address, so it is known to the account."""
    await register(client)
    await register(client, "other@example.com")
    async with make_client(app, client_ip=STRANGER) as stranger:
        await _fail(stranger, 5)
        # Strangers are refused from now on, even with the right password, from any new
        # address ...
        _assert_limited(await login(stranger), 15 * 60)
        async with make_client(app, client_ip="198.51.100.7") as another:
            _assert_limited(await login(another), 15 * 60)
    # ... while the owner, from an address the account knows, signs in; other accounts too.
    assert (await login(client)).status_code == 200
    assert (await login(client, "other@example.com")).status_code == 200


async def test_wrong_passwords_from_a_known_address_slow_down_but_never_lock(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    await _fail(client, 8)
    assert (await login(client)).status_code == 200


async def test_attempts_on_an_account_that_keeps_failing_wait_longer_up_to_a_bound(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    await register(client)
    delays: list[float] = []
    handler = logging.Handler()
    handler.emit = lambda record: delays.append(record.delay_seconds)  # type: ignore[method-assign]
    handler.addFilter(lambda record: record.getMessage().startswith("sign-in slowed down"))
    logger = logging.getLogger("app.auth")
    logger.addHandler(handler)
    try:
        async with make_client(app, client_ip=STRANGER) as stranger:
            await _fail(stranger, 5)
            for _ in range(4):
                _assert_limited(await login(stranger), 15 * 60)
        assert (await login(client)).status_code == 200
    finally:
        logger.removeHandler(handler)
    # Three failures go by; then each attempt waits twice as long as the one before, up to
    # sixteen times the first wait, the owner's included.
    base = settings.login_delay_seconds
    assert delays == [base * f for f in (1, 2, 4, 8, 16, 16, 16)]


async def test_unknown_emails_are_limited_like_real_ones(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert_error(await login(client, "ghost@example.com"), 401, "INVALID_CREDENTIALS")
    _assert_limited(await login(client, "ghost@example.com"), 15 * 60)


async def test_failed_logins_per_address(client: httpx.AsyncClient, app: FastAPI) -> None:
    await register(client)
    for n in range(20):
        assert_error(await login(client, f"guess{n}@example.com"), 401)
    # This address is blocked, even for a right password; another address is not.
    _assert_limited(await login(client), 15 * 60)
    async with make_client(app, client_ip="198.51.100.7") as elsewhere:
        assert (await login(elsewhere)).status_code == 200


async def test_successful_logins_are_not_counted(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(25):
        assert (await login(client)).status_code == 200
    for _ in range(4):
        assert_error(await login(client, password="wrong password"), 401)
    assert (await login(client)).status_code == 200


async def test_password_confirmations_share_the_account_limit(client: httpx.AsyncClient) -> None:
    account = await register(client)
    headers = {"Authorization": f"Bearer {account['access_token']}"}
    body = {"current_password": "wrong password", "new_password": "another secret"}
    for _ in range(5):
        response = await client.post("/api/auth/change-password", json=body, headers=headers)
        assert_error(response, 403, "WRONG_PASSWORD")
    response = await client.post("/api/auth/change-password", json=body, headers=headers)
    _assert_limited(response, 15 * 60)


async def test_registrations_per_address(client: httpx.AsyncClient, app: FastAPI) -> None:
    for n in range(10):
        await register(client, f"user{n}@example.com")
    response = await client.post(
        "/api/auth/register",
        json={"email": "user10@example.com", "password": PASSWORD, "full_name": "Late"},
    )
    _assert_limited(response, 3600)
    async with make_client(app, client_ip="198.51.100.7") as elsewhere:
        await register(elsewhere, "user10@example.com")


async def test_refreshes_per_address(client: httpx.AsyncClient) -> None:
    account = await register(client)
    token = account["refresh_token"]
    for _ in range(30):
        response = await client.post("/api/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 200
        token = response.json()["refresh_token"]
    _assert_limited(await client.post("/api/auth/refresh", json={"refresh_token": token}), 60)


async def test_limits_hold_across_two_instances_sharing_redis(
    start_app: StartApp, settings: Settings, redis: Any
) -> None:
    first, second = await start_app(settings), await start_app(settings)
    async with (
        make_client(first) as a,
        make_client(second) as b,
        make_client(first, client_ip=STRANGER) as stranger_a,
        make_client(second, client_ip=STRANGER) as stranger_b,
    ):
        await register(a)
        for client in (stranger_a, stranger_b, stranger_a, stranger_b, stranger_a):
            assert_error(await login(client, password="wrong password"), 401)
        _assert_limited(await login(stranger_b), 15 * 60)
        _assert_limited(await login(stranger_a), 15 * 60)
        # The owner's address, learnt on the first instance, is known to the second.
        assert (await login(b)).status_code == 200
        assert await redis.keys("hmb:ratelimit*")


async def test_logins_work_and_limits_hold_in_process_when_redis_is_down(
    start_app: StartApp, make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(redis_url="redis://127.0.0.1:1/0"))
    async with make_client(app) as client, make_client(app, client_ip=STRANGER) as stranger:
        await register(client)
        assert (await login(client)).status_code == 200
        await _fail(stranger, 5)
        _assert_limited(await login(stranger), 15 * 60)
        assert (await login(client)).status_code == 200
        assert (await client.get("/health/detailed")).json()["redis"]["state"] != "ok"


async def test_limits_hold_in_process_without_redis(
    start_app: StartApp, make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(redis_url=None))
    async with make_client(app) as client:
        for n in range(10):
            await register(client, f"user{n}@example.com")
        response = await client.post(
            "/api/auth/register",
            json={"email": "late@example.com", "password": PASSWORD, "full_name": "Late"},
        )
        _assert_limited(response, 3600)


async def test_forwarded_for_counts_only_from_a_trusted_proxy(app: FastAPI) -> None:
    # An untrusted peer cannot escape its limit by inventing X-Forwarded-For addresses ...
    async with make_client(app, client_ip="203.0.113.99") as direct:
        for n in range(20):
            spoofed = {"X-Forwarded-For": f"192.0.2.{n}"}
            response = await direct.post(
                "/api/auth/login",
                json={"email": f"guess{n}@example.com", "password": "wrong password"},
                headers=spoofed,
            )
            assert_error(response, 401)
        _assert_limited(
            await direct.post(
                "/api/auth/login",
                json={"email": "x@example.com", "password": "wrong password"},
                headers={"X-Forwarded-For": "192.0.2.200"},
            ),
            15 * 60,
        )
    # ... while behind a trusted proxy (127.0.0.1 by default) each client has its own budget.
    async with make_client(app, client_ip="127.0.0.1") as proxy:
        response = await proxy.post(
            "/api/auth/login",
            json={"email": "x@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": "192.0.2.201"},
        )
        assert_error(response, 401, "INVALID_CREDENTIALS")
