"""Delivery: SMTP (aiosmtplib, over the worker's pool of connections) when SMTP_HOST is set;
otherwise, outside production, each email is written as a .eml file under MAIL_DIR for a
developer to open. Either way the message goes out as the bytes the outbox stored."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from app.core.config import Settings
from app.email.pool import SmtpPool

logger = logging.getLogger("app.email")


def _write_eml(folder: Path, name: str, message: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.eml").resolve()
    path.write_bytes(message)
    return path


class Mailer:
    """The worker's one way out for email. It owns the SMTP connections (one per job the
    worker runs at once, opened when first needed), so `aclose()` at shutdown QUITs them."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool = (
            SmtpPool(settings, size=settings.worker_concurrency) if settings.smtp_host else None
        )

    async def deliver(self, recipient: str, message: bytes, name: str, message_id: str) -> None:
        """Send `message` (a whole RFC 5322 message, as stored in the outbox) to `recipient`."""
        if self._pool is not None:
            await self._pool.send(recipient, message)
            logger.info("email sent", extra={"email": name, "message_id": message_id})
            return
        folder = Path(self._settings.mail_dir)
        path = await asyncio.to_thread(_write_eml, folder, name, message)
        logger.info("email written to %s (SMTP_HOST is not set)", path, extra={"email": name})

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
