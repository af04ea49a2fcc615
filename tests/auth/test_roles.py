"""The role dependencies other domains build on: the wrong role is a 403, no token a 401;
the admin API is a 404 to everyone but admins, with or without a token."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.identity.deps import AdminUser, EmployerUser, JobSeekerUser
from tests.support.accounts import bearer, register
from tests.support.helpers import assert_error


@pytest.fixture
def guarded(app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.get("/employer")
    async def employer_only(user: EmployerUser) -> dict[str, int]:
        return {"id": user.id}

    @router.get("/seeker")
    async def seeker_only(user: JobSeekerUser) -> dict[str, int]:
        return {"id": user.id}

    @router.get("/admin")
    async def admin_only(user: AdminUser) -> dict[str, int]:
        return {"id": user.id}

    app.include_router(router, prefix="/guarded")
    return app


async def test_each_role_reaches_only_its_routes(
    guarded: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    accounts: dict[str, Any] = {
        "seeker": await register(client, "s@example.com", role="job_seeker"),
        "employer": await register(client, "e@example.com", role="employer"),
        "admin": await register(client, "a@example.com", role="employer"),
    }
    await db.execute("UPDATE users SET role = 'admin' WHERE email = 'a@example.com'")
    for holder, account in accounts.items():
        for route in ("seeker", "employer", "admin"):
            response = await client.get(
                f"/guarded/{route}", headers=bearer(account["access_token"])
            )
            if route == holder:
                assert response.json() == {"id": account["user"]["id"]}
            elif route == "admin":
                assert_error(response, 404, "NOT_FOUND")
            else:
                assert_error(response, 403, "FORBIDDEN")
    assert_error(await client.get("/guarded/admin"), 404, "NOT_FOUND")
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert_error(await client.get("/guarded/admin", headers=bad_token), 404, "NOT_FOUND")
    assert_error(await client.get("/guarded/employer"), 401, "UNAUTHORIZED")
