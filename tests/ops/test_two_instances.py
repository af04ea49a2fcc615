"""Two instances behind nginx behave as one: what one instance learns (a failed-login count, a
revoked session, a published job, a spent refresh token) the other knows at once.

Every step says which instance served it (nginx's access line for the request id), so each
test proves the write and the read happened on different instances.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from redis import Redis as SyncRedis

from app.core.cache import Cache
from app.core.db import parse_database_url
from tests.support.cluster import Cluster
from tests.support.helpers import assert_error, mark_email_verified

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


def _register(http: httpx.Client, email: str, role: str = "job_seeker") -> dict[str, Any]:
    response = http.post(
        "/api/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "Ann Rolle", "role": role},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post_job(http: httpx.Client, headers: dict[str, str], company_id: int, **fields: str) -> int:
    """A full-time hospitality job of the company, with `fields`; its id."""
    body = {"category": "hospitality_tourism", "employment_type": "full_time", **fields}
    response = http.post("/api/jobs", json={"company_id": company_id, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _on(cluster: Cluster, http: httpx.Client, index: int, method: str, url: str, **kw: Any):
    """A safe (GET) request through nginx, repeated until instance `index` is the one that
    answers it (round robin makes that the first or second try)."""
    for _ in range(4):
        response = http.request(method, url, **kw)
        if cluster.served_by(response) == index:
            return response
    pytest.fail(f"nginx never sent {method} {url} to instance {index}")


NOTIFICATIONS = "/api/notifications"


def _known_on_both(cluster: Cluster, http: httpx.Client, headers: dict[str, str]) -> None:
    """A signed-in read answered by each instance for a second, so that each has its LISTEN
    connection up and keeps the caller it checked (app/identity/known_callers.py)."""
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        for index in (0, 1):
            assert _on(
                cluster, http, index, "GET", "/api/notifications", headers=headers
            ).is_success
        time.sleep(0.05)


def _refused_on(cluster: Cluster, http: httpx.Client, index: int, headers: dict[str, str]) -> None:
    """Instance `index` refuses the token once the write's NOTIFY reached it (5 s at most)."""
    deadline = time.monotonic() + 5
    while (
        after := _on(cluster, http, index, "GET", "/api/notifications", headers=headers)
    ).is_success:
        assert time.monotonic() < deadline, "the other instance still takes the token after 5 s"
        time.sleep(0.02)
    assert_error(after, 401)


def test_both_instances_serve_through_nginx(cluster: Cluster) -> None:
    with cluster.client() as http:
        served = {cluster.served_by(http.get("/api/jobs")) for _ in range(4)}
    assert served == {0, 1}
    # Each instance's own access line (written just after its response) carries the request
    # id nginx logged for it.
    by_address = {f"127.0.0.1:{server.port}": server for server in cluster.instances}
    for entry in cluster.nginx.access_lines():
        if entry["uri"] == "/api/jobs":
            instance = by_address[entry["upstream"]]
            instance.wait_for_log(f'"request_id":"{entry["request_id"]}"', timeout=10)


def test_failed_login_limit_reached_on_one_instance_holds_on_the_other(cluster: Cluster) -> None:
    """Failed sign-ins counted through both instances refuse a stranger's address on both,
    while the owner's address, known to the account, still signs in on both."""
    stranger = {"X-Forwarded-For": "192.0.2.66"}  # nginx appends its client, as in production
    with cluster.client() as http:
        _register(http, "limit@example.com")
        wrong = {"email": "limit@example.com", "password": "not the password"}
        failures = [http.post("/api/auth/login", json=wrong, headers=stranger) for _ in range(5)]
        assert [r.status_code for r in failures] == [401] * 5
        assert {cluster.served_by(r) for r in failures} == {0, 1}

        right = {"email": "limit@example.com", "password": PASSWORD}
        # The right password from the stranger's address, once on each instance: both refuse.
        refused = [http.post("/api/auth/login", json=right, headers=stranger) for _ in range(2)]
        for response in refused:
            assert_error(response, 429, "RATE_LIMITED")
            assert int(response.headers["retry-after"]) > 0
        assert {cluster.served_by(r) for r in refused} == {0, 1}
        # The owner's address, learnt by whichever instance served the sign-up: both let it in.
        owner = [http.post("/api/auth/login", json=right) for _ in range(2)]
        assert [r.status_code for r in owner] == [200, 200]
        assert {cluster.served_by(r) for r in owner} == {0, 1}


