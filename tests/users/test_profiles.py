"""Profiles: the owner edits their own, others see only public fields."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.accounts import bearer, register
from tests.support.helpers import assert_error

PROFILE = {
    "full_name": "Ann Rolle",
    "headline": "Hotel operations manager",
    "bio": "Ten years at resorts on Paradise Island.\nFluent in Spanish.",
    "phone": "+1 (242) 555-0142",
    "location": "Nassau",
    "island": "New Providence",
    "skills": ["Hospitality", "Scheduling", "hospitality", "Spanish"],
    "years_experience": 10,
    "resume_url": "https://files.example.com/ann-rolle.pdf",
    "avatar_url": "https://files.example.com/ann.png",
    "open_to_work": True,
}


@pytest.fixture
async def ann(client: httpx.AsyncClient) -> dict[str, Any]:
    return await register(client, "ann@example.com")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> dict[str, Any]:
    return await register(client, "bob@example.com", role="employer", full_name="Bob Knowles")


async def test_owner_updates_and_reads_the_profile(
    client: httpx.AsyncClient, ann: dict[str, Any], db: asyncpg.Connection
) -> None:
    headers = bearer(ann["access_token"])
    response = await client.patch("/api/users/me", json=PROFILE, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skills"] == ["Hospitality", "Scheduling", "Spanish"]  # duplicates dropped
    assert body["phone"] == PROFILE["phone"]
    assert body["island"] == "New Providence"
    assert (await client.get("/api/users/me", headers=headers)).json() == body
    row = await db.fetchrow("SELECT headline, skills, open_to_work FROM users")
    assert row["headline"] == PROFILE["headline"]
    assert row["skills"] == ["Hospitality", "Scheduling", "Spanish"]
    assert row["open_to_work"] is True

    # Only the fields sent change; null clears a nullable one.
    response = await client.patch("/api/users/me", json={"headline": None}, headers=headers)
    assert response.json()["headline"] is None
    assert response.json()["bio"] == PROFILE["bio"]


async def test_others_see_public_fields_only(
    client: httpx.AsyncClient, ann: dict[str, Any], bob: dict[str, Any]
) -> None:
    await client.patch("/api/users/me", json=PROFILE, headers=bearer(ann["access_token"]))
    response = await client.get(
        f"/api/users/{ann['user']['id']}", headers=bearer(bob["access_token"])
    )
    assert response.status_code == 200
    public = response.json()
    assert public["full_name"] == "Ann Rolle"
    assert public["headline"] == PROFILE["headline"]
    for private in ("email", "phone", "resume_url", "last_login_at"):
        assert private not in public
    assert "ann@example.com" not in response.text
    assert "555-0142" not in response.text


async def test_profiles_need_a_signed_in_caller(
    client: httpx.AsyncClient, ann: dict[str, Any]
) -> None:
    assert_error(await client.get(f"/api/users/{ann['user']['id']}"), 401)
    assert_error(await client.get("/api/users/me"), 401)
    assert_error(await client.patch("/api/users/me", json={"headline": "x"}), 401)


@pytest.mark.parametrize("user_id", ["999999", "0", "-1", "abc", "1 OR 1=1", str(2**64)])
async def test_unknown_or_malformed_user_ids(
    client: httpx.AsyncClient, ann: dict[str, Any], user_id: str
) -> None:
    response = await client.get(f"/api/users/{user_id}", headers=bearer(ann["access_token"]))
    assert_error(response, 404 if user_id == "999999" else 422)


@pytest.mark.parametrize(
    "smuggled",
    [
        {"role": "admin"},
        {"is_admin": True},
        {"is_active": False},
        {"email": "boss@example.com"},
        {"id": 99},
        {"token_version": 0},
        {"deleted_at": None},
    ],
)
async def test_role_email_and_flags_cannot_be_patched(
    client: httpx.AsyncClient, ann: dict[str, Any], db: asyncpg.Connection, smuggled: dict
) -> None:
    response = await client.patch(
        "/api/users/me", json={"headline": "Hi", **smuggled}, headers=bearer(ann["access_token"])
    )
    body = assert_error(response, 422, "VALIDATION_ERROR")
    assert body["details"][0]["loc"] == ["body", next(iter(smuggled))]
    row = await db.fetchrow("SELECT role, email, is_active, headline, token_version FROM users")
    assert dict(row) == {
        "role": "job_seeker",
        "email": "ann@example.com",
        "is_active": True,
        "headline": None,
        "token_version": 0,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"full_name": None},
        {"full_name": ""},
        {"full_name": "x" * 121},
        {"headline": "x" * 161},
        {"bio": "x" * 5001},
        {"bio": "nul \x00 byte"},
        {"phone": "call me maybe"},
        {"phone": "1" * 40},
        {"location": "x" * 121},
        {"island": "Atlantis"},
        {"skills": ["x" * 51]},
        {"skills": [f"skill {n}" for n in range(51)]},
        {"skills": None},
        {"skills": "python"},
        {"years_experience": -1},
        {"years_experience": 71},
        {"years_experience": 10**20},
        {"resume_url": "javascript:alert(1)"},
        {"avatar_url": "ftp://example.com/a.png"},
        {"avatar_url": "https://example.com/" + "a" * 500},
        {"open_to_work": None},
        {"open_to_work": "maybe"},
        {"headline": "'; DROP TABLE users; --\x07"},
    ],
)
async def test_field_limits(
    client: httpx.AsyncClient, ann: dict[str, Any], change: dict[str, Any]
) -> None:
    response = await client.patch("/api/users/me", json=change, headers=bearer(ann["access_token"]))
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_sql_looking_profile_text_is_only_data(
    client: httpx.AsyncClient, ann: dict[str, Any], db: asyncpg.Connection
) -> None:
    headline = "'; DROP TABLE users; --"
    response = await client.patch(
        "/api/users/me", json={"headline": headline}, headers=bearer(ann["access_token"])
    )
    assert response.json()["headline"] == headline
    assert await db.fetchval("SELECT headline FROM users") == headline
