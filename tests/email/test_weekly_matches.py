"""The weekly "new jobs for you" email, through the real worker and SMTP server: once per seeker
and week even with two workers, only jobs never mailed before, one-click unsubscribe, and
nothing for those who turned job alerts off or were suspended."""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from app.weekly_matches.service import mail_seeker
from tests.support.factories import Actor, Market
from tests.support.mail import Mail, body_text, run_task, wait_for

TASK = "weekly_matches.send"
WEEK = 7 * 24 * 3600
SKILLS = ["welding", "pipefitting"]
SUBJECT = "for you this week"  # every account also got a verification email at sign-up


async def _seeker(market: Market, client: httpx.AsyncClient) -> Actor:
    """A job seeker on Abaco with two trade skills."""
    seeker = await market.user()
    profile = {"skills": SKILLS, "island": "Abaco", "location": "Marsh Harbour"}
    changed = await client.patch("/api/users/me", json=profile, headers=seeker.headers)
    assert changed.status_code == 200, changed.text
    return seeker


async def _jobs(market: Market, titles: list[str]) -> list[int]:
    """Live jobs on Abaco that want both of the seekers' skills."""
    employer = await market.user("employer")
    company = await market.company(employer, island="Abaco")
    made = [
        await market.job(
            employer,
            company["id"],
            title=title,
            island="Abaco",
            location="Marsh Harbour",
            skills=SKILLS,
        )
        for title in titles
    ]
    return [job["id"] for job in made]


def _job_ids(message: EmailMessage) -> set[int]:
    text = body_text(message)
    return {int(line.rsplit("/", 1)[1]) for line in text.splitlines() if "/jobs/" in line}


async def _settled(market: Market) -> None:
    """Every queued email sent, so what has not arrived will not."""

    async def done() -> bool:
        rows = await market.sql("SELECT count(*) FROM outbox_emails WHERE sent_at IS NULL")
        return rows[0][0] == 0

    await wait_for(done)


