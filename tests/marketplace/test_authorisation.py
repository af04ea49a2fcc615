"""Every write and private read of the marketplace, tried by everyone.

The cast: `employer` owns the company, its jobs and so the application pipeline; `seeker`
applied; `employer2` and `seeker2` are strangers of the same roles; `admin` was promoted in
the database; `nobody` sends no token. State-changing cells each get a fresh target.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.factories import Actor, Market

CAST = ("employer", "employer2", "seeker", "seeker2", "admin", "nobody")


@dataclass
class World:
    market: Market
    actors: dict[str, Actor | None]
    company_id: int
    job_id: int
    application_id: int
    notification_id: int

    @property
    def employer(self) -> Actor:
        return self.actors["employer"]  # type: ignore[return-value]

    async def draft(self) -> int:
        return (await self.market.job(self.employer, self.company_id, status="draft"))["id"]

    async def published(self) -> int:
        return (await self.market.job(self.employer, self.company_id))["id"]

    async def application(self) -> int:
        job_id = await self.published()
        response = await self.market.client.post(
            f"/api/jobs/{job_id}/applications",
            json={},
            headers=self.actors["seeker"].headers,  # type: ignore[union-attr]
        )
        return response.json()["id"]


@pytest.fixture
async def world(market: Market) -> World:
    actors: dict[str, Actor | None] = {
        "employer": await market.user("employer"),
        "employer2": await market.user("employer"),
        "seeker": await market.user("job_seeker"),
        "seeker2": await market.user("job_seeker"),
        "admin": await market.admin(),
        "nobody": None,
    }
    company = await market.company(actors["employer"])  # type: ignore[arg-type]
    job = await market.job(actors["employer"], company["id"])  # type: ignore[arg-type]
    applied = await market.client.post(
        f"/api/jobs/{job['id']}/applications",
        json={},
        headers=actors["seeker"].headers,  # type: ignore[union-attr]
    )
    [[notification_id]] = await market.sql(
        "SELECT id FROM notifications WHERE user_id = :u", u=actors["employer"].id
    )
    return World(market, actors, company["id"], job["id"], applied.json()["id"], notification_id)


Target = Callable[[World], Awaitable[str]]


async def _fixed(path: str, world: World) -> str:
    return path.format(w=world)


def fixed(path: str) -> Target:
    return lambda world: _fixed(path, world)


def fresh(path: str, make: str) -> Target:
    async def target(world: World) -> str:
        return path.format(await getattr(world, make)())

    return target


# (name, method, target, body, expected status for each of CAST)
MATRIX: list[tuple[str, str, Target, Any, tuple[int, ...]]] = [
    ("create company", "POST", fixed("/api/companies"), {"name": "Pinder Marine"},
     (201, 201, 403, 403, 403, 401)),
    ("edit company", "PATCH", fixed("/api/companies/{w.company_id}"), {"description": "New"},
     (200, 403, 403, 403, 200, 401)),
    ("post job", "POST", fixed("/api/jobs"), "job", (201, 403, 403, 403, 201, 401)),
    ("read draft", "GET", fresh("/api/jobs/{}", "draft"), None, (200, 404, 404, 404, 200, 404)),
    ("edit job", "PATCH", fresh("/api/jobs/{}", "published"), {"title": "Night Auditor"},
     (200, 403, 403, 403, 200, 401)),
    ("edit draft", "PATCH", fresh("/api/jobs/{}", "draft"), {"title": "Night Auditor"},
     (200, 404, 404, 404, 200, 401)),
    ("publish", "POST", fresh("/api/jobs/{}/publish", "draft"), None,
     (200, 404, 404, 404, 200, 401)),
    ("close", "POST", fresh("/api/jobs/{}/close", "published"), None,
     (200, 403, 403, 403, 200, 401)),
    ("delete", "DELETE", fresh("/api/jobs/{}", "published"), None,
     (204, 403, 403, 403, 204, 401)),
    ("job's applications", "GET", fixed("/api/jobs/{w.job_id}/applications"), None,
     (200, 403, 403, 403, 403, 401)),
    ("employer's jobs", "GET", fixed("/api/employer/jobs"), None, (200, 200, 403, 403, 403, 401)),
    ("save job", "PUT", fixed("/api/jobs/{w.job_id}/save"), None, (403, 403, 204, 204, 403, 401)),
    ("saved jobs", "GET", fixed("/api/users/me/saved-jobs"), None,
     (403, 403, 200, 200, 403, 401)),
    ("apply", "POST", fresh("/api/jobs/{}/applications", "published"), {},
     (403, 403, 201, 201, 403, 401)),
    ("my applications", "GET", fixed("/api/users/me/applications"), None,
     (200, 200, 200, 200, 200, 401)),
    ("read application", "GET", fixed("/api/applications/{w.application_id}"), None,
     (200, 404, 200, 404, 404, 401)),
    ("move application", "PATCH", fresh("/api/applications/{}", "application"),
     {"status": "reviewing"}, (200, 404, 403, 404, 404, 401)),
    ("withdraw", "POST", fresh("/api/applications/{}/withdraw", "application"), None,
     (403, 404, 200, 404, 404, 401)),
    ("read notification", "POST", fixed("/api/notifications/{w.notification_id}/read"), None,
     (200, 404, 404, 404, 404, 401)),
    ("notifications", "GET", fixed("/api/notifications"), None, (200, 200, 200, 200, 200, 401)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "target", "body", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in MATRIX],
)
async def test_authorisation_matrix(
    world: World, method: str, target: Target, body: Any, expected: tuple[int, ...]
) -> None:
    if body == "job":
        body = {
            "company_id": world.company_id,
            "title": "Night Auditor",
            "description": "Balance the day's accounts overnight at our Nassau hotel.",
            "location": "Nassau",
            "island": "New Providence",
            "category": "accounting_finance",
            "employment_type": "full_time",
        }
    got = {}
    for name in CAST:
        actor = world.actors[name]
        path = await target(world)
        response = await world.market.client.request(
            method,
            path,
            json=body,
            headers=actor.headers if actor else {},
        )
        got[name] = response.status_code
    assert got == dict(zip(CAST, expected, strict=True))
