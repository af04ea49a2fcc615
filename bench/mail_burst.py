"""A burst of applications, each mailing its job's employer, drained by a real worker.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.mail_burst [N]

Makes a throwaway database on DATABASE_URL's server (migrated, seeded with `python -m app
seed`, N job seekers added), starts a real SMTP server (aiosmtpd, discarding what it gets) and
`python -m app worker` against it, sends N applications (default 1,000) through the API in
process, and waits until every notification email is sent. It samples `queue_lag_seconds` and
`queue_jobs{status="todo"}` from the app's own /metrics while the queue drains, and prints them
with the floor: the same N messages sent straight to the same SMTP server with aiosmtplib at the
worker's concurrency, measured in the same run (the machine is shared: read the ratio).
Not a test; nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import asyncpg
import httpx

from app.core.config import Settings
from app.core.db import parse_database_url
from app.core.security import create_access_token
from app.main import create_app

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


async def _floor(port: int, n: int) -> float:
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


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


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
            n,
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
        floor = await _floor(port, n)

        worker_env = {
            **env,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_TLS": "none",
            "WORKER_CONCURRENCY": str(CONCURRENCY),
            "LOG_LEVEL": "WARNING",
        }
        worker = subprocess.Popen([sys.executable, "-m", "app", "worker"], cwd=ROOT, env=worker_env)
        # The burst comes from one client address: the per-client API limit (100 a minute)
        # would stop it after 100; each seeker applies once, within its own limits.
        settings = Settings(
            _env_file=None,
            environment="test",
            secret_key=SECRET,
            database_url=url,
            rate_limit_per_minute=1_000_000,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                gate = asyncio.Semaphore(32)

                async def apply(i: int, seeker: int) -> None:
                    token, _ = create_access_token(
                        settings, user_id=seeker, role="job_seeker", token_version=0
                    )
                    async with gate:
                        r = await client.post(
                            f"/api/jobs/{jobs[i % len(jobs)]}/applications",
                            json={},
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    assert r.status_code == 201, r.text

                started = time.perf_counter()
                await asyncio.gather(*(apply(i, s) for i, s in enumerate(seekers)))
                burst = time.perf_counter() - started
                max_lag = max_depth = 0.0
                while True:
                    text = (await client.get("/metrics")).text
                    max_lag = max(max_lag, _metric(text, "queue_lag_seconds"))
                    max_depth = max(max_depth, _metric(text, 'queue_jobs{status="todo"}'))
                    sent = await _sql(
                        url, "SELECT count(*) AS n FROM outbox_emails WHERE sent_at IS NOT NULL"
                    )
                    if sent[0]["n"] >= n:
                        break
                    await asyncio.sleep(0.5)
                drained = time.perf_counter() - started
        print(f"applications: {n} in {burst:.1f} s ({n / burst:.0f}/s) through the API")
        print(f"all {n} employer emails sent {drained:.1f} s after the burst began")
        print(f"queue depth peak {max_depth:.0f} jobs; queue lag peak {max_lag:.1f} s")
        print(f"floor: {n} messages straight to the same SMTP server in {floor:.1f} s")
        print(f"ratio (floor time / worker drain time): {floor / drained:.2f}")
    finally:
        for process in (worker, smtp):
            if process is not None:
                process.terminate()
                process.wait(60)
        await _sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
