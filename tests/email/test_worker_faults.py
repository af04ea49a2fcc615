"""The worker through faults: SMTP refusing then back, SIGKILL mid-job, two runs of one email's
job at once, the database going away under it, and SIGTERM. Real processes and a TCP proxy that
fails the way a network does."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from app.core.db import parse_database_url
from app.email.messages import Email
from app.email.service import SEND_EMAIL_TASK, queue_email
from app.queue.enqueue import enqueue
from tests.support.factories import Market
from tests.support.mail import Mail, wait_for
from tests.support.tcp_fault import TcpFault

pytestmark = pytest.mark.slow

RESET = "Reset your HireMeBahamas password"
VERIFY = "Confirm your email address"


async def _all_sent(market: Market) -> bool:
    rows = await market.sql("SELECT sent_at FROM outbox_emails")
    return bool(rows) and all(row[0] is not None for row in rows)


async def test_smtp_refusing_then_back_delivers_each_email_once(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    mail.smtp.stop()  # connection refused
    seeker = await market.user()
    worker = mail.worker()
    assert (
        await client.post("/api/auth/password-reset", json={"email": seeker.email})
    ).status_code == 202

    async def retried() -> bool:
        rows = await market.sql(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'email.send' "
            "AND status = 'todo' AND attempts >= 1"
        )
        return rows[0][0] == 2  # the verification email and the reset email, both waiting

    await wait_for(retried)
    assert mail.received() == []
    mail.smtp.start()
    await wait_for(lambda: _market_done(market))
    await wait_for(lambda: _all_sent(market))
    assert len(mail.received(RESET)) == 1
    assert len(mail.received(VERIFY)) == 1
    assert worker.process.poll() is None


async def _market_done(market: Market) -> bool:
    rows = await market.sql(
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'email.send'"
    )
    return rows[0][0] == 0  # successful jobs are deleted


async def test_a_job_whose_worker_was_killed_runs_again_exactly_once(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    seeker = await market.user()
    with TcpFault() as silent_smtp:  # accepts, never greets: the send hangs mid-job
        stuck = mail.worker(SMTP_PORT=str(silent_smtp.port), SMTP_TIMEOUT="120")
        assert (
            await client.post("/api/auth/password-reset", json={"email": seeker.email})
        ).status_code == 202

        async def both_stuck() -> bool:
            rows = await market.sql(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'email.send' AND status = 'doing'"
            )
            return rows[0][0] == 2 and silent_smtp.accepted >= 2

        await wait_for(both_stuck)
        stuck.kill()  # SIGKILL: no cleanup, no status update

    mail.worker()  # a fresh worker, with the real SMTP server
    await wait_for(lambda: _all_sent(market))
    await wait_for(lambda: _market_done(market))
    assert len(mail.received(RESET)) == 1
    assert len(mail.received(VERIFY)) == 1


async def test_two_runs_of_one_emails_job_at_once_send_it_once(
    app: FastAPI, market: Market, mail: Mail
) -> None:
    """A second job for the same outbox row (as a stalled-job retry racing a slow worker) waits
    for the first run's lock; the first run's send fails, its claim rolls back, the second sends,
    and the first's retry finds the email sent."""
    services = app.state.services
    async with services.database.session() as session:
        await queue_email(
            session, services.settings, "test:race", Email("race@example.bs", "Race", "Hello")
        )
    [(outbox_id,)] = await market.sql("SELECT id FROM outbox_emails WHERE key = 'test:race'")
    async with services.database.session() as session:
        await enqueue(session, SEND_EMAIL_TASK, outbox_id=outbox_id)

    with TcpFault(("127.0.0.1", mail.smtp.port)) as smtp:
        smtp.blackhole()  # the first run's send hangs on its SMTP connection, the row locked
        mail.worker(SMTP_PORT=str(smtp.port), WORKER_CONCURRENCY="2")

        async def second_run_waits_for_the_lock() -> bool:
            rows = await market.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'UPDATE outbox_emails%'"
            )
            return smtp.accepted == 1 and rows[0][0] == 1

        await wait_for(second_run_waits_for_the_lock)
        smtp.forward()  # the frozen connection breaks: the first run fails and rolls back

        await wait_for(lambda: _market_done(market))
        assert [m["To"] for m in mail.received("Race")] == ["race@example.bs"]
        assert mail.smtp.events("rcpt") == ["rcpt race@example.bs"]
        rows = await market.sql(
            "SELECT sent_at IS NOT NULL, message IS NULL FROM outbox_emails WHERE id = :id",
            id=outbox_id,
        )
        assert [tuple(row) for row in rows] == [(True, True)]


# Procrastinate notices the outage on its own schedule (tens of seconds, more on a machine busy
# with parallel workers): room beyond the suite's 120 s, which only bounds a hang.
@pytest.mark.timeout(300)
async def test_the_worker_survives_a_database_outage(
    market: Market,
    client: httpx.AsyncClient,
    mail: Mail,
    database_url: str,
) -> None:
    seeker = await market.user()
    target = parse_database_url(database_url)
    with TcpFault((target.url.host, target.url.port or 5432)) as proxy:
        via_proxy = target.url.set(drivername="postgresql", host="127.0.0.1", port=proxy.port)
        worker = mail.worker(DATABASE_URL=via_proxy.render_as_string(hide_password=False))
        await wait_for(lambda: len(mail.received(VERIFY)) == 1)

        proxy.refuse()  # the database is gone for the worker (the API still reaches it)
        assert (
            await client.post("/api/auth/password-reset", json={"email": seeker.email})
        ).status_code == 202
        await wait_for(lambda: "worker restarting its loop" in worker.log())
        await asyncio.sleep(2)  # a few reconnection attempts into the outage
        assert worker.process.poll() is None, worker.log()
        assert len(mail.received(RESET)) == 0

        proxy.forward()  # back, without restarting the worker
        await wait_for(lambda: len(mail.received(RESET)) == 1, timeout=90)
        assert worker.terminate() == 0, worker.log()  # the same process all along


async def test_sigterm_lets_the_running_job_finish_and_exits_0(
    market: Market,
    mail: Mail,
) -> None:
    await market.user()
    worker = mail.worker()
    await wait_for(lambda: len(mail.received(VERIFY)) == 1)
    assert worker.terminate() == 0
    assert "worker stopped" in worker.log()


async def test_metrics_show_queue_depth_failures_and_lag(
    market: Market, client: httpx.AsyncClient
) -> None:
    """No worker runs: what is queued waits, and /metrics says how many and for how long."""
    await market.user()  # its verification email is queued
    await market.sql(
        "UPDATE procrastinate_events SET at = at - interval '90 seconds' WHERE type = 'deferred'"
    )
    await market.sql(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, status) "
        "VALUES ('default', 'email.send', 'failed')"
    )
    text = (await client.get("/metrics")).text
    assert 'queue_jobs{status="todo"} 1.0' in text
    assert 'queue_jobs{status="failed"} 1.0' in text
    lag = next(line for line in text.splitlines() if line.startswith("queue_lag_seconds "))
    assert float(lag.split()[1]) >= 90
