"""HTTP conventions a client or a proxy notices: no redirect built from the Host header, bodies
the JSON parser cannot read are a 422 in the error shape, and validation messages name enum
values as a client sends them."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import bearer, register
from tests.support.helpers import assert_error

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("path", ["/api/jobs/", "/api/companies/", "/api/auth/me/", "/health/"])
async def test_a_trailing_slash_is_no_redirect_to_a_forged_host(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Host": "evil.example"})
    assert "location" not in response.headers
    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "The JSON body is nested too deeply"),
        (b'{"email":' * 50_000 + b"1" + b"}" * 50_000, "The JSON body is nested too deeply"),
        (b'{"email": "a@example.com", "password": ' + b"9" * 5000 + b"}", "too long to read"),
        (b'{"email": "a@example.com", "password": "\xff\xfe"}', "not UTF-8"),
    ],
    ids=["deep-list", "deep-object", "long-integer", "not-utf8"],
)
async def test_a_body_the_parser_cannot_read_is_422(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await client.post("/api/auth/login", content=body, headers=JSON)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert message in error["message"]
    assert error["details"] == [{"loc": ["body"], "msg": error["message"], "type": "json_invalid"}]


async def test_a_long_integer_within_what_python_reads_is_a_field_error(
    client: httpx.AsyncClient,
) -> None:
    employer = await register(client, "ints@example.com", role="employer")
    response = await client.post(
        "/api/jobs",
        content=b'{"company_id": ' + b"9" * 4000 + b"}",
        headers={**JSON, **bearer(employer["access_token"])},
    )
    details = assert_error(response, 422, "VALIDATION_ERROR")["details"]
    assert ["body", "company_id"] in [d["loc"] for d in details]


async def test_enum_choices_are_named_by_their_values(client: httpx.AsyncClient) -> None:
    employer = await register(client, "enums@example.com", role="employer")
    response = await client.post(
        "/api/jobs", json={"status": "closed"}, headers=bearer(employer["access_token"])
    )
    details = assert_error(response, 422, "VALIDATION_ERROR")["details"]
    status = next(d for d in details if d["loc"] == ["body", "status"])
    assert status["msg"] == "Input should be 'draft' or 'published'"
    for detail in details:
        assert "<" not in detail["msg"] and "JobStatus" not in detail["msg"], detail
