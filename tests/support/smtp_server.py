"""A real SMTP server as its own process: aiosmtpd, storing every message it accepts in a
Maildir. `python -m tests.support.smtp_server PORT MAILDIR [EVENTS [CLOSE_AFTER]]`.

With EVENTS it also writes what it saw there, a line each: `ehlo` (one per connection:
aiosmtplib says EHLO once), `rcpt <address>`, `421`, `quit`. Recipients whose local part starts
with `refused` get a permanent 550, those starting with `busy` a transient 451. With
CLOSE_AFTER N, a connection that has carried N messages answers the next MAIL FROM with 421 and
closes, as servers that cap the messages of a connection do.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


class RecordingMailbox(Mailbox):
    def __init__(self, maildir: Path, events: Path | None = None, close_after: int = 0) -> None:
        super().__init__(maildir)
        self.events = events
        self.close_after = close_after

    def record(self, line: str) -> None:
        if self.events is not None:
            with self.events.open("a") as out:
                out.write(line + "\n")

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.record("ehlo")
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.close_after and getattr(session, "accepted", 0) >= self.close_after:
            self.record("421")
            # After the 421 below is written: the client learns it under a message.
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 Too many messages on this connection, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.record(f"rcpt {address}")
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        if address.startswith("busy"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        status = await super().handle_DATA(server, session, envelope)
        # Counted on the connection's session itself: keyed by id(), a new connection could
        # inherit a closed one's count (ids are reused) and be refused its first message.
        session.accepted = getattr(session, "accepted", 0) + 1
        return status

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.record("quit")
        return "221 Bye"


def serve(handler: RecordingMailbox, port: int) -> Controller:
    # SMTPUTF8 on, as at every big provider: addresses with non-ASCII local parts exist.
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller


def main() -> None:
    port, maildir = int(sys.argv[1]), Path(sys.argv[2])
    events = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    close_after = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    controller = serve(RecordingMailbox(maildir, events, close_after), port)
    print("listening", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
