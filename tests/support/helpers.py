"""Helpers shared by the tests (the fixtures are in the other tests/support modules)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI


async def mark_email_verified(database_url: str, email: str) -> None:
    """What following the emailed verification link does (tests/email follow the real link):
    for tests that only need an employer allowed to publish."""
    from app.core.db import parse_database_url

    dsn = parse_database_url(database_url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        await conn.execute("UPDATE users SET email_verified_at = now() WHERE email = $1", email)
    finally:
        await conn.close()


def make_client(app: FastAPI, client_ip: str = "203.0.113.10") -> httpx.AsyncClient:
    """An HTTP client that talks to the app in process, as the given client address."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(client_ip, 5555))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_error(response: httpx.Response, status: int, error_code: str | None = None) -> dict:
    """The response is an error of this status, in the one error shape."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"error_code", "message", "error_id", "request_id", "timestamp"}, body
    uuid.UUID(body["error_id"])
    assert body["request_id"] == response.headers["x-request-id"]
    if error_code is not None:
        assert body["error_code"] == error_code, body
    return body
