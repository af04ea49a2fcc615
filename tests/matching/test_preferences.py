"""Preferences on the profile (GET|PATCH /api/users/me): what they hold, and bad input refused
with a 422 in the one error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import PASSWORD, Market
from tests.support.helpers import assert_error

PREFERENCES = {
    "preferred_categories": ["construction_trades", "maritime_fishing"],
    "preferred_employment_types": ["full_time", "contract"],
    "preferred_work_modes": ["on_site"],
    "min_pay": {"amount": 22.5, "period": "hour"},
    "relocation_islands": ["Exuma", "Grand Bahama"],
}


async def test_preferences_are_optional_kept_and_cleared(market: Market) -> None:
    me = await market.user()
    profile = (await market.client.get("/api/users/me", headers=me.headers)).json()
    assert {name: profile[name] for name in PREFERENCES} == {
        "preferred_categories": [],
        "preferred_employment_types": [],
        "preferred_work_modes": [],
        "min_pay": None,
        "relocation_islands": [],
    }

    response = await market.client.patch("/api/users/me", json=PREFERENCES, headers=me.headers)

    assert response.status_code == 200, response.text
    shown = {name: response.json()[name] for name in PREFERENCES}
    assert shown == PREFERENCES
    again = (await market.client.get("/api/users/me", headers=me.headers)).json()
    assert {name: again[name] for name in PREFERENCES} == shown
    # Other fields leave them alone; null and [] clear them.
    await market.client.patch("/api/users/me", json={"headline": "Welder"}, headers=me.headers)
    cleared = {"min_pay": None, "preferred_work_modes": []}
    response = await market.client.patch("/api/users/me", json=cleared, headers=me.headers)
    assert response.json()["min_pay"] is None
    assert response.json()["preferred_work_modes"] == []
    assert response.json()["preferred_categories"] == PREFERENCES["preferred_categories"]
    rows = await market.sql(
        "SELECT min_pay_amount, min_pay_period FROM users WHERE id = :id", id=me.id
    )
    assert [tuple(row) for row in rows] == [(None, None)]
    # Nobody else sees them.
    other = await market.user()
    public = (await market.client.get(f"/api/users/{me.id}", headers=other.headers)).json()
    assert not set(PREFERENCES) & set(public)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preferred_categories": ["welding"]}, "preferred_categories"),
        ({"preferred_categories": ["legal", "legal"]}, "preferred_categories"),
        (
            {
                "preferred_categories": [
                    "legal",
                    "security",
                    "education",
                    "healthcare",
                    "engineering",
                    "management",
                ]
            },
            "preferred_categories",
        ),
        ({"preferred_employment_types": ["full_time", "full_time"]}, "preferred_employment_types"),
        ({"preferred_employment_types": "full_time"}, "preferred_employment_types"),
        ({"preferred_work_modes": ["remote", "anywhere"]}, "preferred_work_modes"),
        ({"relocation_islands": ["Atlantis"]}, "relocation_islands"),
        ({"relocation_islands": ["Exuma", "Exuma"]}, "relocation_islands"),
        ({"relocation_islands": None}, "relocation_islands"),
        ({"min_pay": {"amount": -1, "period": "year"}}, "min_pay"),
        ({"min_pay": {"amount": 10, "period": "week"}}, "min_pay"),
        ({"min_pay": {"amount": 10}}, "min_pay"),
        ({"min_pay": {"amount": 1.005, "period": "hour"}}, "min_pay"),
        ({"min_pay": {"amount": 20_000_000, "period": "year"}}, "min_pay"),
        ({"min_pay": {"amount": 10, "period": "hour", "currency": "USD"}}, "min_pay"),
        ({"min_pay": 30000}, "min_pay"),
    ],
)
async def test_bad_preferences_are_a_422(market: Market, body: dict[str, Any], field: str) -> None:
    me = await market.user()
    response = await market.client.patch("/api/users/me", json=body, headers=me.headers)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert any(field in detail["loc"] for detail in error["details"]), error
    profile = (await market.client.get("/api/users/me", headers=me.headers)).json()
    assert profile["min_pay"] is None and profile["preferred_categories"] == []


async def test_deleting_the_account_clears_them(market: Market) -> None:
    me = await market.user()
    await market.client.patch("/api/users/me", json=PREFERENCES, headers=me.headers)
    response = await market.client.request(
        "DELETE", "/api/users/me", json={"password": PASSWORD}, headers=me.headers
    )
    assert response.status_code == 204, response.text
    rows = await market.sql(
        "SELECT preferred_categories, preferred_employment_types, preferred_work_modes,"
        " relocation_islands, min_pay_amount FROM users WHERE id = :id",
        id=me.id,
    )
    assert [tuple(row) for row in rows] == [([], [], [], [], None)]
