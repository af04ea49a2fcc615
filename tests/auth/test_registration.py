"""Sign-up and sign-in refuse what they must, with a 4xx a person can read, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from app.core.config import Settings
from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.helpers import assert_error, make_client


def _body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "email": "new@example.com",
        "password": PASSWORD,
        "full_name": "New Person",
        "role": "job_seeker",
    }
    body.update(overrides)
    return body


async def test_nobody_registers_as_admin(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    assert_error(await client.post("/api/auth/register", json=_body(role="admin")), 422)
    for smuggled in ({"is_admin": True}, {"id": 1}, {"token_version": 9}, {"is_active": True}):
        response = await client.post("/api/auth/register", json=_body(**smuggled))
        body = assert_error(response, 422, "VALIDATION_ERROR")
        assert body["details"][0]["loc"] == ["body", next(iter(smuggled))]
    assert await db.fetchval("SELECT count(*) FROM users") == 0


async def test_password_of_73_bytes_is_a_readable_422(client: httpx.AsyncClient) -> None:
    password = "\u00e9" * 37  # 37 characters, 74 bytes in UTF-8
    body = assert_error(await client.post("/api/auth/register", json=_body(password=password)), 422)
    assert "at most 72 bytes" in body["message"]
    assert body["message"].startswith("password: ")
    # 72 bytes is fine, and signing in with an over-long password is a 422 too, not a 500.
    await register(client, password="\u00e9" * 36)
    assert_error(await login(client, "new@example.com", password), 422)


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "at least 8 characters"),
        ("new@example.com", "must not be your email"),
        ("NEW@Example.COM", "must not be your email"),
        ("abc\x00defghij", "NUL"),
        ("x" * 2000, "at most"),
    ],
)
async def test_password_policy(client: httpx.AsyncClient, password: str, fragment: str) -> None:
    body = assert_error(await client.post("/api/auth/register", json=_body(password=password)), 422)
    assert fragment in body["message"], body


async def test_emails_are_one_account_whatever_their_case(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    created = await register(client, "  \u00c9LODIE.\u00c7A@Exemple.BS ")
    assert created["user"]["email"] == "\u00e9lodie.\u00e7a@exemple.bs"
    for variant in (
        "\u00e9lodie.\u00e7a@exemple.bs",
        "\u00c9lodie.\u00c7a@EXEMPLE.bs",
        "e\u0301lodie.c\u0327a@exemple.bs",  # the same letters, decomposed (NFD)
    ):
        assert_error(
            await client.post("/api/auth/register", json=_body(email=variant)), 409, "EMAIL_TAKEN"
        )
        assert (await login(client, variant)).status_code == 200, variant
    assert await db.fetchval("SELECT count(*) FROM users") == 1


async def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    wrong = assert_error(await login(client, "ann@example.com", "not the password"), 401)
    unknown = assert_error(await login(client, "nobody@example.com", "not the password"), 401)
    assert wrong["error_code"] == unknown["error_code"] == "INVALID_CREDENTIALS"
    assert wrong["message"] == unknown["message"]


@pytest.mark.parametrize(
    "email",
    [
        "' OR 1=1 --",
        "x@example.com; DROP TABLE users",
        "a" * 300 + "@example.com",
        "",
        "not-an-email",
        "user@localhost",
    ],
)
async def test_bad_emails_are_422(client: httpx.AsyncClient, email: str) -> None:
    assert_error(await client.post("/api/auth/register", json=_body(email=email)), 422)
    assert_error(await login(client, email), 422)


async def test_sql_looking_input_is_only_data(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    # A valid address and a legal name that look like SQL are stored as typed, nothing more.
    name = "Robert'); DROP TABLE users;--"
    created = await register(client, "admin'--@example.com", full_name=name)
    assert created["user"]["full_name"] == name
    assert (await login(client, "admin'--@example.com")).status_code == 200
    assert_error(await login(client, "admin'--@example.com", "' OR '1'='1"), 401)
    assert await db.fetchval("SELECT full_name FROM users") == name
    assert await db.fetchval("SELECT count(*) FROM users") == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"full_name": "x" * 121},
        {"full_name": "   "},
        {"full_name": "Ann\x00Rolle"},
        {"full_name": None},
        {"role": "superuser"},
        {"email": ["a@example.com"]},
        {"password": 12345678},
    ],
)
async def test_bad_fields_are_422(client: httpx.AsyncClient, overrides: dict[str, object]) -> None:
    assert_error(await client.post("/api/auth/register", json=_body(**overrides)), 422)


async def test_oversized_and_malformed_bodies(client: httpx.AsyncClient) -> None:
    huge = _body(full_name="x" * 2_000_000)
    assert_error(await client.post("/api/auth/register", json=huge), 413, "PAYLOAD_TOO_LARGE")
    response = await client.post(
        "/api/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422)


async def test_registering_twice_is_a_conflict(client: httpx.AsyncClient) -> None:
    await register(client)
    body = assert_error(
        await client.post("/api/auth/register", json=_body(email="ann@example.com")), 409
    )
    assert body["error_code"] == "EMAIL_TAKEN"


async def test_oauth2_form_sign_in_for_the_docs(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/auth/token", data={"username": "ANN@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert response.json()["token_type"] == "bearer"
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
    wrong = await client.post(
        "/api/auth/token", data={"username": "ann@example.com", "password": "wrong password"}
    )
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    assert_error(
        await client.post("/api/auth/token", data={"username": "nope", "password": "x"}), 422
    )


async def test_bcrypt_cost_change_rehashes_on_login(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    db: asyncpg.Connection,
) -> None:
    async with make_client(await start_app(make_settings(bcrypt_rounds=4))) as old:
        await register(old)
    assert (await db.fetchval("SELECT password_hash FROM users")).startswith("$2b$04$")
    async with make_client(await start_app(make_settings(bcrypt_rounds=5))) as new:
        assert (await login(new)).status_code == 200
    assert (await db.fetchval("SELECT password_hash FROM users")).startswith("$2b$05$")
