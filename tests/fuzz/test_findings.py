"""What the fuzzer found, pinned down as plain tests so it stays fixed whatever it draws next."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import bearer, register
from tests.support.helpers import assert_error

_HOST = ".".join(["a" * 63] * 8)
# 500 characters as sent, within the column; the normalised form that is stored gains a
# trailing slash and no longer fits.
GROWS_PAST_LIMIT = ("https://" + _HOST)[:500]
# A company's website column is 300 long, other URL columns 500.
LONGER_THAN_WEBSITE = ("https://" + _HOST)[:400]


@pytest.mark.parametrize(
    ("method", "path", "field", "url"),
    [
        ("PATCH", "/api/users/me", "avatar_url", GROWS_PAST_LIMIT),
        ("POST", "/api/companies", "logo_url", GROWS_PAST_LIMIT),
        ("POST", "/api/companies", "website", LONGER_THAN_WEBSITE),
    ],
)
async def test_url_longer_than_its_column_is_422_not_500(
    client: httpx.AsyncClient, method: str, path: str, field: str, url: str
) -> None:
    employer = await register(client, "conch@example.com", role="employer")
    body = {field: url, **({"name": "Conch Ltd"} if "compan" in path else {})}
    response = await client.request(
        method, path, json=body, headers=bearer(employer["access_token"])
    )
    details = assert_error(response, 422, "VALIDATION_ERROR")["details"]
    assert details[0]["loc"][-1] == field
