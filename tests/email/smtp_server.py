"""A real SMTP server as its own process: aiosmtpd, storing every message it accepts in a
Maildir. `python -m tests.email.smtp_server PORT MAILDIR`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def main() -> None:
    port, maildir = int(sys.argv[1]), Path(sys.argv[2])
    # SMTPUTF8 on, as at every big provider: addresses with non-ASCII local parts exist.
    controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    print("listening", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
