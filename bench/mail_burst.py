"""A burst of applications, each mailing its job's employer, drained by a real worker.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.mail_burst [N]

Makes a throwaway database on DATABASE_URL's server (migrated, seeded with `python -m app
seed`, 2N job seekers added), starts a real SMTP server (aiosmtpd, discarding what it gets),
and measures two floors, N messages sent straight to that server with aiosmtplib at the
worker's concurrency (8):

- per-connection floor: a connection each (connect, EHLO, the message, QUIT), as the issue first
  measured it. It is slower than the worker may be, since the worker keeps its connections.
- fair floor: 8 connections kept open, each sending message after message, the messages being
  the worker's own (an employer's new-application email, rendered and stored as the API does).
  This is the SMTP server's pace for the worker's work; the ratio against it is the one to read.

Then two rounds of N applications (default 1,000) through the API in process:

- live: `python -m app worker` runs during the burst; it prints how long until every
  employer's email is sent after the burst began, with `queue_lag_seconds` and
  `queue_jobs{status="todo"}` sampled from the app's own /metrics while the queue drains.
  The burst itself (the API) bounds this figure.
- backlog: the burst is queued with no worker running, then a new worker drains it: all N
  notification jobs first (they have the lower ids), then the N `email.send` jobs. It prints
  the whole drain from the worker's launch, and the sending alone (first email sent to last,
  from the outbox's `sent_at`) against both floors: the worker's pace at the SMTP server.

It also measures a queue floor (N no-op jobs through the worker's Procrastinate settings, in
this process) and the CPU a message costs in each process (the sender, the SMTP server and
PostgreSQL) for the fair floor, the queue floor and the worker's sending, and writes every
figure to bench/results/mail-burst-<time>.json.

The machine is shared: read the ratios, measured in the same run. Not a test; nothing here
asserts a time.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import asyncpg
import httpx
import procrastinate

from app.core.config import Settings
from app.core.db import parse_database_url
from app.core.security import create_access_token
from app.email.messages import Email, render, wire_text
from app.email.unsubscribe import unsubscribe_url
from app.main import create_app
from app.notifications.messages import application_received
from app.queue.connections import queue_pool
from app.queue.worker import queue_conninfo
from bench.load import cpu_seconds, postgres_cpu_seconds
from bench.run import RESULTS

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 8  # the worker's WORKER_CONCURRENCY here, and the floor's
SECRET = "bench-secret-key-that-is-long-enough-0123456789abcdef"  # noqa: S105 - bench only


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dsn(url: str) -> str:
    return parse_database_url(url).url.set(drivername="postgresql").render_as_string(False)


async def _sql(url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        return await conn.fetch(statement, *args)
    finally:
        await conn.close()


async def _floor_per_connection(port: int, n: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@b.bs", f"e{i}@b.bs", "floor"
        message.set_content("floor")
        async with gate:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=port, start_tls=False)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started


async def _floor_kept_connections(port: int, messages: list[tuple[str, bytes]]) -> float:
    """`messages` (recipient, stored bytes) over CONCURRENCY connections opened beforehand."""
    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        for _ in range(CONCURRENCY)
    ]
    for client in clients:
        await client.connect()
    queue = iter(messages)

    async def drain(client: aiosmtplib.SMTP) -> None:
        for to, data in queue:
            await client.sendmail("no-reply@hiremebahamas.com", [to], data)

    started = time.perf_counter()
    await asyncio.gather(*(drain(client) for client in clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.quit()
    return elapsed


class CpuMeter:
    """CPU seconds of named processes (and PostgreSQL) sampled through a run, so the CPU of any
    window inside it can be read afterwards: {name: cumulative seconds} at wall-clock times."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.samples: list[tuple[float, dict[str, float]]] = []

    def sample(self) -> None:
        counts = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.samples.append((time.time(), {**counts, "PostgreSQL": postgres_cpu_seconds()}))

    async def run(self, interval: float = 0.1) -> None:
        while True:
            self.sample()
            await asyncio.sleep(interval)

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each used from `start` to `end` (interpolated between samples)."""
        return {name: self._at(end, name) - self._at(start, name) for name in self.samples[0][1]}

    def _at(self, moment: float, name: str) -> float:
        earlier = [s for s in self.samples if s[0] <= moment] or self.samples[:1]
        later = [s for s in self.samples if s[0] >= moment] or self.samples[-1:]
        (t0, c0), (t1, c1) = earlier[-1], later[0]
        share = 0.0 if t1 == t0 else (moment - t0) / (t1 - t0)
        return c0[name] + share * (c1[name] - c0[name])


async def _measured(meter: CpuMeter, work: Awaitable[float]) -> tuple[float, dict[str, float]]:
    """What `work` returns (its seconds) and the CPU each of `meter`'s processes used in it."""
    meter.sample()
    started = meter.samples[-1][0]
    seconds = await work
    meter.sample()
    return seconds, meter.between(started, meter.samples[-1][0])


