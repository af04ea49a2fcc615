"""The worker's SMTP connections: a few long-lived aiosmtplib clients, each carrying message
after message, so a burst of email costs one TCP/TLS handshake, EHLO and login per connection
instead of per message.

A connection idle for a second or more is checked with NOOP before it carries a message; one
idle for `idle_seconds` is closed (QUIT), as is every connection when the pool closes. A
connection that breaks under a message (the server closed it, said 421, timed out, an OSError)
is dropped; if it had carried a message before, the message is sent again at once on a fresh
one, ONCE: a server that drops long-lived connections should not cost a message its attempt. A
fresh connection that breaks, or any refusal, is the caller's to retry; a permanent refusal of
the message itself (5xx to MAIL, RCPT or DATA) raises `MessageRefused`, which must not be
retried as if the server might change its mind.

A message is sent as the bytes it was stored as (app/email/messages.py `wire_text`), with the
configured EMAIL_FROM's address as the envelope sender: no parsing or flattening per send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from email.utils import parseaddr

import aiosmtplib

from app.core.config import Settings

logger = logging.getLogger("app.email")

IDLE_SECONDS = 30.0  # an unused connection is closed after this long
PING_AFTER_SECONDS = 1.0  # a connection idle this long is checked with NOOP before use
QUIT_SECONDS = 2.0  # how long closing waits for the server's answer to QUIT


class MessageRefused(Exception):
    """The server refused this message for good (a 5xx to MAIL FROM, RCPT TO or DATA).

    Not an SMTPException or OSError: nothing that retries transient failures catches it."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code


@dataclass
class _Connection:
    client: aiosmtplib.SMTP
    used: int = 0  # messages it has been given
    idle_since: float = field(default_factory=time.monotonic)


def _refusal(exc: BaseException) -> MessageRefused | None:
    """The permanent refusal `exc` is, if it is one."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = min(refused.code for refused in exc.recipients)  # every recipient refused
        reply = "; ".join(refused.message for refused in exc.recipients)
    elif isinstance(
        exc,
        aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError,
    ):
        code, reply = exc.code, exc.message
    else:
        return None
    return MessageRefused(code, reply) if 500 <= code < 600 else None


class SmtpPool:
    """At most `size` connections to the settings' SMTP server, opened on demand."""

    def __init__(
        self, settings: Settings, size: int, *, idle_seconds: float = IDLE_SECONDS
    ) -> None:
        self._settings = settings
        self._sender = parseaddr(settings.email_from)[1]
        self._idle_seconds = idle_seconds
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Connection] = []  # most recently used last
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    async def send(self, recipient: str, message: bytes) -> None:
        async with self._slots:
            connection = await self._checkout()
            reused = connection.used > 0
            try:
                await self._transact(connection, recipient, message)
            except MessageRefused:
                raise
            except Exception as exc:
                if connection.client.is_connected or not reused:
                    raise  # a refusal for now, or a fresh connection failing: the caller's
                logger.info("SMTP connection broke (%r); sending on a new one", exc)
                await self._transact(await self._connect(), recipient, message)

    async def aclose(self) -> None:
        """QUIT every idle connection; one still in use is closed when it comes back."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(connection) for connection in idle))

    async def _checkout(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.client.is_connected:
                continue
            if time.monotonic() - connection.idle_since < PING_AFTER_SECONDS:
                return connection
            try:
                await connection.client.noop()
            except BaseException as exc:
                connection.client.close()
                if isinstance(exc, aiosmtplib.SMTPException | OSError):
                    continue  # the server dropped it: take another
                raise
            return connection
        return await self._connect()

    async def _connect(self) -> _Connection:
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            timeout=s.smtp_timeout,
        )
        await client.connect()
        if self._reaper is None and not self._closed:
            self._reaper = asyncio.create_task(self._reap(), name="smtp-pool-reaper")
        return _Connection(client)

    async def _transact(self, connection: _Connection, recipient: str, message: bytes) -> None:
        """One message on one connection, which goes back to the pool unless it broke (a
        refused message leaves it usable: aiosmtplib sends RSET after a refusal)."""
        connection.used += 1
        # A non-ASCII address travels only under SMTPUTF8 (aiosmtplib refuses it to a server
        # without), and its message has UTF-8 headers: 8-bit, which every SMTPUTF8 server
        # takes (RFC 6531 3.1). Every other stored message is 7-bit and needs no option.
        options = [] if recipient.isascii() else ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            await connection.client.sendmail(
                self._sender, [recipient], message, mail_options=options
            )
        except BaseException as exc:
            refused = isinstance(
                exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused
            )
            if refused and connection.client.is_connected:
                self._checkin(connection)
            else:  # broken, timed out or cancelled mid-command: its state is unknown
                connection.client.close()
            permanent = _refusal(exc)
            if permanent is not None:
                raise permanent from exc
            raise
        self._checkin(connection)

    def _checkin(self, connection: _Connection) -> None:
        if self._closed:  # came back after aclose(): a send cancelled at shutdown
            connection.client.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    async def _reap(self) -> None:
        """Close connections left idle for `idle_seconds`."""
        while True:
            await asyncio.sleep(self._idle_seconds / 2)
            cutoff = time.monotonic() - self._idle_seconds
            stale = [c for c in self._idle if c.idle_since <= cutoff]
            self._idle = [c for c in self._idle if c.idle_since > cutoff]
            await asyncio.gather(*(self._quit(connection) for connection in stale))

    @staticmethod
    async def _quit(connection: _Connection) -> None:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await connection.client.quit(timeout=QUIT_SECONDS)
        connection.client.close()
