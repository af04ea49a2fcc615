"""Forged, stale and misused tokens are refused with 401 in the error shape."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from app.core.config import Settings
from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.helpers import assert_error, make_client

# Any RSA public key an attacker might present as an HMAC secret (the HS/RS confusion attack).
PUBLIC_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh
kd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ
0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg
cKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc
mwIDAQAB
-----END PUBLIC KEY-----"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(settings: Settings, user_id: int, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "role": "job_seeker",
        "ver": 0,
        "type": "access",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "0" * 32,
    }
    claims.update(overrides)
    return claims


def _hand_signed(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A JWT with any header, HMAC-SHA256-signed with `key`: what an attacker can make."""
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
async def account(client: httpx.AsyncClient) -> dict[str, Any]:
    return await register(client)


async def _assert_refused(client: httpx.AsyncClient, token: str) -> None:
    assert_error(await client.get("/api/auth/me", headers=bearer(token)), 401, "UNAUTHORIZED")


async def test_genuine_token_is_accepted(
    client: httpx.AsyncClient, settings: Settings, account: dict[str, Any]
) -> None:
    # The forgeries below differ from this one only in what they forge.
    token = jwt.encode(_claims(settings, account["user"]["id"]), settings.secret_key, "HS256")
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200


async def test_a_token_used_many_times_is_refused_once_it_expires(
    client: httpx.AsyncClient, settings: Settings, account: dict[str, Any]
) -> None:
    """A token is verified in full once and its verdict kept: the kept verdict must end at
    the token's expiry, however often it was used before."""
    expires = datetime.now(UTC) + timedelta(seconds=2)
    token = jwt.encode(_claims(settings, account["user"]["id"], exp=expires), settings.secret_key)
    for _ in range(3):
        assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
    await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.05)
    await _assert_refused(client, token)


async def test_a_token_is_refused_under_another_key_after_it_was_accepted(
    client: httpx.AsyncClient,
    settings: Settings,
    make_settings: Callable[..., Settings],
    start_app: Callable[[Settings], Any],
    account: dict[str, Any],
) -> None:
    """An app with another SECRET_KEY (a rotated key) does not take a token on the word of the
    verdict the old key's app kept."""
    token = jwt.encode(_claims(settings, account["user"]["id"]), settings.secret_key, "HS256")
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
    rotated = await start_app(make_settings(secret_key="r0tated-" + "k3y9" * 12))
    async with make_client(rotated) as other:
        await _assert_refused(other, token)


async def test_alg_none_is_refused(
    client: httpx.AsyncClient, settings: Settings, account: dict[str, Any]
) -> None:
    token = jwt.encode(_claims(settings, account["user"]["id"]), None, algorithm="none")
    await _assert_refused(client, token)


async def test_rs256_header_is_refused_even_with_a_valid_hmac(
    client: httpx.AsyncClient, settings: Settings, account: dict[str, Any]
) -> None:
    claims = _claims(settings, account["user"]["id"])
    token = _hand_signed({"alg": "RS256", "typ": "JWT"}, claims, settings.secret_key.encode())
    await _assert_refused(client, token)


async def test_hs256_signed_with_a_public_key_is_refused(
    client: httpx.AsyncClient, settings: Settings, account: dict[str, Any]
) -> None:
    claims = _claims(settings, account["user"]["id"])
    token = _hand_signed({"alg": "HS256", "typ": "JWT"}, claims, PUBLIC_KEY_PEM.encode())
    await _assert_refused(client, token)


async def test_tampered_signature_and_payload_are_refused(
    client: httpx.AsyncClient, account: dict[str, Any]
) -> None:
    token = account["access_token"]
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    await _assert_refused(client, f"{header}.{payload}.{flipped}")
    # Claim to be an admin, keeping the original signature.
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    await _assert_refused(client, f"{header}.{_b64(json.dumps(claims).encode())}.{signature}")


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": datetime.now(UTC) - timedelta(seconds=5)},
        {"iss": "someone-else"},
        {"aud": "another-app"},
        {"type": "refresh"},
        {"ver": 1},
        {"sub": "999999"},
    ],
    ids=["expired", "issuer", "audience", "type", "stale-version", "unknown-user"],
)
async def test_tokens_with_wrong_claims_are_refused(
    client: httpx.AsyncClient,
    settings: Settings,
    account: dict[str, Any],
    overrides: dict[str, Any],
) -> None:
    claims = _claims(settings, account["user"]["id"], **overrides)
    await _assert_refused(client, jwt.encode(claims, settings.secret_key, "HS256"))


@pytest.mark.parametrize(
    "sub",
    [str(2**63), "9" * 40, "\u0661", "+1", "01", " 1", "1_0", "0", "-1", "", 1, None, True],
)
async def test_a_subject_that_is_not_a_plain_id_is_401_not_500(
    client: httpx.AsyncClient, settings: Settings, account: dict[str, Any], sub: Any
) -> None:
    """Only a correctly signed token gets this far: a leaked key, or a token made by another
    service sharing it. Its `sub` must still never reach the database as anything but an id."""
    claims = _claims(settings, account["user"]["id"], sub=sub)
    token = _hand_signed({"alg": "HS256", "typ": "JWT"}, claims, settings.secret_key.encode())
    await _assert_refused(client, token)


