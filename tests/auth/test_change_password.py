"""Password change: the new password meets the policy; expired refresh tokens are cleared."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.helpers import assert_error


@pytest.mark.parametrize(
    ("new_password", "fragment"),
    [
        ("ANN@example.com", "must not be your email"),
        (PASSWORD, "must differ"),
        ("\u00e9" * 37, "at most 72 bytes"),
        ("short", "at least 8"),
    ],
)
async def test_new_password_meets_the_policy(
    client: httpx.AsyncClient, new_password: str, fragment: str
) -> None:
    account: dict[str, Any] = await register(client)
    response = await client.post(
        "/api/auth/change-password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(account["access_token"]),
    )
    assert fragment in assert_error(response, 422, "VALIDATION_ERROR")["message"]
    # Nothing changed: the old password and the session still work.
    assert (await login(client)).status_code == 200
    me = await client.get("/api/auth/me", headers=bearer(account["access_token"]))
    assert me.status_code == 200


async def test_sign_in_clears_expired_refresh_tokens(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    account = await register(client)
    await db.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 day'")
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": account["refresh_token"]}),
        401,
        "INVALID_REFRESH_TOKEN",
    )
    assert (await login(client)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM refresh_tokens WHERE expires_at < now()") == 0
    assert await db.fetchval("SELECT count(*) FROM refresh_tokens") == 1