def test_logout_all_on_one_instance_ends_access_tokens_on_the_other(cluster: Cluster) -> None:
    """Both instances know the caller; the one that ends the sessions refuses the token at
    once, the other when the NOTIFY of the commit reaches it."""
    with cluster.client() as http:
        tokens = _register(http, "leave@example.com")
        headers = _bearer(tokens["access_token"])
        _known_on_both(cluster, http, headers)

        logout = http.post("/api/auth/logout-all", headers=headers)
        assert logout.status_code == 204
        here = cluster.served_by(logout)
        assert_error(_on(cluster, http, here, "GET", NOTIFICATIONS, headers=headers), 401)
        _refused_on(cluster, http, 1 - here, headers)


def test_password_change_on_one_instance_ends_other_sessions_on_the_other(cluster: Cluster) -> None:
    with cluster.client() as http:
        first = _register(http, "change@example.com")
        second = http.post(
            "/api/auth/login", json={"email": "change@example.com", "password": PASSWORD}
        ).json()
        _known_on_both(cluster, http, _bearer(second["access_token"]))

        changed = http.post(
            "/api/auth/change-password",
            json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
            headers=_bearer(first["access_token"]),
        )
        assert changed.status_code == 204, changed.text
        _refused_on(cluster, http, 1 - cluster.served_by(changed), _bearer(second["access_token"]))
        refresh = http.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert_error(refresh, 401)


def test_job_published_on_one_instance_is_listed_on_the_other_at_once(
    cluster: Cluster, database_url: str
) -> None:
    with cluster.client() as http:
        employer = _bearer(_register(http, "boss@example.com", role="employer")["access_token"])
        asyncio.run(mark_email_verified(database_url, "boss@example.com"))
        company = http.post(
            "/api/companies",
            json={"name": "Conch Bay Resort", "island": "New Providence"},
            headers=employer,
        )
        assert company.status_code == 201, company.text
        job_id = _post_job(
            http,
            employer,
            company.json()["id"],
            title="Front Desk Agent",
            description="Welcome guests to our Cable Beach resort and handle bookings.",
            location="Nassau",
            island="New Providence",
            status="draft",
        )
        # Both instances have the empty list and the missing job page in their caches, and
        # hand the CDN the same ETag for the list.
        etags = set()
        for index in (0, 1):
            before = _on(cluster, http, index, "GET", "/api/jobs")
            assert before.json()["items"] == []
            etags.add(before.headers["etag"])
            assert _on(cluster, http, index, "GET", f"/api/jobs/{job_id}").status_code == 404
        (empty_etag,) = etags

        published = http.post(f"/api/jobs/{job_id}/publish", headers=employer)
        assert published.status_code == 200, published.text
        other = 1 - cluster.served_by(published)
        for index in (other, 1 - other):
            listed = _on(cluster, http, index, "GET", "/api/jobs")
            assert [job["id"] for job in listed.json()["items"]] == [job_id]
            # The CDN's copy is stale on either instance: a new ETag, no 304 for the old one.
            assert listed.headers["etag"] != empty_etag
            revalidated = _on(
                cluster, http, index, "GET", "/api/jobs", headers={"If-None-Match": empty_etag}
            )
            assert revalidated.status_code == 200
            page = _on(cluster, http, index, "GET", f"/api/jobs/{job_id}")
            assert page.status_code == 200
            assert page.json()["title"] == "Front Desk Agent"