async def test_token_signed_with_another_secret_is_refused(
    client: httpx.AsyncClient, settings: Settings, account: dict[str, Any]
) -> None:
    token = jwt.encode(
        _claims(settings, account["user"]["id"]), "another-secret-" + "x" * 40, "HS256"
    )
    await _assert_refused(client, token)


async def test_refresh_token_is_not_an_access_token(
    client: httpx.AsyncClient, account: dict[str, Any]
) -> None:
    await _assert_refused(client, account["refresh_token"])


async def test_missing_and_garbage_authorization(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/auth/me"), 401, "UNAUTHORIZED")
    for value in (
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b.c",
        "Bearer " + "x" * 5000,
    ):
        response = await client.get("/api/auth/me", headers={"Authorization": value})
        assert_error(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_token_of_a_deleted_user_is_refused(
    client: httpx.AsyncClient, account: dict[str, Any]
) -> None:
    headers = bearer(account["access_token"])
    response = await client.request(
        "DELETE", "/api/users/me", json={"password": PASSWORD}, headers=headers
    )
    assert response.status_code == 204
    await _assert_refused(client, account["access_token"])
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": account["refresh_token"]}),
        401,
        "INVALID_REFRESH_TOKEN",
    )


async def test_token_of_a_logged_out_everywhere_user_is_refused(
    client: httpx.AsyncClient, account: dict[str, Any]
) -> None:
    response = await client.post("/api/auth/logout-all", headers=bearer(account["access_token"]))
    assert response.status_code == 204
    await _assert_refused(client, account["access_token"])


async def test_reused_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, account: dict[str, Any], db: asyncpg.Connection
) -> None:
    stolen = account["refresh_token"]
    # The rightful holder refreshes twice; the thief then replays the first token.
    one = (await client.post("/api/auth/refresh", json={"refresh_token": stolen})).json()
    two = (
        await client.post("/api/auth/refresh", json={"refresh_token": one["refresh_token"]})
    ).json()
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": stolen}),
        401,
        "INVALID_REFRESH_TOKEN",
    )
    # Even the newest token of the family is now dead, in the database too.
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": two["refresh_token"]}),
        401,
        "INVALID_REFRESH_TOKEN",
    )
    live = await db.fetchval(
        "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL",
        account["user"]["id"],
    )
    assert live == 0


async def test_concurrent_refreshes_of_one_token_cannot_both_succeed(
    client: httpx.AsyncClient, account: dict[str, Any]
) -> None:
    body = {"refresh_token": account["refresh_token"]}
    replies = await asyncio.gather(*(client.post("/api/auth/refresh", json=body) for _ in range(5)))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200, 401, 401, 401, 401], statuses
    # The losers presented a spent token, which counts as reuse: the family is revoked, so
    # even the winner's new token is refused.
    winner = next(r for r in replies if r.status_code == 200).json()
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": winner["refresh_token"]}),
        401,
        "INVALID_REFRESH_TOKEN",
    )


@pytest.mark.parametrize("value", ["", "short", "x" * 129, "' OR 1=1 --", "a" * 43 + "\u00e9"])
async def test_malformed_refresh_tokens_are_refused(client: httpx.AsyncClient, value: str) -> None:
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": value}),
        422,
        "VALIDATION_ERROR",
    )
    # The same values in the cookie are treated as no token at all.
    cookie = f"refresh_token={value}".encode()
    assert_error(
        await client.post("/api/auth/refresh", headers={"Cookie": cookie}),
        401,
        "INVALID_REFRESH_TOKEN",
    )


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": "A" * 43}),
        401,
        "INVALID_REFRESH_TOKEN",
    )
    assert_error(await client.post("/api/auth/refresh", json={}), 401, "INVALID_REFRESH_TOKEN")


async def test_a_refresh_racing_logout_all_does_not_outlive_it(client: httpx.AsyncClient) -> None:
    account = await register(client)
    for _ in range(5):
        session = (await login(client)).json()
        refreshed, logged_out = await asyncio.gather(
            client.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]}),
            client.post("/api/auth/logout-all", headers=bearer(account["access_token"])),
        )
        assert logged_out.status_code == 204
        account = (await login(client)).json()
        if refreshed.status_code == 200:
            new = refreshed.json()
            await _assert_refused(client, new["access_token"])
            assert_error(
                await client.post(
                    "/api/auth/refresh", json={"refresh_token": new["refresh_token"]}
                ),
                401,
                "INVALID_REFRESH_TOKEN",
            )
        else:
            assert_error(refreshed, 401, "INVALID_REFRESH_TOKEN")


async def test_a_refresh_racing_logout_does_not_outlive_it(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(5):
        session = (await login(client)).json()
        body = {"refresh_token": session["refresh_token"]}
        refreshed, logged_out = await asyncio.gather(
            client.post("/api/auth/refresh", json=body),
            client.post("/api/auth/logout", json=body),
        )
        assert logged_out.status_code == 204
        if refreshed.status_code == 200:
            new = {"refresh_token": refreshed.json()["refresh_token"]}
            assert_error(await client.post("/api/auth/refresh", json=new), 401)
