"""The whole life of an account through HTTP, with what the database holds at each step."""

from __future__ import annotations

import asyncpg
import httpx

from app.core.security import hash_refresh_token
from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.helpers import assert_error


async def _tokens(db: asyncpg.Connection, user_id: int) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT token_hash, family_id, used_at, revoked_at FROM refresh_tokens "
        "WHERE user_id = $1 ORDER BY id",
        user_id,
    )


async def test_account_lifecycle(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    # Register both roles.
    seeker = await register(client, "Seeker@Example.com", role="job_seeker")
    employer = await register(client, "boss@example.com", role="employer", full_name="Bo Knowles")
    assert seeker["user"]["email"] == "seeker@example.com"
    assert seeker["user"]["role"] == "job_seeker"
    assert employer["user"]["role"] == "employer"
    assert seeker["token_type"] == "bearer"
    assert seeker["expires_in"] == 15 * 60
    row = await db.fetchrow("SELECT * FROM users WHERE id = $1", seeker["user"]["id"])
    assert row["email"] == "seeker@example.com"
    assert row["password_hash"].startswith("$2b$04$")  # bcrypt at the configured cost
    assert PASSWORD not in row["password_hash"]
    seeker_id = seeker["user"]["id"]

    # Only the hash of a refresh token is stored.
    stored = await _tokens(db, seeker_id)
    assert [r["token_hash"] for r in stored] == [hash_refresh_token(seeker["refresh_token"])]

    # Login (email in any case) and /me.
    response = await login(client, "SEEKER@example.com")
    assert response.status_code == 200
    session = response.json()
    me = await client.get("/api/auth/me", headers=bearer(session["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == seeker_id
    assert me.json()["email"] == "seeker@example.com"
    assert await db.fetchval("SELECT last_login_at FROM users WHERE id=$1", seeker_id)

    # Refresh twice: each refresh spends the token it was given and stays in the family.
    first = await client.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert first.status_code == 200
    second = await client.post(
        "/api/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert second.status_code == 200
    current = second.json()
    assert (
        len({session["refresh_token"], first.json()["refresh_token"], current["refresh_token"]})
        == 3
    )
    family = {
        r["family_id"]
        for r in await _tokens(db, seeker_id)
        if r["token_hash"] != hash_refresh_token(seeker["refresh_token"])
    }
    assert len(family) == 1
    spent = await db.fetchval(
        "SELECT count(*) FROM refresh_tokens WHERE user_id=$1 AND used_at IS NOT NULL", seeker_id
    )
    assert spent == 2
    assert (
        await client.get("/api/auth/me", headers=bearer(current["access_token"]))
    ).status_code == 200

    # Logout ends that session: its refresh token no longer works.
    logout = await client.post("/api/auth/logout", json={"refresh_token": current["refresh_token"]})
    assert logout.status_code == 204
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": current["refresh_token"]}),
        401,
        "INVALID_REFRESH_TOKEN",
    )
    # ... but not the registration session, a different family.
    other = await client.post("/api/auth/refresh", json={"refresh_token": seeker["refresh_token"]})
    assert other.status_code == 200

    # Logout-all: every access token and refresh token of the account stops working.
    a = (await login(client, "seeker@example.com")).json()
    b = (await login(client, "seeker@example.com")).json()
    version = await db.fetchval("SELECT token_version FROM users WHERE id=$1", seeker_id)
    response = await client.post("/api/auth/logout-all", headers=bearer(a["access_token"]))
    assert response.status_code == 204
    assert (
        await db.fetchval("SELECT token_version FROM users WHERE id=$1", seeker_id) == version + 1
    )
    live = await db.fetchval(
        "SELECT count(*) FROM refresh_tokens WHERE user_id=$1 AND revoked_at IS NULL", seeker_id
    )
    assert live == 0
    for pair in (a, b, other.json()):
        assert_error(await client.get("/api/auth/me", headers=bearer(pair["access_token"])), 401)
        assert_error(
            await client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
            401,
        )
    # The employer's sessions are untouched.
    assert (
        await client.get("/api/auth/me", headers=bearer(employer["access_token"]))
    ).status_code == 200

    # Change password: other sessions end; this one continues through its refresh token.
    mine = (await login(client, "seeker@example.com")).json()
    elsewhere = (await login(client, "seeker@example.com")).json()
    old_hash = await db.fetchval("SELECT password_hash FROM users WHERE id=$1", seeker_id)
    response = await client.post(
        "/api/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
        headers=bearer(mine["access_token"]),
    )
    assert response.status_code == 204
    assert await db.fetchval("SELECT password_hash FROM users WHERE id=$1", seeker_id) != old_hash
    assert_error(await client.get("/api/auth/me", headers=bearer(mine["access_token"])), 401)
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]}),
        401,
    )
    renewed = await client.post("/api/auth/refresh", json={"refresh_token": mine["refresh_token"]})
    assert renewed.status_code == 200
    assert (
        await client.get("/api/auth/me", headers=bearer(renewed.json()["access_token"]))
    ).status_code == 200
    assert_error(await login(client, "seeker@example.com"), 401, "INVALID_CREDENTIALS")
    assert (await login(client, "seeker@example.com", "a brand new secret")).status_code == 200

    # Delete the account: it stops working at once, its row stays, anonymised.
    token = renewed.json()["access_token"]
    response = await client.request(
        "DELETE",
        "/api/users/me",
        json={"password": "a brand new secret"},
        headers=bearer(token),
    )
    assert response.status_code == 204
    row = await db.fetchrow("SELECT * FROM users WHERE id = $1", seeker_id)
    assert row["deleted_at"] is not None
    assert row["is_active"] is False
    assert row["full_name"] == "Deleted user"
    assert row["email"].endswith("@deleted.invalid")
    assert row["email"] != "seeker@example.com"
    live = await db.fetchval(
        "SELECT count(*) FROM refresh_tokens WHERE user_id=$1 AND revoked_at IS NULL", seeker_id
    )
    assert live == 0
    assert_error(await client.get("/api/auth/me", headers=bearer(token)), 401)
    assert_error(await login(client, "seeker@example.com", "a brand new secret"), 401)
    assert_error(
        await client.get(f"/api/users/{seeker_id}", headers=bearer(employer["access_token"])), 404
    )
