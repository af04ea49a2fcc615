"""Deleting an account: password required, works at once, leaves no personal data."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.helpers import assert_error


@pytest.fixture
async def ann(client: httpx.AsyncClient) -> dict[str, Any]:
    account = await register(client, "ann@example.com")
    profile = {"headline": "Chef", "phone": "+1 242 555 0100", "skills": ["Cooking"]}
    await client.patch("/api/users/me", json=profile, headers=bearer(account["access_token"]))
    return account


async def _delete(client: httpx.AsyncClient, token: str, body: object) -> httpx.Response:
    return await client.request("DELETE", "/api/users/me", json=body, headers=bearer(token))


async def test_deletion_needs_the_password(
    client: httpx.AsyncClient, ann: dict[str, Any], db: asyncpg.Connection
) -> None:
    token = ann["access_token"]
    assert_error(
        await _delete(client, token, {"password": "not my password"}), 403, "WRONG_PASSWORD"
    )
    assert_error(await _delete(client, token, {}), 422)
    assert_error(await _delete(client, token, {"password": PASSWORD, "hard": True}), 422)
    assert_error(await client.request("DELETE", "/api/users/me", json={"password": PASSWORD}), 401)
    assert await db.fetchval("SELECT deleted_at FROM users") is None
    assert (await client.get("/api/users/me", headers=bearer(token))).status_code == 200


async def test_deleted_account_is_anonymised_and_its_email_is_free_again(
    client: httpx.AsyncClient, ann: dict[str, Any], db: asyncpg.Connection
) -> None:
    user_id = ann["user"]["id"]
    response = await _delete(client, ann["access_token"], {"password": PASSWORD})
    assert response.status_code == 204
    assert 'refresh_token=""' in response.headers["set-cookie"]

    row = await db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
    assert row is not None  # the row stays for other tables' references
    assert row["full_name"] == "Deleted user"
    assert row["email"].endswith("@deleted.invalid")
    assert "ann" not in row["email"]
    assert (row["headline"], row["phone"], row["skills"]) == (None, None, [])
    assert row["is_active"] is False
    assert row["deleted_at"] is not None

    assert_error(await login(client), 401, "INVALID_CREDENTIALS")
    again = await register(client, "ann@example.com", full_name="Ann Again")
    assert again["user"]["id"] != user_id
    assert_error(
        await client.get(f"/api/users/{user_id}", headers=bearer(again["access_token"])), 404
    )
    # Two deletions never collide on the anonymised address.
    assert (await _delete(client, again["access_token"], {"password": PASSWORD})).status_code == 204
    assert await db.fetchval("SELECT count(DISTINCT email) FROM users") == 2
