from __future__ import annotations

from tests.support.factories import Market
from tests.support.helpers import assert_error


async def test_list_count_read_and_read_all(market: Market) -> None:
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    jobs = [await market.job(employer, company, title=f"Porter {n}") for n in range(3)]
    seeker = await market.user(full_name="Keisha Knowles")
    for job in jobs:
        await market.client.post(
            f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
        )
    http, h = market.client, employer.headers

    assert (await http.get("/api/notifications/unread-count", headers=h)).json() == {"unread": 3}
    listed = (await http.get("/api/notifications", headers=h)).json()["items"]
    assert [n["job_id"] for n in listed] == [j["id"] for j in reversed(jobs)]
    assert listed[0]["title"] == "New application for Porter 2"
    assert "Keisha Knowles" in listed[0]["body"]

    read = await http.post(f"/api/notifications/{listed[0]['id']}/read", headers=h)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert (await http.get("/api/notifications/unread-count", headers=h)).json() == {"unread": 2}
    unread = (await http.get("/api/notifications?unread_only=true", headers=h)).json()["items"]
    assert [n["id"] for n in unread] == [n["id"] for n in listed[1:]]

    assert (await http.post("/api/notifications/read-all", headers=h)).status_code == 204
    assert (await http.get("/api/notifications/unread-count", headers=h)).json() == {"unread": 0}
    assert (await http.get("/api/notifications?unread_only=true", headers=h)).json()["items"] == []

    # The seeker sees none of it, and cannot touch the employer's notifications.
    assert (await http.get("/api/notifications", headers=seeker.headers)).json()["items"] == []
    assert_error(
        await http.post(f"/api/notifications/{listed[0]['id']}/read", headers=seeker.headers), 404
    )


async def test_withdrawal_notifies_the_employer(market: Market) -> None:
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"], title="Bartender")
    seeker = await market.user(full_name="Andre Saunders")
    applied = await market.client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    withdrawn = await market.client.post(
        f"/api/applications/{applied.json()['id']}/withdraw", headers=seeker.headers
    )
    assert withdrawn.json()["status"] == "withdrawn"
    again = await market.client.post(
        f"/api/applications/{applied.json()['id']}/withdraw", headers=seeker.headers
    )
    assert_error(again, 409)
    kinds = [
        n["kind"]
        for n in (await market.client.get("/api/notifications", headers=employer.headers)).json()[
            "items"
        ]
    ]
    assert kinds == ["application_withdrawn", "application_received"]
