"""Ids in paths are plain ASCII digits within the bigint range: any other spelling of every
`{..._id}` parameter is a 422 in the error shape (never a 500, never another URL of the same
resource), and the plain spelling reaches the route."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from tests.support.accounts import bearer, register
from tests.support.factories import Market
from tests.support.helpers import assert_error

SPELLINGS = ["01", "+1", "-1", "0", " 1", "1_0", "1.0", "\u0661", "\uff11", str(2**63), "9" * 40]


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every operation with an id in its path."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        if re.search(r"\{\w+_id\}", path):
            found.extend((method.upper(), path) for method in operations)
    return found


@pytest.fixture
async def employer(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer((await register(client, "ida@example.com", role="employer"))["access_token"])


@pytest.fixture
async def seeker(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer((await register(client, "sam@example.com"))["access_token"])


async def test_every_path_id_takes_only_plain_digits(
    app: FastAPI,
    client: httpx.AsyncClient,
    employer: dict[str, str],
    seeker: dict[str, str],
) -> None:
    admin = (await Market(app, client).admin()).headers
    operations = _operations(app)
    assert len(operations) >= 12, operations
    for method, template in operations:
        for spelling in SPELLINGS:
            path = re.sub(r"\{\w+_id\}", lambda _, s=spelling: s, template)
            # A route for one role refuses the other (403) before it looks at the path; the
            # admin API is a 404 to everyone but admins, so it is asked as one.
            callers = (admin,) if template.startswith("/api/admin/") else (employer, seeker)
            answers = [
                await client.request(method, path, headers=headers, json={}) for headers in callers
            ]
            assert {r.status_code for r in answers} <= {403, 422}, (method, path)
            refused = [r for r in answers if r.status_code == 422]
            assert refused, (method, path)
            body = assert_error(refused[0], 422, "VALIDATION_ERROR")
            assert any(d["loc"][0] == "path" for d in body["details"]), (method, path, body)


async def test_a_plain_id_reaches_the_route(
    client: httpx.AsyncClient, employer: dict[str, str]
) -> None:
    company = await client.post("/api/companies", json={"name": "Ida's Bakery"}, headers=employer)
    company_id = company.json()["id"]
    assert (await client.get(f"/api/companies/{company_id}")).json()["id"] == company_id
    assert_error(await client.get(f"/api/companies/0{company_id}"), 422, "VALIDATION_ERROR")
    assert_error(await client.get(f"/api/companies/{2**63 - 1}"), 404, "NOT_FOUND")
