"""Password reset end to end through real parts: the API in process, the worker as its own
process, a real SMTP server receiving what the worker sends."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import httpx
from fastapi import FastAPI

from app.auth.recovery import PASSWORD_RESET_TASK
from app.queue.enqueue import enqueue
from tests.support.factories import PASSWORD, Market
from tests.support.mail import Mail, body_text, link_token, wait_for

NEW_PASSWORD = "a brand new passphrase"


async def test_reset_link_from_the_received_email_sets_a_new_password(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    seeker = await market.user()
    login = await client.post("/api/auth/login", json={"email": seeker.email, "password": PASSWORD})
    old_refresh = login.json()["refresh_token"]
    mail.worker()

    response = await client.post("/api/auth/password-reset", json={"email": seeker.email.upper()})
    assert response.status_code == 202, response.text

    [message] = await wait_for(lambda: mail.received("Reset your HireMeBahamas password"))
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

    [changed] = await wait_for(lambda: mail.received("Your HireMeBahamas password was changed"))
    assert changed["To"] == seeker.email


def body_link_base(message: EmailMessage) -> str:
    text = body_text(message)
    return text[text.index("https://") : text.index("/reset-password")]


async def test_known_and_unknown_addresses_get_the_same_answer(
    market: Market, client: httpx.AsyncClient
) -> None:
    seeker = await market.user()
    known = await client.post("/api/auth/password-reset", json={"email": seeker.email})
    unknown = await client.post("/api/auth/password-reset", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content

    def comparable(response: httpx.Response) -> dict[str, str]:
        return {k: v for k, v in response.headers.items() if k not in {"x-request-id", "date"}}

    assert comparable(known) == comparable(unknown)
    # Both did the same database work: one queued job each, looked up only by the worker.
    jobs = await market.sql(
        "SELECT args->>'email' FROM procrastinate_jobs WHERE task_name = :t ORDER BY id",
        t=PASSWORD_RESET_TASK,
    )
    assert [row[0] for row in jobs] == [seeker.email, "nobody@example.com"]


async def test_reset_requests_are_limited_per_account(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        ok = await client.post("/api/auth/password-reset", json={"email": "someone@example.com"})
        assert ok.status_code == 202
    limited = await client.post("/api/auth/password-reset", json={"email": "someone@example.com"})
    assert limited.status_code == 429
    assert limited.json()["error_code"] == "RATE_LIMITED"
    assert "retry-after" in limited.headers


async def test_an_expired_or_made_up_token_is_refused(
    market: Market, client: httpx.AsyncClient
) -> None:
    made_up = await client.post(
        "/api/auth/password-reset/confirm",
        json={"token": "x" * 43, "new_password": NEW_PASSWORD},
    )
    assert made_up.status_code == 400
    assert made_up.json()["error_code"] == "INVALID_TOKEN"
    malformed = await client.post(
        "/api/auth/password-reset/confirm", json={"token": "no", "new_password": NEW_PASSWORD}
    )
    assert malformed.status_code == 422


async def test_a_rolled_back_transaction_enqueues_nothing(
    app: FastAPI,
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    seeker = await market.user()

    class Abandoned(Exception):
        pass

    try:
        async with app.state.services.database.session() as session:
            await enqueue(session, PASSWORD_RESET_TASK, email=seeker.email)
            raise Abandoned
    except Abandoned:
        pass
    assert (
        await market.sql(
            "SELECT id FROM procrastinate_jobs WHERE task_name = :t", t=PASSWORD_RESET_TASK
        )
        == []
    )

    mail.worker()
    response = await client.post("/api/auth/password-reset", json={"email": seeker.email})
    assert response.status_code == 202
    # The committed request's email arrives, and it is the only reset email: the abandoned job
    # would have been queued (and mailed) before it.
    await wait_for(lambda: mail.received("Reset your HireMeBahamas password"))
    await wait_for(lambda: mail.received("Confirm your email address"))
    assert len(mail.received("Reset your HireMeBahamas password")) == 1


async def test_without_smtp_the_email_is_a_file_with_a_working_link(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
    tmp_path: Path,
) -> None:
    """The newcomer's path: no SMTP server, the worker writes .eml files and logs where."""
    seeker = await market.user()
    mail_dir = tmp_path / "mail"
    worker = mail.worker(SMTP_HOST=None, ENVIRONMENT="development", MAIL_DIR=str(mail_dir))
    assert (
        await client.post("/api/auth/password-reset", json={"email": seeker.email})
    ).status_code == 202

    def reset_files() -> list[Path]:
        return [p for p in mail_dir.glob("*.eml") if "password-reset" in p.name]

    [path] = await wait_for(reset_files)
    await wait_for(lambda: str(path) in worker.log())  # logged just after the file is written
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == seeker.email
    token = link_token(message, "reset-password")  # type: ignore[arg-type]
    confirm = await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirm.status_code == 204
    login = await client.post(
        "/api/auth/login", json={"email": seeker.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200


async def test_an_address_with_accented_letters_gets_its_email(
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    address = "\u00e9lodie.\u00e7a@exemple.bs"
    body = {"email": address, "password": PASSWORD, "full_name": "\u00c9lodie Rolle"}
    assert (await client.post("/api/auth/register", json=body)).status_code == 201
    assert (
        await client.post("/api/auth/password-reset", json={"email": address})
    ).status_code == 202
    mail.worker()
    [message] = await wait_for(lambda: mail.received("Reset your HireMeBahamas password"))
    assert message["To"] == address
    assert "\u00c9lodie Rolle" in body_text(message)