async def test_sent_once_a_week_with_only_jobs_never_mailed_before(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    seeker = await _seeker(market, client)
    first = await _jobs(market, ["Welder", "Pipefitter"])
    # Not for them: no skill of theirs, on-site on an island they did not name.
    employer = await market.user("employer")
    company = await market.company(employer)
    await market.job(employer, company["id"], title="Chef", island="Exuma", skills=["cooking"])
    mail.worker()
    now = int(time.time())

    await run_task(app, TASK, now)
    [email] = await wait_for(lambda: mail.received(to=seeker.email, contains=SUBJECT))
    assert email["Subject"] == "2 new jobs for you this week"
    assert _job_ids(email) == set(first)
    # Each job with the matching's reasons, in the words of GET /api/users/me/job-matches.
    assert (
        body_text(email).count("Why: 2 of your skills: pipefitting, welding; on your island") == 2
    )

    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["List-Unsubscribe"].startswith(
        "<https://hiremebahamas.com/api/email/unsubscribe?token="
    )

    await run_task(app, TASK, now)  # the same week again: nothing more
    await _settled(market)
    assert len(mail.received(to=seeker.email, contains=SUBJECT)) == 1

    [new] = await _jobs(market, ["Marine welder"])
    await run_task(app, TASK, now + WEEK)  # next week: only the job not mailed before
    emails = await wait_for(
        lambda: [
            m
            for m in mail.received(to=seeker.email, contains=SUBJECT)
            if m["Message-ID"] != email["Message-ID"]
        ]
    )
    assert [m["Subject"] for m in emails] == ["1 new job for you this week"]
    assert _job_ids(emails[0]) == {new}

    await run_task(app, TASK, now + 2 * WEEK)  # a week with nothing new: no email at all
    await _settled(market)
    assert len(mail.received(to=seeker.email, contains=SUBJECT)) == 2
    mailed = await market.sql(
        "SELECT job_id FROM mailed_matches WHERE user_id = :u ORDER BY job_id", u=seeker.id
    )
    assert [job_id for (job_id,) in mailed] == sorted([*first, new])


async def test_two_workers_at_once_send_each_seeker_one_email(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    seekers = [await _seeker(market, client) for _ in range(12)]
    await _jobs(market, ["Welder"])
    mail.worker()
    mail.worker()

    # Four runs of the same week at once, on two workers of four slots each.
    await run_task(app, TASK, int(time.time()), times=4)
    await _settled(market)
    for seeker in seekers:
        assert len(mail.received(to=seeker.email, contains=SUBJECT)) == 1, seeker.email
    [[queued]] = await market.sql(
        "SELECT count(*) FROM outbox_emails WHERE key LIKE 'weekly-matches:%'"
    )
    assert queued == len(seekers)


async def test_unsubscribe_in_one_click_stops_next_weeks_email(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    seeker = await _seeker(market, client)
    await _jobs(market, ["Welder"])
    mail.worker()
    now = int(time.time())
    await run_task(app, TASK, now)
    [email] = await wait_for(lambda: mail.received(to=seeker.email, contains=SUBJECT))

    # The mail client's one-click POST (RFC 8058): no session, the prescribed form body.
    target = urlsplit(email["List-Unsubscribe"].strip("<>"))
    assert f"{target.path}?{target.query}" in body_text(email)  # the same link, readable
    click = await client.post(
        f"{target.path}?{target.query}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert click.status_code == 204, click.text
    prefs = await client.get("/api/users/me/email-preferences", headers=seeker.headers)
    assert prefs.json()["job_alerts"] is False

    await _jobs(market, ["Marine welder"])
    await run_task(app, TASK, now + WEEK)
    await _settled(market)
    assert len(mail.received(to=seeker.email, contains=SUBJECT)) == 1


async def test_only_seekers_who_want_job_alerts_get_it(
    app: FastAPI, market: Market, client: httpx.AsyncClient, mail: Mail
) -> None:
    wanting, unwilling, suspended, deleted = [await _seeker(market, client) for _ in range(4)]
    off = {"new_application": True, "status_change": True, "messages": True, "job_alerts": False}
    put = await client.put("/api/users/me/email-preferences", json=off, headers=unwilling.headers)
    assert put.status_code == 200, put.text
    await market.sql("UPDATE users SET suspended_at = now() WHERE id = :id", id=suspended.id)
    await market.sql("UPDATE users SET deleted_at = now() WHERE id = :id", id=deleted.id)
    employer = await market.user("employer")
    await _jobs(market, ["Welder"])
    mail.worker()

    await run_task(app, TASK, int(time.time()))
    await wait_for(lambda: mail.received(to=wanting.email, contains=SUBJECT))
    await _settled(market)
    for nobody in (unwilling, suspended, deleted, employer):
        assert mail.received(to=nobody.email, contains=SUBJECT) == [], nobody.email
    assert len(mail.received(contains=SUBJECT)) == 1


async def test_two_runs_racing_for_one_seeker_queue_one_email(
    app: FastAPI, market: Market, client: httpx.AsyncClient
) -> None:
    """The guarantee is the database's: two transactions building the same seeker's email for
    the same week at once (as two workers would) queue it once, and record its jobs once."""
    seeker = await _seeker(market, client)
    jobs = await _jobs(market, ["Welder", "Pipefitter"])
    services = app.state.services

    async def run() -> int:
        async with services.database.session() as session:
            return await mail_seeker(session, services.settings, seeker.id, "2026-W49")

    shown = await asyncio.gather(run(), run())
    assert sorted(shown) == [0, 2]
    outbox = await market.sql("SELECT key FROM outbox_emails WHERE key LIKE 'weekly-matches:%'")
    assert outbox == [(f"weekly-matches:{seeker.id}:2026-W49",)]
    mailed = await market.sql("SELECT job_id FROM mailed_matches WHERE user_id = :u", u=seeker.id)
    assert sorted(job_id for (job_id,) in mailed) == sorted(jobs)
