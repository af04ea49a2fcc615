"""Every route of messages, reports and the admin API, tried by everyone.

`employer` owns the job; `seeker` applied to it and wrote in its thread; `employer2` and
`seeker2` are strangers of the same roles; `admin` was promoted in the database; `nobody` sends
no token. The admin API is a 404 to everyone but admins. State-changing cells each get a fresh
target, so every cell is decided by who asks, not by what an earlier cell did.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.core.config import Settings
from app.main import create_app
from tests.moderation.world import Cast
from tests.support.factories import Actor

CAST = ("seeker", "seeker2", "employer", "employer2", "admin", "nobody")

Make = Callable[[Cast], Awaitable[Any]]
Body = Make


def field(name: str) -> Make:
    async def make(cast: Cast) -> Any:
        return getattr(cast, name)

    return make


async def _report(cast: Cast) -> int:
    return await cast.report()


async def _job(cast: Cast) -> int:
    return await cast.published()


async def _user(cast: Cast) -> int:
    return (await cast.market.user("job_seeker")).id


async def _suspended(cast: Cast) -> int:
    user_id = await _user(cast)
    await cast.market.sql("UPDATE users SET suspended_at = now() WHERE id = :id", id=user_id)
    return user_id


async def _company(cast: Cast) -> int:
    return (await cast.market.company(cast.employer))["id"]


def body(value: Any) -> Body:
    async def make(cast: Cast) -> Any:
        return value

    return make


async def _report_body(cast: Cast) -> dict[str, Any]:
    return {"target_type": "job", "target_id": await cast.published(), "reason": "spam"}


NOTE = body({"reason": "Checked by the moderation team."})
NONE = body(None)

APPLICATION = {"application_id": field("application_id")}

# (method, route as OpenAPI names it, how to fill its ids, body, expected status for each of CAST)
MATRIX: list[tuple[str, str, dict[str, Make], Body, tuple[int, ...]]] = [
    ("GET", "/api/applications/{application_id}/messages", APPLICATION, NONE,
     (200, 404, 200, 404, 404, 401)),
    ("POST", "/api/applications/{application_id}/messages", APPLICATION, body({"body": "Hello"}),
     (201, 404, 201, 404, 404, 401)),
    ("GET", "/api/conversations", {}, NONE, (200, 200, 200, 200, 200, 401)),
    ("POST", "/api/conversations/{conversation_id}/read",
     {"conversation_id": field("application_id")}, NONE, (200, 404, 200, 404, 404, 401)),
    ("POST", "/api/reports", {}, _report_body, (201, 201, 201, 201, 201, 401)),
    ("GET", "/api/admin/reports", {}, NONE, (404, 404, 404, 404, 200, 404)),
    ("POST", "/api/admin/reports/{report_id}/resolve", {"report_id": _report}, NOTE,
     (404, 404, 404, 404, 200, 404)),
    ("POST", "/api/admin/jobs/{job_id}/take-down", {"job_id": _job}, NOTE,
     (404, 404, 404, 404, 200, 404)),
    ("POST", "/api/admin/users/{user_id}/suspend", {"user_id": _user}, NOTE,
     (404, 404, 404, 404, 200, 404)),
    ("POST", "/api/admin/users/{user_id}/restore", {"user_id": _suspended}, NOTE,
     (404, 404, 404, 404, 200, 404)),
    ("POST", "/api/admin/companies/{company_id}/verify", {"company_id": _company}, NOTE,
     (404, 404, 404, 404, 200, 404)),
    ("GET", "/api/admin/audit", {}, NONE, (404, 404, 404, 404, 200, 404)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "route", "ids", "make_body", "expected"),
    [pytest.param(*row, id=f"{row[0]} {row[1]}") for row in MATRIX],
)
async def test_authorisation_matrix(
    cast: Cast,
    method: str,
    route: str,
    ids: dict[str, Make],
    make_body: Body,
    expected: tuple[int, ...],
) -> None:
    got = {}
    for name in CAST:
        actor: Actor | None = None if name == "nobody" else getattr(cast, name)
        # Fresh ids per cell: each cell is decided by who asks, not by an earlier cell.
        path = route.format(**{key: await make(cast) for key, make in ids.items()})
        response = await cast.call(actor, method, path, await make_body(cast))
        got[name] = response.status_code
    assert got == dict(zip(CAST, expected, strict=True))


def test_the_matrix_covers_every_new_route() -> None:
    document = create_app(Settings(_env_file=None, environment="test")).openapi()
    prefixes = ("/api/admin", "/api/reports", "/api/conversations")
    new = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith(prefixes) or path.endswith("/messages")
        for method in operations
    }
    assert new == {(row[0], row[1]) for row in MATRIX}


def _admin_routes() -> dict[str, set[str]]:
    """Every admin path (ids filled in) and the methods it answers."""
    document = create_app(Settings(_env_file=None, environment="test")).openapi()
    return {
        re.sub(r"\{\w+\}", "1", path): {method.upper() for method in operations}
        for path, operations in document["paths"].items()
        if path.startswith("/api/admin/")
    }


ADMIN_ROUTES = _admin_routes()
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# No body, a malformed one, one of the wrong shape, and a valid one.
BODIES: tuple[dict[str, Any], ...] = (
    {},
    {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    {"json": {"reason": 12, "extra": True}},
    {"json": {"reason": "Checked."}},
)
_SHAPE = ("error_code", "message", "details")


@pytest.mark.parametrize("caller", ["nobody", "seeker", "employer"])
async def test_the_admin_api_is_a_404_to_everyone_but_admins(cast: Cast, caller: str) -> None:
    """Every admin path, every method, every body: the same 404 as a path that does not exist,
    never a 405 with its Allow or a 422 that shows the route is there."""
    headers = {} if caller == "nobody" else getattr(cast, caller).headers
    unknown = (await cast.client.get("/api/no-such-route", headers=headers)).json()
    assert len(ADMIN_ROUTES) >= 7
    for path, _ in ADMIN_ROUTES.items():
        for method in METHODS:
            for body in BODIES:
                sent = {**body, "headers": {**headers, **body.get("headers", {})}}
                response = await cast.client.request(method, path, **sent)
                where = (caller, method, path, body)
                assert response.status_code == 404, where
                assert "allow" not in response.headers, where
                if method != "HEAD":
                    got = response.json()
                    assert {k: got.get(k) for k in _SHAPE} == {k: unknown.get(k) for k in _SHAPE}, (
                        where
                    )


async def test_admins_keep_405_and_422(cast: Cast) -> None:
    headers = cast.admin.headers
    for path, methods in ADMIN_ROUTES.items():
        for method in set(METHODS) - methods - ({"HEAD"} if "GET" in methods else set()):
            response = await cast.client.request(method, path, headers=headers)
            assert response.status_code == 405, (method, path)
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert allowed - {"HEAD"} == methods, (method, path)
        if "POST" in methods:
            malformed = await cast.client.post(
                path, content=b"{not json", headers={**headers, "Content-Type": "application/json"}
            )
            assert malformed.status_code == 422, path
