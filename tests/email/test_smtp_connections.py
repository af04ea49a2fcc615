"""The real worker's SMTP connections, counted at a real SMTP server: a burst shares a few,
a server that drops them loses and doubles nothing, a refused message fails once, a
non-ASCII address goes over SMTPUTF8, and SIGTERM QUITs them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app.email.messages import Email
from app.email.service import queue_email
from tests.support.factories import Market
from tests.support.mail import Mail, wait_for

pytestmark = pytest.mark.slow


async def _queue(app: FastAPI, *recipients: str) -> None:
    """One email to each address (subject = the address), committed as a request would."""
    services = app.state.services
    async with services.database.session() as session:
        for to in recipients:
            await queue_email(
                session, services.settings, f"test:{to}", Email(to=to, subject=to, text="Hello")
            )


def _subjects(mail: Mail) -> list[str]:
    return sorted(str(m["Subject"]) for m in mail.received())


async def _all_marked_sent(market: Market) -> bool:
    rows = await market.sql("SELECT count(*) FROM outbox_emails WHERE sent_at IS NULL")
    return rows[0][0] == 0


async def test_a_burst_shares_a_few_connections_and_sigterm_quits_them(
    app: FastAPI, market: Market, mail: Mail
) -> None:
    addresses = [f"seeker{i:02d}@example.bs" for i in range(40)]
    await _queue(app, *addresses)
    worker = mail.worker(WORKER_CONCURRENCY="4")
    await wait_for(lambda: _subjects(mail) == addresses)
    connections = len(mail.smtp.events("ehlo"))
    assert 1 <= connections <= 4  # one per job running at once, at most; 40 messages
    assert mail.smtp.events("quit") == []  # kept open between messages
    assert worker.terminate() == 0, worker.log()
    assert len(mail.smtp.events("quit")) == connections
    assert await _all_marked_sent(market)


async def test_a_server_that_drops_connections_costs_no_message_and_doubles_none(
    app: FastAPI, market: Market, mail: Mail
) -> None:
    mail.smtp.stop()
    mail.smtp.close_after = 3  # a fourth message on a connection gets 421, and it closes
    mail.smtp.start()
    first = [f"first{i:02d}@example.bs" for i in range(12)]
    await _queue(app, *first)
    worker = mail.worker(WORKER_CONCURRENCY="2")
    await wait_for(lambda: _subjects(mail) == first)

    mail.smtp.stop()  # the server restarts: every pooled connection dies
    mail.smtp.start()
    second = [f"second{i:02d}@example.bs" for i in range(12)]
    await _queue(app, *second)
    await wait_for(lambda: _subjects(mail) == sorted(first + second))
    assert len(mail.smtp.events("rcpt")) == 24  # each message sent once, none twice
    assert len(mail.smtp.events("ehlo")) >= 8  # 24 messages, at most 3 a connection
    await wait_for(lambda: _all_marked_sent(market))
    closed = len(mail.smtp.events("421"))
    assert closed >= 4  # at least two connections ran full in each round
    # Each message that met a 421 went again at once on a new connection, within its attempt.
    assert worker.log().count("sending on a new one") == closed


async def test_a_refused_message_fails_once_and_is_not_resent(
    app: FastAPI, market: Market, mail: Mail
) -> None:
    worker = mail.worker()
    await _queue(app, "refused@example.bs", "fine@example.bs")
    await wait_for(lambda: _subjects(mail) == ["fine@example.bs"])

    async def failed_at_once() -> bool:
        rows = await market.sql(
            "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name = 'email.send'"
        )
        return [tuple(row) for row in rows] == [("failed", 1)]  # the sent one was deleted

    await wait_for(failed_at_once)
    assert mail.smtp.events("rcpt").count("rcpt refused@example.bs") == 1
    assert "refused by the SMTP server: 550 5.1.1 No such mailbox" in worker.log()
    rows = await market.sql(
        "SELECT sent_at, message IS NOT NULL FROM outbox_emails WHERE recipient = :to",
        to="refused@example.bs",
    )
    assert [tuple(row) for row in rows] == [(None, True)]  # not sent; kept for an operator


async def test_an_address_with_a_non_ascii_local_part_is_mailed_over_smtputf8(
    app: FastAPI, market: Market, mail: Mail
) -> None:
    mail.worker()
    await _queue(app, "jörg@example.bs", "plain@example.bs")
    await wait_for(lambda: _subjects(mail) == ["jörg@example.bs", "plain@example.bs"])
    assert sorted(mail.smtp.events("rcpt")) == ["rcpt jörg@example.bs", "rcpt plain@example.bs"]
    [received] = mail.received(to="jörg@example.bs")
    assert received["Subject"] == "jörg@example.bs"  # a UTF-8 header, as SMTPUTF8 carries it
    await wait_for(lambda: _all_marked_sent(market))
