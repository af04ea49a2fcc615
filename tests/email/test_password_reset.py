"""Password reset end to end through real parts: the API in process, the worker as its own
process, a real SMTP server receiving what the worker sends."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.email.conftest import SmtpServer, Worker, link_token, wait_for
from tests.factories import PASSWORD, Market

NEW_PASSWORD = "a brand new passphrase"


def _with_subject(smtp: SmtpServer, subject: str) -> list:
    return [m for m in smtp.messages() if m["Subject"] == subject]


async def test_reset_link_from_the_received_email_sets_a_new_password(
    market: Market,
    client: httpx.AsyncClient,
    smtp: SmtpServer,
    worker_env: dict[str, str],
    start_worker: Callable[..., Worker],
) -> None:
    seeker = await market.user()
    login = await client.post("/api/auth/login", json={"email": seeker.email, "password": PASSWORD})
    old_refresh = login.json()["refresh_token"]
    start_worker(worker_env)

    response = await client.post("/api/auth/password-reset", json={"email": seeker.email.upper()})
    assert response.status_code == 202, response.text

    [message] = wait_for(lambda: _with_subject(smtp, "Reset your HireMeBahamas password"))
    assert message["To"] == seeker.email
    assert message["Message-ID"]
    assert message.get_body(preferencelist=("html",)) is not None
    assert "List-Unsubscribe" not in message  # a security email: no unsubscribing from it
    token = link_token(message, "reset-password")
    assert body_link_base(message) == "https://hiremebahamas.com"

    confirm = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirm.status_code == 204, confirm.text

    signed_in = await client.post(
        "/api/auth/login", json={"email": seeker.email, "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200
    old = await client.post("/api/auth/login", json={"email": seeker.email, "password": PASSWORD})
    assert old.status_code == 401
    # Every session ended: the refresh token and access token from before are dead.
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": old_refresh})
    ).status_code == 401
    assert (await client.get("/api/auth/me", headers=seeker.headers)).status_code == 401
    # Single use.
    again = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": "yet another one"}
    )
    assert again.status_code == 400
    assert again.json()["error_code"] == "INVALID_TOKEN"

    [changed] = wait_for(lambda: _with_subject(smtp, "Your HireMeBahamas password was changed"))
    assert changed["To"] == seeker.email


def body_link_base(message) -> str:
    from tests.email.conftest import body_text

    text = body_text(message)
    return text[text.index("https://") : text.index("/reset-password")]
