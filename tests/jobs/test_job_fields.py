"""What a job post, a company and a display name may say: ISO 4217 currencies, an expiry at most
a year ahead, skills once each whatever their case, and names without invisible characters
(bidirectional overrides, zero-width characters) that would make them read as something else.
Refused input is a 422 on the field, and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.factories import Market
from tests.support.helpers import assert_error

INVISIBLE = {
    "right-to-left override": "Conch Resort \u202eLtd",
    "left-to-right isolate": "Conch \u2066Resort",
    "zero-width space": "Conch\u200bResort",
    "zero-width joiner": "Conch\u200dResort",
    "byte order mark": "\ufeffConch Resort",
    "soft hyphen": "Conch\u00adResort",
    "line separator": "Conch\u2028Resort",
    "private use": "Conch \ue000 Resort",
    "newline": "Conch\nResort",
}


async def _refused(market: Market, method: str, path: str, body: dict[str, Any], **kw: Any):
    response = await market.client.request(method, path, json=body, **kw)
    return assert_error(response, 422, "VALIDATION_ERROR")["details"]


async def test_salary_currency_is_an_iso_4217_code(market: Market) -> None:
    owner = await market.user("employer")
    company = (await market.company(owner))["id"]
    assert (await market.job(owner, company, salary_currency="usd"))["salary_currency"] == "USD"
    assert (await market.job(owner, company, salary_currency="XCD"))["salary_currency"] == "XCD"
    for code in ("ABC", "XXX", "XTS", "BS", "BSDX", "B$D"):
        body = {"company_id": company, "salary_currency": code}
        details = await _refused(market, "POST", "/api/jobs", body, headers=owner.headers)
        assert ["body", "salary_currency"] in [d["loc"] for d in details], code
    job = await market.job(owner, company)
    details = await _refused(
        market, "PATCH", f"/api/jobs/{job['id']}", {"salary_currency": "ZZZ"}, headers=owner.headers
    )
    assert details[0]["loc"] == ["body", "salary_currency"]
    assert details[0]["msg"] == "must be an ISO 4217 currency code, such as BSD"
    assert (await market.client.get(f"/api/jobs/{job['id']}")).json()["salary_currency"] == "BSD"


async def test_expiry_is_at_most_a_year_ahead(market: Market) -> None:
    owner = await market.user("employer")
    company = (await market.company(owner))["id"]
    now = datetime.now(UTC)
    within = (now + timedelta(days=365)).isoformat()
    assert (await market.job(owner, company, expires_at=within))["expires_at"] is not None
    beyond = (now + timedelta(days=367)).isoformat()
    body = {"company_id": company, "expires_at": beyond}
    details = await _refused(market, "POST", "/api/jobs", body, headers=owner.headers)
    expiry = next(d for d in details if d["loc"] == ["body", "expires_at"])
    assert expiry["msg"] == "must be at most a year ahead"
    job = await market.job(owner, company)
    await _refused(
        market, "PATCH", f"/api/jobs/{job['id']}", {"expires_at": beyond}, headers=owner.headers
    )
    assert (await market.client.get(f"/api/jobs/{job['id']}")).json()["expires_at"] is None


async def test_job_skills_are_kept_once_whatever_their_case(market: Market) -> None:
    owner = await market.user("employer")
    company = (await market.company(owner))["id"]
    sent = ["Bartending", "bartending", " BARTENDING ", "Customer Service", "customer service"]
    job = await market.job(owner, company, skills=sent)
    assert job["skills"] == ["Bartending", "Customer Service"]
    patched = await market.client.patch(
        f"/api/jobs/{job['id']}", json={"skills": ["Diving", "DIVING"]}, headers=owner.headers
    )
    assert patched.json()["skills"] == ["Diving"]


@pytest.mark.parametrize("value", INVISIBLE.values(), ids=INVISIBLE.keys())
async def test_names_refuse_invisible_characters(market: Market, value: str) -> None:
    owner = await market.user("employer")
    company = await market.company(owner)
    job = await market.job(owner, company["id"])
    refusals = [
        ("POST", "/api/companies", {"name": value}, "name"),
        ("PATCH", f"/api/companies/{company['id']}", {"name": value}, "name"),
        ("POST", "/api/jobs", {"company_id": company["id"], "title": value}, "title"),
        ("PATCH", f"/api/jobs/{job['id']}", {"title": value}, "title"),
        ("PATCH", "/api/users/me", {"full_name": value}, "full_name"),
    ]
    for method, path, body, field in refusals:
        details = await _refused(market, method, path, body, headers=owner.headers)
        assert ["body", field] in [d["loc"] for d in details], (method, path)
    signup = {"email": "eve@example.com", "password": "correct horse battery", "full_name": value}
    details = await _refused(market, "POST", "/api/auth/register", signup)
    assert details[0]["loc"] == ["body", "full_name"]
    # Nothing was written.
    me = (await market.client.get("/api/auth/me", headers=owner.headers)).json()
    assert me["full_name"] == "Test employer 1"
    assert (await market.client.get(f"/api/jobs/{job['id']}")).json()["title"] == job["title"]
    names = await market.sql("SELECT name FROM companies")
    assert [row.name for row in names] == [company["name"]]


async def test_names_keep_every_visible_script_and_punctuation(market: Market) -> None:
    owner = await market.user("employer", full_name="Zoë O'Neil-Smith")
    company = await market.company(owner, name="Café Ñandú & Söhne 株式会社")
    job = await market.job(owner, company["id"], title="Chef de cuisine — Cable Beach (m/w/d)")
    assert company["name"] == "Café Ñandú & Söhne 株式会社"
    assert job["title"] == "Chef de cuisine — Cable Beach (m/w/d)"
    me = (await market.client.get("/api/auth/me", headers=owner.headers)).json()
    assert me["full_name"] == "Zoë O'Neil-Smith"


async def test_a_lone_surrogate_in_any_text_is_422_not_500(market: Market) -> None:
    """JSON may escape half of a UTF-16 pair ("\\ud800"); Python reads it, PostgreSQL cannot."""
    owner = await market.user("employer")
    for body in (b'{"headline": "Chef \\ud800"}', b'{"bio": "\\udfff"}'):
        response = await market.client.patch(
            "/api/users/me",
            content=body,
            headers={**owner.headers, "Content-Type": "application/json"},
        )
        assert_error(response, 422, "VALIDATION_ERROR")