async def _floor_queue(url: str, n: int) -> float:
    """N no-op jobs through the worker's queue: Procrastinate with the worker's pool, options and
    concurrency, in this process, on a queue of their own. The queue's own pace, no email."""
    settings = Settings(_env_file=None, environment="test", secret_key=SECRET, database_url=url)
    connector = procrastinate.PsycopgConnector(
        pool_factory=queue_pool,
        conninfo=queue_conninfo(settings),
        min_size=1,
        max_size=CONCURRENCY + 2,
    )
    queue = procrastinate.App(connector=connector)

    @queue.task(name="bench.noop", queue="bench_noop")
    async def noop() -> None:
        return None

    async with queue.open_async():
        await noop.batch_defer_async(*({} for _ in range(n)))
        started = time.perf_counter()
        await queue.run_worker_async(
            queues=["bench_noop"], concurrency=CONCURRENCY, wait=False, delete_jobs="successful"
        )
        return time.perf_counter() - started


async def _employer_emails(url: str, n: int) -> list[tuple[str, bytes]]:
    """N messages like the burst's, each to an employer: built as the notification task builds
    its email (app/notifications/tasks.py) and stored as queue_email stores it, so the fair
    floor sends what the worker sends (the outbox clears a message once it is sent)."""
    settings = Settings(_env_file=None, environment="test", secret_key=SECRET, database_url=url)
    rows = await _sql(
        url,
        "SELECT j.title, u.id, u.email, u.full_name FROM jobs j "
        "JOIN companies c ON c.id = j.company_id JOIN users u ON u.id = c.owner_id ORDER BY j.id",
    )
    messages = []
    for i in range(n):
        title, owner, to, name = rows[i % len(rows)]
        _, subject, body = application_received(title, f"Burst seeker {i}")
        email = Email(
            to,
            subject,
            f"Hello {name},\n\n{body}",
            f"{settings.link_base}/notifications",
            "Open HireMeBahamas",
            unsubscribe=unsubscribe_url(settings, owner, "new_application"),
        )
        messages.append((to, wire_text(render(settings, email), to).encode()))
    return messages


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def _burst(
    client: httpx.AsyncClient, settings: Settings, pairs: list[tuple[int, int]]
) -> float:
    """Each (seeker, job) applies once, 32 at a time; returns the seconds it took."""
    gate = asyncio.Semaphore(32)

    async def apply(seeker: int, job: int) -> None:
        token, _ = create_access_token(settings, user_id=seeker, role="job_seeker", token_version=0)
        async with gate:
            r = await client.post(
                f"/api/jobs/{job}/applications",
                json={},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert r.status_code == 201, r.text

    started = time.perf_counter()
    await asyncio.gather(*(apply(seeker, job) for seeker, job in pairs))
    return time.perf_counter() - started


async def _drain(client: httpx.AsyncClient, url: str, total: int) -> tuple[float, float]:
    """Wait until `total` emails are marked sent; the peak queue lag and depth meanwhile."""
    max_lag = max_depth = 0.0
    while True:
        text = (await client.get("/metrics")).text
        max_lag = max(max_lag, _metric(text, "queue_lag_seconds"))
        max_depth = max(max_depth, _metric(text, 'queue_jobs{status="todo"}'))
        sent = await _sql(url, "SELECT count(*) AS n FROM outbox_emails WHERE sent_at IS NOT NULL")
        if sent[0]["n"] >= total:
            return max_lag, max_depth
        await asyncio.sleep(0.2)


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None:
        process.terminate()
        process.wait(60)


async def main(n: int) -> None:
    server_url = os.environ["DATABASE_URL"]
    name = f"hmb_mailburst_{uuid.uuid4().hex[:8]}"
    await _sql(server_url, f'CREATE DATABASE "{name}"')
    url = parse_database_url(server_url).url.set(database=name).render_as_string(False)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "ENVIRONMENT": "test"}
    smtp = worker = None
    try:
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True
        )
        seed = ["--companies", "50", "--jobs", "200", "--applications", "0"]
        subprocess.run([sys.executable, "-m", "app", "seed", *seed], cwd=ROOT, env=env, check=True)
        await _sql(
            url,
            "INSERT INTO users (email, password_hash, full_name, role) SELECT "
            "'burst' || i || '@bench.bs', 'x', 'Burst seeker ' || i, 'job_seeker' "
            "FROM generate_series(1, $1) AS i",
            2 * n,
        )
        seekers = [
            r["id"]
            for r in await _sql(url, "SELECT id FROM users WHERE email LIKE 'burst%' ORDER BY id")
        ]
        jobs = [
            r["id"]
            for r in await _sql(
                url,
                "SELECT id FROM jobs WHERE status = 'published' AND deleted_at IS NULL "
                "AND (expires_at IS NULL OR expires_at > now()) ORDER BY id",
            )
        ]
        pairs = [(seeker, jobs[i % len(jobs)]) for i, seeker in enumerate(seekers)]
        port = _free_port()
        smtp = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{port}",
                "-c",
                "aiosmtpd.handlers.Sink",
            ],
        )
        await asyncio.sleep(1.0)
        meter = CpuMeter({"this process": os.getpid(), "SMTP server": smtp.pid})
        floor = await _floor_per_connection(port, n)
        emails = await _employer_emails(url, n)
        fair_floor, fair_cpu = await _measured(meter, _floor_kept_connections(port, emails))
        queue_floor, queue_cpu = await _measured(meter, _floor_queue(url, n))

        worker_env = {
            **env,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_TLS": "none",
            "WORKER_CONCURRENCY": str(CONCURRENCY),
            "LOG_LEVEL": "WARNING",
        }
        worker_command = [sys.executable, "-m", "app", "worker"]
        worker = subprocess.Popen(worker_command, cwd=ROOT, env=worker_env)
        # The burst comes from one client address: the per-client API limit (100 a minute)
        # would stop it after 100; each seeker applies once, within its own limits.
        settings = Settings(
            _env_file=None,
            environment="test",
            secret_key=SECRET,
            database_url=url,
            rate_limit_per_minute=1_000_000,
            log_level="WARNING",  # not an access line per request of the burst
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                started = time.perf_counter()
                burst = await _burst(client, settings, pairs[:n])
                max_lag, max_depth = await _drain(client, url, n)
                drained = time.perf_counter() - started
                _stop(worker)
                worker = None

                backlog_burst = await _burst(client, settings, pairs[n:])
                started = time.perf_counter()
                worker = subprocess.Popen(worker_command, cwd=ROOT, env=worker_env)
                drain_meter = CpuMeter({"worker": worker.pid, "SMTP server": smtp.pid})
                sampling = asyncio.create_task(drain_meter.run())
                await _drain(client, url, 2 * n)
                backlog = time.perf_counter() - started
                sampling.cancel()
        span = await _sql(
            url,
            "SELECT extract(epoch FROM min(sent_at)) AS first, extract(epoch FROM max(sent_at)) "
            "AS last FROM (SELECT sent_at FROM outbox_emails ORDER BY id OFFSET $1) AS backlog",
            n,
        )
        first, last = float(span[0]["first"]), float(span[0]["last"])
        sending = last - first
        sending_cpu = drain_meter.between(first, last)
        print(f"floor, a connection per message: {n} messages in {floor:.1f} s")
        print(
            f"fair floor, {CONCURRENCY} connections kept open: {n} messages in {fair_floor:.1f} s"
        )
        print(f"live: {n} applications in {burst:.1f} s ({n / burst:.0f}/s) through the API")
        print(f"live: all {n} employer emails sent {drained:.1f} s after the burst began")
        print(f"live: queue depth peak {max_depth:.0f} jobs; queue lag peak {max_lag:.1f} s")
        print(f"live: ratio (floor time / time to all sent): {floor / drained:.2f}")
        print(f"backlog: {n} applications queued in {backlog_burst:.1f} s with no worker")
        print(f"backlog: a new worker sent all {n} emails {backlog:.1f} s after its launch")
        print(f"backlog: sending, first email to last, {sending:.1f} s")
        print(f"backlog: ratio (floor time / sending time): {floor / sending:.2f}")
        print(f"backlog: ratio (fair floor time / sending time): {fair_floor / sending:.2f}")
        print(f"queue floor, {n} no-op jobs through the worker's queue: {queue_floor:.1f} s")
        print(f"backlog: ratio (queue floor time / sending time): {queue_floor / sending:.2f}")
        print(f"CPU ms a message ({os.cpu_count()} CPUs), and the seconds for {n}:")
        for label, seconds, cpu in (
            ("fair floor (this process sends)", fair_floor, fair_cpu),
            ("queue floor (this process works)", queue_floor, queue_cpu),
            ("backlog sending (the worker)", sending, sending_cpu),
        ):
            shares = ", ".join(f"{name} {1000 * used / n:.2f}" for name, used in cpu.items())
            print(f"  {label}: {seconds:.1f} s; {shares}; all {1000 * sum(cpu.values()) / n:.2f}")
        figures = {
            "messages": n,
            "concurrency": CONCURRENCY,
            "seconds": {
                "floor_per_connection": floor,
                "fair_floor": fair_floor,
                "queue_floor": queue_floor,
                "live_burst": burst,
                "live_all_sent": drained,
                "backlog_burst": backlog_burst,
                "backlog_all_sent": backlog,
                "backlog_sending": sending,
            },
            "ratios": {
                "floor": floor / sending,
                "fair_floor": fair_floor / sending,
                "queue_floor": queue_floor / sending,
                "live": floor / drained,
            },
            "live_peaks": {"queue_lag_seconds": max_lag, "queue_depth": max_depth},
            "cpu_ms_per_message": {
                label: {name: 1000 * used / n for name, used in cpu.items()}
                for label, cpu in (
                    ("fair_floor", fair_cpu),
                    ("queue_floor", queue_cpu),
                    ("backlog_sending", sending_cpu),
                )
            },
        }
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"mail-burst-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(figures, indent=2))
        print(f"results: {path}")
    finally:
        _stop(worker)
        _stop(smtp)
        await _sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
