"""Real parts for the email tests: an SMTP server process (aiosmtpd), the worker process
(`python -m app worker`), and readers for what arrived."""

from __future__ import annotations

import asyncio
import email
import email.policy
import inspect
import mailbox
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.queue.enqueue import enqueue
from tests.factories import market  # noqa: F401
from tests.server_process import ROOT, free_port, server_env

WAIT = 60.0


class SmtpServer:
    """tests/email/smtp_server.py as a process; `close_after` N (set before `start()`) makes it
    answer 421 and close a connection that has carried N messages."""

    def __init__(self, maildir: Path, log: Path) -> None:
        self.port = free_port()
        self.maildir = maildir
        self.events_path = maildir.with_name("smtp-events.log")
        self.close_after = 0
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.email.smtp_server",
                    str(self.port),
                    str(self.maildir),
                    str(self.events_path),
                    str(self.close_after),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == b"listening"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def events(self, kind: str) -> list[str]:
        """What the server saw of one kind (`ehlo`: one per connection, `rcpt`, `421`,
        `quit`)."""
        if not self.events_path.exists():
            return []
        lines = self.events_path.read_text().splitlines()
        return [line for line in lines if line.split(" ")[0] == kind]

    def raw_messages(self) -> list[bytes]:
        """Every message the server accepted, byte for byte as it arrived."""
        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(self.maildir, create=False)
        return [box.get_bytes(key) for key in sorted(box.keys())]

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for raw in self.raw_messages()
        ]


class Worker:
    """One `python -m app worker` process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "worker"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_started(self) -> None:
        deadline = time.monotonic() + WAIT
        while "worker started" not in self.log() and self.process.poll() is None:
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.1)
        assert self.process.poll() is None, self.log()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(WAIT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT)


async def wait_for(condition: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll until `condition()` is truthy (and return it); fail the test at the deadline. The
    deadline only bounds a hang: nothing here asserts how fast anything was."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {condition}")
        await asyncio.sleep(0.1)


async def run_task(app: FastAPI, task: str) -> None:
    """Run one periodic task now, as the scheduler would at its time, and wait until the
    worker has finished it (Procrastinate deletes a job that succeeded)."""
    database = app.state.services.database
    async with database.session() as session:
        job_id = await enqueue(session, task, timestamp=0)
    stmt = text("SELECT 1 FROM procrastinate_jobs WHERE id = :id")

    async def finished() -> bool:
        async with database.session() as session:
            return (await session.execute(stmt, {"id": job_id})).first() is None

    await wait_for(finished)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def link_token(message: EmailMessage, path: str) -> str:
    found = re.search(rf"/{path}\?token=([A-Za-z0-9_-]+)", body_text(message))
    assert found, body_text(message)
    return found.group(1)


@dataclass(frozen=True)
class Mail:
    """The SMTP server, and workers that send to it."""

    smtp: SmtpServer
    env: dict[str, str]
    start: Callable[[dict[str, str]], Worker]

    def worker(self, **overrides: str | None) -> Worker:
        """A worker with the suite's environment, a None override removing a variable."""
        env = {**self.env, **overrides}
        return self.start({k: v for k, v in env.items() if v is not None})

    def received(
        self, subject: str | None = None, to: str | None = None, *, contains: str = ""
    ) -> list[EmailMessage]:
        """What the SMTP server got, optionally with this exact subject, to this address, or
        with `contains` in the subject."""
        return [
            m
            for m in self.smtp.messages()
            if (subject is None or m["Subject"] == subject)
            and (to is None or m["To"] == to)
            and contains in m["Subject"]
        ]


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path / "maildir", tmp_path / "smtp.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(database_url: str, smtp: SmtpServer) -> dict[str, str]:
    return server_env(
        {
            "DATABASE_URL": database_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "none",
            "SMTP_TIMEOUT": "5",
            "FRONTEND_URL": "https://hiremebahamas.com",
            "WORKER_STALLED_SECONDS": "3",
        }
    )


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Factory: a worker process with the given environment; each is stopped (SIGTERM, which
    must end it with exit code 0, unless the test killed it) when the test ends."""
    workers: list[Worker] = []

    def start(env: dict[str, str]) -> Worker:
        worker = Worker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        worker.wait_started()
        return worker

    yield start
    for worker in workers:
        if worker.process.poll() is None:
            assert worker.terminate() == 0, worker.log()


@pytest.fixture
def mail(smtp: SmtpServer, worker_env: dict[str, str], start_worker: Callable[..., Worker]) -> Mail:
    return Mail(smtp, worker_env, start_worker)
