"""The refresh cookie: set on sign-in, accepted by /refresh, cleared on sign-out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from app.core.config import Settings
from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.helpers import assert_error, make_client


def _cookie_attributes(response: httpx.Response) -> dict[str, str]:
    header = response.headers["set-cookie"]
    name_value, *attributes = (part.strip() for part in header.split(";"))
    parsed = {"": name_value}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        parsed[key.lower()] = value
    return parsed


async def test_login_sets_an_httponly_cookie_scoped_to_auth(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await login(client)
    cookie = _cookie_attributes(response)
    assert cookie[""] == f"refresh_token={response.json()['refresh_token']}"
    assert "httponly" in cookie
    assert cookie["path"] == "/api/auth"
    assert cookie["samesite"].lower() == "lax"
    assert "secure" not in cookie  # plain HTTP in development
    assert int(cookie["max-age"]) == 30 * 86400


async def test_cookie_is_secure_in_production(
    start_app: Callable[[Settings], Any], make_settings: Callable[..., Settings]
) -> None:
    app = await start_app(make_settings(environment="production", smtp_host="smtp.example.com"))
    async with make_client(app) as client:
        response = await client.post(
            "/api/auth/register",
            json={"email": "ann@example.com", "password": PASSWORD, "full_name": "Ann"},
        )
        assert response.status_code == 201
        assert "secure" in _cookie_attributes(response)


async def test_refresh_and_logout_through_the_cookie(client: httpx.AsyncClient) -> None:
    await register(client)
    await login(client)  # the client keeps the cookie, as a browser does
    refreshed = await client.post("/api/auth/refresh")
    assert refreshed.status_code == 200
    assert client.cookies["refresh_token"] == refreshed.json()["refresh_token"]
    me = await client.get("/api/auth/me", headers=bearer(refreshed.json()["access_token"]))
    assert me.status_code == 200

    token = client.cookies["refresh_token"]
    response = await client.post("/api/auth/logout")
    assert response.status_code == 204
    assert 'refresh_token=""' in response.headers["set-cookie"]
    assert "refresh_token" not in client.cookies
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": token}),
        401,
        "INVALID_REFRESH_TOKEN",
    )


async def test_body_token_wins_over_the_cookie(client: httpx.AsyncClient) -> None:
    first = await register(client)
    await register(client, "bob@example.com")  # the cookie now holds Bob's token
    response = await client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert response.json()["user"]["email"] == "ann@example.com"


async def test_logout_without_a_token_is_harmless(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/auth/logout")).status_code == 204
    unknown = await client.post("/api/auth/logout", json={"refresh_token": "A" * 43})
    assert unknown.status_code == 204