def test_refresh_token_issued_on_one_instance_refreshes_on_the_other(cluster: Cluster) -> None:
    with cluster.client() as http:
        issued = http.post(
            "/api/auth/register",
            json={
                "email": "stay@example.com",
                "password": PASSWORD,
                "full_name": "Ann Rolle",
                "role": "job_seeker",
            },
        )
        assert issued.status_code == 201
        refreshed = http.post(
            "/api/auth/refresh", json={"refresh_token": issued.json()["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        assert cluster.served_by(refreshed) != cluster.served_by(issued)
        me = http.get("/api/auth/me", headers=_bearer(refreshed.json()["access_token"]))
        assert me.status_code == 200
        assert me.json()["email"] == "stay@example.com"
        # The spent token is spent for both instances.
        again = http.post(
            "/api/auth/refresh", json={"refresh_token": issued.json()["refresh_token"]}
        )
        assert_error(again, 401)


async def _sql(database_url: str, statement: str, *args: object) -> None:
    dsn = parse_database_url(database_url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


def test_a_write_on_either_instance_drops_the_copy_in_process_on_both(
    cluster: Cluster, database_url: str, redis_url: str
) -> None:
    """Each instance keeps job pages in process (proven: Redis emptied and the rows changed
    behind the API's back, both still serve their copies). An edit of one job on either
    instance makes both serve its new page, dropped by the NOTIFY of the edit's transaction,
    while both keep serving their copy of the other job's page; a company's new name drops
    every page of its jobs on both."""
    with cluster.client() as http:
        employer = _bearer(_register(http, "keeper@example.com", role="employer")["access_token"])
        asyncio.run(mark_email_verified(database_url, "keeper@example.com"))
        company = http.post(
            "/api/companies", json={"name": "Exuma Dive Shop", "island": "Exuma"}, headers=employer
        )
        assert company.status_code == 201, company.text
        ids = [
            _post_job(
                http,
                employer,
                company.json()["id"],
                title=title,
                description="Lead reef dives off Great Exuma for small groups of guests.",
                location="George Town",
                island="Exuma",
                status="published",
            )
            for title in ("Dive Instructor", "Boat Captain")
        ]
    page, other = (f"/api/jobs/{job_id}" for job_id in ids)
    shared = SyncRedis.from_url(redis_url)
    clients = [httpx.Client(base_url=server.base_url, timeout=30.0) for server in cluster.instances]

    def wait_until_all_show(path: str, value: str, pick: Callable[[Any], str]) -> None:
        for index, client in enumerate(clients):
            deadline = time.monotonic() + 5
            while pick(client.get(path).json()) != value and time.monotonic() < deadline:
                time.sleep(0.02)
            assert pick(client.get(path).json()) == value, f"instance {index} kept {path}"

    try:
        for client, server in zip(clients, cluster.instances, strict=True):
            assert client.get(page).status_code == 200  # the first lookup starts listening
            server.wait_for_log("events listener listening on", timeout=10)
        for writer in (0, 1):
            kept = {path: clients[0].get(path).json()["title"] for path in (page, other)}
            shared.flushdb()
            for client in clients:  # kept in process, now that both are listening
                for path, title in kept.items():
                    assert client.get(path).json()["title"] == title
            asyncio.run(
                _sql(
                    database_url, "UPDATE jobs SET title = 'Changed behind' WHERE id = ANY($1)", ids
                )
            )
            shared.flushdb()
            for client in clients:
                for path, title in kept.items():
                    assert client.get(path).json()["title"] == title, "not served from the process"

            title = f"Dive Instructor, edited on instance {writer}"
            edited = clients[writer].patch(page, json={"title": title}, headers=employer)
            assert edited.status_code == 200, edited.text
            wait_until_all_show(page, title, lambda body: body["title"])
            for index, client in enumerate(clients):  # the other job's page stays in process
                assert client.get(other).json()["title"] == kept[other], f"instance {index}"
            asyncio.run(
                _sql(database_url, "UPDATE jobs SET title = 'Boat Captain' WHERE id = $1", ids[1])
            )
            # An instance can read the new page (Redis's generation moved) before the edit's
            # NOTIFY reaches its LISTEN connection; let it land, within the cache's own settle
            # window, before the next round makes the copies it checks.
            time.sleep(Cache.SETTLE_SECONDS)

        renamed = clients[1].patch(
            f"/api/companies/{company.json()['id']}",
            json={"name": "Exuma Reef Co"},
            headers=employer,
        )
        assert renamed.status_code == 200, renamed.text
        for path in (page, other):
            wait_until_all_show(path, "Exuma Reef Co", lambda body: body["company"]["name"])
    finally:
        for client in clients:
            client.close()
        shared.close()
