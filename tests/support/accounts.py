"""Helpers for tests that need accounts: sign-up through the API and raw database reads."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: httpx.AsyncClient,
    email: str = "ann@example.com",
    *,
    role: str = "job_seeker",
    password: str = PASSWORD,
    full_name: str = "Ann Rolle",
) -> dict[str, Any]:
    """Sign up through the API; the reply (user and token pair)."""
    response = await client.post(
        "/api/auth/register",
        json={"email": email, "password": password, "full_name": full_name, "role": role},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def login(
    client: httpx.AsyncClient, email: str = "ann@example.com", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})
