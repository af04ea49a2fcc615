"""The worker's SMTP connections (app/email/pool.py) against a real aiosmtpd server in this
process (its own thread and loop), counting connections (EHLO) and QUITs at the server."""

from __future__ import annotations

import asyncio
import mailbox
from collections.abc import AsyncIterator, Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from app.core.config import Settings
from app.email.messages import wire_text
from app.email.pool import MessageRefused, SmtpPool
from tests.support.mail import wait_for
from tests.support.server_process import TEST_SECRET, free_port
from tests.support.smtp_server import RecordingMailbox, serve


class Server:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.events_path = tmp_path / "events.log"
        self.maildir = tmp_path / "maildir"
        self.controller: Controller | None = None

    def start(self, close_after: int = 0) -> None:
        handler = RecordingMailbox(self.maildir, self.events_path, close_after)
        self.controller = serve(handler, self.port)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def events(self, kind: str) -> list[str]:
        if not self.events_path.exists():
            return []
        return [e for e in self.events_path.read_text().splitlines() if e.split(" ")[0] == kind]

    def subjects(self) -> list[str]:
        if not self.maildir.exists():
            return []
        return sorted(m["Subject"] for m in mailbox.Maildir(self.maildir, create=False))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
async def make_pool(server: Server) -> AsyncIterator[Callable[..., SmtpPool]]:
    pools: list[SmtpPool] = []

    def make(size: int = 4, **options: float) -> SmtpPool:
        settings = Settings(
            _env_file=None,
            environment="test",
            secret_key=TEST_SECRET,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_tls="none",
            smtp_timeout=5,
        )
        pool = SmtpPool(settings, size, **options)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.aclose()


def message(to: str, subject: str) -> tuple[str, bytes]:
    """(recipient, message) as the outbox stores them."""
    built = EmailMessage()
    built["From"], built["To"], built["Subject"] = "no-reply@hiremebahamas.com", to, subject
    built.set_content(subject)
    return to, wire_text(built, to).encode()


async def test_many_messages_share_a_few_connections(
    server: Server, make_pool: Callable[..., SmtpPool]
) -> None:
    server.start()
    pool = make_pool(size=4)
    await asyncio.gather(*(pool.send(*message(f"e{i}@b.bs", f"m{i:02d}")) for i in range(40)))
    await pool.send(*message("last@b.bs", "m40"))  # after a pause: taken from the pool
    assert server.subjects() == [f"m{i:02d}" for i in range(41)]
    assert 1 <= len(server.events("ehlo")) <= 4
    assert server.events("quit") == []
    await pool.aclose()
    await wait_for(lambda: len(server.events("quit")) == len(server.events("ehlo")))


async def test_a_connection_the_server_closed_is_replaced_without_losing_a_message(
    server: Server, make_pool: Callable[..., SmtpPool]
) -> None:
    server.start(close_after=3)  # a fourth message on a connection gets 421, and it closes
    pool = make_pool(size=1)
    for i in range(10):
        await pool.send(*message(f"e{i}@b.bs", f"m{i}"))  # never raises
    assert server.subjects() == [f"m{i}" for i in range(10)]  # each exactly once
    assert len(server.events("ehlo")) == 4  # 3 + 3 + 3 + 1
    assert len(server.events("421")) == 3
    await pool.aclose()


async def test_a_server_restart_between_messages_costs_no_message(
    server: Server, make_pool: Callable[..., SmtpPool]
) -> None:
    server.start()
    pool = make_pool(size=2)
    await pool.send(*message("a@b.bs", "before"))
    server.stop()  # the pooled connection is now dead
    server.start()
    await pool.send(*message("b@b.bs", "after"))
    assert server.subjects() == ["after", "before"]
    assert len(server.events("ehlo")) == 2
    await pool.aclose()


async def test_a_permanent_refusal_is_not_retried_and_the_connection_stays(
    server: Server, make_pool: Callable[..., SmtpPool]
) -> None:
    server.start()
    pool = make_pool(size=1)
    await pool.send(*message("a@b.bs", "first"))
    with pytest.raises(MessageRefused) as refused:
        await pool.send(*message("refused@b.bs", "never"))
    assert refused.value.code == 550
    assert server.events("rcpt").count("rcpt refused@b.bs") == 1  # asked once, not again
    await pool.send(*message("c@b.bs", "third"))  # on the same connection (RSET after 550)
    assert server.subjects() == ["first", "third"]
    assert len(server.events("ehlo")) == 1
    await pool.aclose()


async def test_a_transient_refusal_is_left_to_the_queue_retries(
    server: Server, make_pool: Callable[..., SmtpPool]
) -> None:
    server.start()
    pool = make_pool(size=1)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await pool.send(*message("busy@b.bs", "later"))
    assert not isinstance(refused.value, MessageRefused)
    assert server.events("rcpt") == ["rcpt busy@b.bs"]
    await pool.aclose()


async def test_idle_connections_are_closed_and_reopened_when_needed(
    server: Server, make_pool: Callable[..., SmtpPool]
) -> None:
    server.start()
    pool = make_pool(size=2, idle_seconds=0.3)
    await pool.send(*message("a@b.bs", "one"))
    await wait_for(lambda: server.events("quit") == ["quit"])  # closed when idle
    await pool.send(*message("b@b.bs", "two"))
    assert len(server.events("ehlo")) == 2
    assert server.subjects() == ["one", "two"]
    await pool.aclose()
