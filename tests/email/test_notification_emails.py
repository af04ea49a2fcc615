"""Notification emails: a new application mails the employer, a status change the applicant;
each respects the recipient's email preferences and carries a one-click unsubscribe (RFC 8058)
that works without signing in."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from tests.support.factories import Market
from tests.support.helpers import assert_error
from tests.support.mail import Mail, wait_for

PREFERENCES = "/api/users/me/email-preferences"


async def test_application_emails_follow_preferences_and_unsubscribe_in_one_click(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    employer = await market.user("employer")
    company = await market.company(employer)
    job = await market.job(employer, company["id"], title="Dive instructor")
    first, second = await market.user(), await market.user()
    mail.worker()

    applied = await client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=first.headers
    )
    assert applied.status_code == 201
    [received] = await wait_for(
        lambda: mail.received(to=employer.email, contains="New application")
    )
    assert "Dive instructor" in received["Subject"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = received["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://hiremebahamas.com/api/email/unsubscribe?token=")
    # As the mail client reads them: plain lines, not RFC 2047 encoded-words (which a header
    # this long was folded into) that clients do not decode here.
    assert _raw_headers(mail, received["Message-ID"], b"List-Unsubscribe") == [
        f"List-Unsubscribe: <{url}>".encode(),
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ]

    # The mail client's one-click POST: no session, the form body RFC 8058 prescribes.
    target = urlsplit(url)
    click = await client.post(
        f"{target.path}?{target.query}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert click.status_code == 204, click.text
    prefs = (await client.get(PREFERENCES, headers=employer.headers)).json()
    assert prefs == {
        "new_application": False,
        "status_change": True,
        "messages": True,
        "job_alerts": True,
    }

    # The second application is not mailed to the employer; its status change is mailed to
    # the applicant, and that email being there means the worker got past the first.
    again = await client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=second.headers
    )
    moved = await client.patch(
        f"/api/applications/{again.json()['id']}",
        json={"status": "reviewing"},
        headers=employer.headers,
    )
    assert moved.status_code == 200, moved.text
    [update] = await wait_for(
        lambda: mail.received(to=second.email, contains="Update on your application")
    )
    assert "reviewed" in update.get_body(preferencelist=("plain",)).get_content()
    await wait_for(lambda: _all_sent(market))
    assert len(mail.received(to=employer.email, contains="New application")) == 1


def _raw_headers(mail: Mail, message_id: str, prefix: bytes) -> list[bytes]:
    """The header lines of the received message `message_id` that start with `prefix`, each
    with its continuation lines, as the SMTP server stored the bytes."""
    [raw] = [r for r in mail.smtp.raw_messages() if message_id.encode() in r]
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    fields = re.split(rb"\n(?![ \t])", head)
    return [field for field in fields if field.startswith(prefix)]


async def _all_sent(market: Market) -> bool:
    rows = await market.sql("SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'")
    pending = await market.sql("SELECT count(*) FROM outbox_emails WHERE sent_at IS NULL")
    return rows[0][0] <= 1 and pending[0][0] == 0  # at most the periodic recovery job waits


async def test_an_applicant_who_turned_status_emails_off_gets_none(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    employer = await market.user("employer")
    company = await market.company(employer)
    job = await market.job(employer, company["id"])
    seeker = await market.user()
    off = {"new_application": True, "status_change": False, "messages": True, "job_alerts": True}
    assert (await client.put(PREFERENCES, json=off, headers=seeker.headers)).json() == off
    mail.worker()

    applied = await client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    await client.patch(
        f"/api/applications/{applied.json()['id']}",
        json={"status": "reviewing"},
        headers=employer.headers,
    )
    await wait_for(lambda: mail.received(to=employer.email, contains="New application"))
    await wait_for(lambda: _all_sent(market))
    assert mail.received(to=seeker.email, contains="Update on your application") == []


async def test_preferences_and_unsubscribe_refuse_bad_input(
    market: Market, client: httpx.AsyncClient
) -> None:
    seeker = await market.user()
    assert_error(await client.get(PREFERENCES), 401)
    partial = {"new_application": False}
    assert_error(await client.put(PREFERENCES, json=partial, headers=seeker.headers), 422)
    extra = {
        "new_application": True,
        "status_change": True,
        "messages": True,
        "job_alerts": True,
        "password_reset": False,  # security emails cannot be turned off
    }
    assert_error(await client.put(PREFERENCES, json=extra, headers=seeker.headers), 422)
    forged = f"{seeker.id}.new_application.AAAAAAAAAAAAAAAAAAAAAAAA"
    assert_error(await client.post(f"/api/email/unsubscribe?token={forged}"), 400, "INVALID_TOKEN")
    assert_error(await client.post("/api/email/unsubscribe?token=<script>"), 422)


async def test_a_new_message_is_mailed_once_per_unread_conversation(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    employer = await market.user("employer")
    job = await market.job(employer, (await market.company(employer))["id"], title="Chef")
    seeker = await market.user()
    applied = await client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    thread = f"/api/applications/{applied.json()['id']}/messages"
    mail.worker()

    for text in ("Can you come in on Tuesday?", "Or Wednesday, if that suits you better."):
        sent = await client.post(thread, json={"body": text}, headers=employer.headers)
        assert sent.status_code == 201, sent.text
    [received] = await wait_for(lambda: mail.received(to=seeker.email, contains="New message"))
    assert "Chef" in received["Subject"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    await wait_for(lambda: _all_sent(market))
    # Two messages, one unread conversation: one email.
    assert len(mail.received(to=seeker.email, contains="New message")) == 1

    # Once the seeker no longer wants message emails, a new unread thread mails nothing.
    prefs = {"new_application": True, "status_change": True, "messages": False, "job_alerts": True}
    assert (await client.put(PREFERENCES, json=prefs, headers=seeker.headers)).status_code == 200
    read = await client.post(
        f"/api/conversations/{applied.json()['id']}/read", headers=seeker.headers
    )
    assert read.status_code in (200, 204), read.text
    sent = await client.post(thread, json={"body": "Any news?"}, headers=employer.headers)
    assert sent.status_code == 201
    await wait_for(lambda: _all_sent(market))
    assert len(mail.received(to=seeker.email, contains="New message")) == 1
