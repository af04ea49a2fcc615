"""Job alerts: saved searches of GET /api/jobs, run by the worker, each new matching job mailed
once per alert (instant: one email per job; daily: a digest)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.support.factories import Market
from tests.support.helpers import assert_error
from tests.support.mail import Mail, run_task, wait_for

ALERTS = "/api/users/me/job-alerts"


async def test_each_matching_job_is_mailed_once_per_alert(
    app: FastAPI,
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    seeker = await market.user()
    instant = {"q": "dive", "island": "Exuma", "frequency": "instant"}
    created = await client.post(ALERTS, json=instant, headers=seeker.headers)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{ALERTS}/{created.json()['id']}"
    assert created.json()["filters"] == {"q": "dive", "island": "Exuma"}
    daily = {"island": "Exuma", "frequency": "daily"}
    assert (await client.post(ALERTS, json=daily, headers=seeker.headers)).status_code == 201

    employer = await market.user("employer")
    company = await market.company(employer)
    match = await market.job(employer, company["id"], title="Dive instructor", island="Exuma")
    await market.job(employer, company["id"], title="Dive instructor", island="Bimini")
    await market.job(
        employer, company["id"], title="Draft dive job", island="Exuma", status="draft"
    )
    mail.worker()

    await run_task(app, "alerts.instant")
    [alert] = await wait_for(lambda: mail.received(to=seeker.email, contains="job"))
    assert alert["Subject"] == "New job: Dive instructor"
    text = alert.get_body(preferencelist=("plain",)).get_content()
    assert f"/jobs/{match['id']}" in text
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    await run_task(app, "alerts.instant")  # nothing new: nothing mailed again
    await run_task(app, "alerts.daily")
    digests = await wait_for(lambda: mail.received(to=seeker.email, contains="for you"))
    assert [d["Subject"] for d in digests] == ["1 new jobs for you"]
    await run_task(app, "alerts.daily")  # a second digest the same day: nothing new in it
    await wait_for(lambda: _settled(market))
    assert len(mail.received(to=seeker.email, contains="job")) == 2


async def _settled(market: Market) -> bool:
    rows = await market.sql("SELECT count(*) FROM outbox_emails WHERE sent_at IS NULL")
    return rows[0][0] == 0


async def test_alerts_have_limits_and_owners(market: Market, client: httpx.AsyncClient) -> None:
    seeker, other = await market.user(), await market.user()
    assert_error(
        await client.post(ALERTS, json={"frequency": "daily"}, headers=seeker.headers), 422
    )
    bad = {"q": "chef", "frequency": "hourly"}
    assert_error(await client.post(ALERTS, json=bad, headers=seeker.headers), 422)
    assert_error(
        await client.post(ALERTS, json={"q": "chef", "sort": "sideways"}, headers=seeker.headers),
        422,
    )
    assert_error(await client.post(ALERTS, json={"q": "chef"}), 401)
    ids = []
    for n in range(10):
        made = await client.post(ALERTS, json={"q": f"chef {n}"}, headers=seeker.headers)
        assert made.status_code == 201
        ids.append(made.json()["id"])
    assert_error(await client.post(ALERTS, json={"q": "one more"}, headers=seeker.headers), 409)

    listed = (await client.get(ALERTS, headers=seeker.headers)).json()
    assert [a["id"] for a in listed["items"]] == ids
    assert listed["next_cursor"] is None
    assert (await client.get(ALERTS, headers=other.headers)).json()["items"] == []

    assert_error(await client.delete(f"{ALERTS}/{ids[0]}", headers=other.headers), 404)
    assert (await client.delete(f"{ALERTS}/{ids[0]}", headers=seeker.headers)).status_code == 204
    assert_error(await client.delete(f"{ALERTS}/{ids[0]}", headers=seeker.headers), 404)
    assert_error(await client.delete(f"{ALERTS}/99999999999999999999", headers=seeker.headers), 422)


HYPHENS = "-" * 33


async def test_a_search_postgresql_cannot_parse_is_no_alert(
    market: Market, client: httpx.AsyncClient
) -> None:
    seeker = await market.user()
    for q in (HYPHENS, "- " * 33, "-(" * 33, "a or b " + "-" * 31):
        refused = await client.post(ALERTS, json={"q": q}, headers=seeker.headers)
        body = assert_error(refused, 422, "VALIDATION_ERROR")
        assert body["details"][0]["loc"] == ["body", "q"], q
    assert (await client.get(ALERTS, headers=seeker.headers)).json()["items"] == []


async def test_an_alert_that_fails_stops_no_other(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    """An alert saved before its search was refused (made so in the database, as an old row
    would be) fails on its own: it is logged with its id, and the next user is still mailed."""
    broken_owner, seeker = await market.user(), await market.user()
    broken = await client.post(
        ALERTS, json={"q": "diver", "frequency": "instant"}, headers=broken_owner.headers
    )
    good = await client.post(
        ALERTS, json={"q": "diver", "frequency": "instant"}, headers=seeker.headers
    )
    assert broken.status_code == good.status_code == 201
    broken_id = broken.json()["id"]
    await market.sql(
        "UPDATE job_alerts SET filters = jsonb_build_object('q', CAST(:q AS text)) WHERE id = :id",
        q=HYPHENS,
        id=broken_id,
    )
    employer = await market.user("employer")
    company = await market.company(employer)
    await market.job(employer, company["id"], title="Commercial diver")
    worker = mail.worker()

    await run_task(app, "alerts.instant")
    [sent] = await wait_for(lambda: mail.received(to=seeker.email, contains="New job"))
    assert sent["Subject"] == "New job: Commercial diver"
    assert f"Job alert {broken_id} failed" in worker.log()
    assert mail.received(to=broken_owner.email, contains="New job") == []


async def test_a_suspended_account_gets_no_alerts(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    suspended, seeker = await market.user(), await market.user()
    for owner in (suspended, seeker):
        created = await client.post(
            ALERTS, json={"q": "diver", "frequency": "instant"}, headers=owner.headers
        )
        assert created.status_code == 201, created.text
    await market.sql("UPDATE users SET suspended_at = now() WHERE email = :e", e=suspended.email)
    employer = await market.user("employer")
    company = await market.company(employer)
    await market.job(employer, company["id"], title="Commercial diver")
    mail.worker()

    await run_task(app, "alerts.instant")
    [sent] = await wait_for(lambda: mail.received(to=seeker.email, contains="New job"))
    assert sent["Subject"] == "New job: Commercial diver"
    await wait_for(lambda: _settled(market))
    assert mail.received(to=suspended.email, contains="New job") == []
