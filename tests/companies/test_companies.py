from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import Market
from tests.support.helpers import assert_error


async def test_slugs_are_generated_unique_and_validated(market: Market) -> None:
    employer = await market.user("employer")
    first = await market.company(employer, name="Pinder's Marine & Boatyard")
    second = await market.company(employer, name="Pinder's Marine & Boatyard")
    assert (first["slug"], second["slug"]) == (
        "pinder-s-marine-boatyard",
        "pinder-s-marine-boatyard-2",
    )
    assert (await market.company(employer, name="Ünïcödé Café", slug=None))[
        "slug"
    ] == "unicode-cafe"
    assert (await market.company(employer, name="🏝️🏝️"))["slug"] == "company"
    taken = await market.client.post(
        "/api/companies", json={"name": "Other", "slug": first["slug"]}, headers=employer.headers
    )
    assert_error(taken, 409, "CONFLICT")
    rename = await market.client.patch(
        f"/api/companies/{second['id']}", json={"slug": first["slug"]}, headers=employer.headers
    )
    assert_error(rename, 409)


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x"},
        {"name": "x" * 121},
        {"slug": "Has Spaces"},
        {"slug": "-leading"},
        {"website": "javascript:alert(1)"},
        {"website": "not a url"},
        {"logo_url": "ftp://example.com/logo.png"},
        {"industry": "piracy"},
        {"size": "12"},
        {"island": "Atlantis"},
        {"description": "x" * 5001},
        {"owner_id": 1},
    ],
)
async def test_company_fields_are_validated(market: Market, bad: dict[str, Any]) -> None:
    employer = await market.user("employer")
    body = {"name": "Valid Name"} | bad
    response = await market.client.post("/api/companies", json=body, headers=employer.headers)
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_read_list_and_edit(market: Market) -> None:
    employer = await market.user("employer")
    made = [
        await market.company(
            employer, name=f"Harbour Bank {n}", island=island, industry="banking_finance",
            size="51-200", website="https://harbourbank.com.bs",
        )
        for n, island in enumerate(["Abaco", "Bimini", "Abaco"])
    ]  # fmt: skip
    one = await market.client.get(f"/api/companies/{made[0]['id']}")
    assert one.json()["website"].startswith("https://harbourbank.com.bs")
    page = (await market.client.get("/api/companies", params={"limit": 2})).json()
    rest = (
        await market.client.get("/api/companies", params={"cursor": page["next_cursor"]})
    ).json()
    assert [c["id"] for c in page["items"] + rest["items"]] == [c["id"] for c in reversed(made)]
    abaco = (await market.client.get("/api/companies", params={"island": "Abaco"})).json()
    assert [c["id"] for c in abaco["items"]] == [made[2]["id"], made[0]["id"]]
    edit = await market.client.patch(
        f"/api/companies/{made[0]['id']}",
        json={"description": "Private banking since 1952.", "website": None},
        headers=employer.headers,
    )
    assert edit.status_code == 200
    assert (edit.json()["description"], edit.json()["website"]) == (
        "Private banking since 1952.",
        None,
    )
    assert_error(
        await market.client.patch(
            f"/api/companies/{made[0]['id']}", json={"name": None}, headers=employer.headers
        ),
        422,
    )
    assert_error(await market.client.get("/api/companies/424242"), 404)
    assert_error(await market.client.get(f"/api/companies/{2**63}"), 422)
