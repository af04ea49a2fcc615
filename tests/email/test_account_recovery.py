"""Recovering an account ends every emailed link asked for before it: a pending change of
address and a password reset link die on password reset, password change, logout-all,
suspension and a confirmed change of address. Through real parts: the API in process, the
worker as its own process, a real SMTP server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.support.factories import PASSWORD, Actor, Market
from tests.support.helpers import assert_error, make_client
from tests.support.mail import Mail, link_token, wait_for

VERIFY = "Confirm your email address"
RESET = "Reset your HireMeBahamas password"
ATTACKER = "mallory@evil.example.com"
OWNER_PASSWORD = "the owner's new passphrase"


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _attacker_asks_for_the_address(app: FastAPI, owner: Actor, mail: Mail) -> str:
    """Someone who knows the password, from elsewhere, asks to move the account to their
    address; the token of the link they receive."""
    async with make_client(app, client_ip="192.0.2.66") as attacker:
        headers = await _sign_in(attacker, owner.email, PASSWORD)
        body = {"password": PASSWORD, "new_email": ATTACKER}
        response = await attacker.post("/api/auth/change-email", json=body, headers=headers)
        assert response.status_code == 202, response.text
    [link] = await wait_for(lambda: mail.received(VERIFY, to=ATTACKER))
    return link_token(link, "verify-email")


async def _reset_links(client: httpx.AsyncClient, mail: Mail, email: str, n: int) -> list[str]:
    """Ask for a reset `n` times more; the tokens of every reset link mailed to `email`."""
    already = len(mail.received(RESET, to=email))
    for _ in range(n):
        response = await client.post("/api/auth/password-reset", json={"email": email})
        assert response.status_code == 202, response.text
    await wait_for(lambda: len(mail.received(RESET, to=email)) >= already + n)
    return [link_token(m, "reset-password") for m in mail.received(RESET, to=email)]


async def _confirm(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/verify-email/confirm", json={"token": token})


async def _reset(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    body = {"token": token, "new_password": password}
    return await client.post("/api/auth/password-reset/confirm", json=body)


async def test_a_pending_email_change_dies_when_the_owner_recovers_the_account(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    """The probe's takeover: the attacker's change of address, asked for with the stolen
    password, outlived the owner's reset, password change and logout-all."""
    owner = await market.user()
    mail.worker()
    stolen = await _attacker_asks_for_the_address(app, owner, mail)

    # The owner recovers: a reset, then a password change, then signs out everywhere.
    [reset] = await _reset_links(client, mail, owner.email, 1)
    assert (await _reset(client, reset, "an interim passphrase")).status_code == 204
    headers = await _sign_in(client, owner.email, "an interim passphrase")
    body = {"current_password": "an interim passphrase", "new_password": OWNER_PASSWORD}
    response = await client.post("/api/auth/change-password", json=body, headers=headers)
    assert response.status_code == 204, response.text
    headers = await _sign_in(client, owner.email, OWNER_PASSWORD)
    assert (await client.post("/api/auth/logout-all", headers=headers)).status_code == 204

    # The attacker's link is dead: the address stays the owner's, the attacker's address
    # signs in to nothing, and the owner still signs in.
    assert_error(await _confirm(client, stolen), 400, "INVALID_TOKEN")
    headers = await _sign_in(client, owner.email, OWNER_PASSWORD)
    me = (await client.get("/api/auth/me", headers=headers)).json()
    assert me["email"] == owner.email
    response = await client.post("/api/auth/login", json={"email": ATTACKER, "password": PASSWORD})
    assert_error(response, 401, "INVALID_CREDENTIALS")


Trigger = Callable[[httpx.AsyncClient, Market, Mail, Actor], Awaitable[None]]


async def _password_reset(
    client: httpx.AsyncClient, market: Market, mail: Mail, owner: Actor
) -> None:
    fresh = (await _reset_links(client, mail, owner.email, 1))[-1]
    assert (await _reset(client, fresh, OWNER_PASSWORD)).status_code == 204


async def _password_change(
    client: httpx.AsyncClient, market: Market, mail: Mail, owner: Actor
) -> None:
    body = {"current_password": PASSWORD, "new_password": OWNER_PASSWORD}
    response = await client.post("/api/auth/change-password", json=body, headers=owner.headers)
    assert response.status_code == 204, response.text


async def _logout_all(client: httpx.AsyncClient, market: Market, mail: Mail, owner: Actor) -> None:
    assert (await client.post("/api/auth/logout-all", headers=owner.headers)).status_code == 204


async def _suspension(client: httpx.AsyncClient, market: Market, mail: Mail, owner: Actor) -> None:
    admin = await market.admin()
    url = f"/api/admin/users/{owner.id}/suspend"
    response = await client.post(url, json={"reason": "account in dispute"}, headers=admin.headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "trigger",
    [_password_reset, _password_change, _logout_all, _suspension],
    ids=["password reset", "password change", "logout-all", "suspension"],
)
async def test_every_way_of_securing_the_account_kills_pending_links(
    trigger: Trigger, app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    owner = await market.user()
    mail.worker()
    stolen = await _attacker_asks_for_the_address(app, owner, mail)
    [old_reset] = await _reset_links(client, mail, owner.email, 1)

    await trigger(client, market, mail, owner)

    assert_error(await _confirm(client, stolen), 400, "INVALID_TOKEN")
    assert_error(await _reset(client, old_reset, "yet another passphrase"), 400, "INVALID_TOKEN")


async def test_an_old_reset_link_dies_when_the_new_address_is_confirmed(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    """Finding 8: a reset link mailed to the old address worked after the change of address
    (and so did any other pending change)."""
    owner = await market.user()
    new_address = "owner.moved@example.com"
    mail.worker()
    stolen = await _attacker_asks_for_the_address(app, owner, mail)
    [old_reset] = await _reset_links(client, mail, owner.email, 1)

    body = {"password": PASSWORD, "new_email": new_address}
    response = await client.post("/api/auth/change-email", json=body, headers=owner.headers)
    assert response.status_code == 202, response.text
    [link] = await wait_for(lambda: mail.received(VERIFY, to=new_address))
    assert (await _confirm(client, link_token(link, "verify-email"))).status_code == 204

    assert_error(await _reset(client, old_reset, "yet another passphrase"), 400, "INVALID_TOKEN")
    assert_error(await _confirm(client, stolen), 400, "INVALID_TOKEN")
    await _sign_in(client, new_address, PASSWORD)


async def test_a_reset_lets_the_owner_in_from_an_address_the_account_does_not_know(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    owner = await market.user()  # signed up from an address of its own, not `client`'s
    mail.worker()
    async with make_client(app, client_ip="192.0.2.66") as stranger:
        for _ in range(5):
            wrong = {"email": owner.email, "password": "a guess"}
            response = await stranger.post("/api/auth/login", json=wrong)
            assert_error(response, 401, "INVALID_CREDENTIALS")
    right = {"email": owner.email, "password": PASSWORD}
    assert_error(await client.post("/api/auth/login", json=right), 429, "RATE_LIMITED")

    [reset] = await _reset_links(client, mail, owner.email, 1)
    assert (await _reset(client, reset, OWNER_PASSWORD)).status_code == 204
    await _sign_in(client, owner.email, OWNER_PASSWORD)
