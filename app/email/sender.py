"""Delivery: SMTP (aiosmtplib, over the worker's pool of connections) when SMTP_HOST is set;
otherwise, outside production, each email is written as a .eml file under MAIL_DIR for a
developer to open."""

from __future__ import annotations

import asyncio
import logging
import re
from email.message import EmailMessage
from pathlib import Path

from app.core.config import Settings
from app.email.pool import SmtpPool

logger = logging.getLogger("app.email")


def _write_eml(folder: Path, name: str, message: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.eml").resolve()
    path.write_bytes(message.as_bytes())
    return path


class Mailer:
    """The worker's one way out for email. It owns the SMTP connections (one per job the
    worker runs at once, opened when first needed), so `aclose()` at shutdown QUITs them."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool = (
            SmtpPool(settings, size=settings.worker_concurrency) if settings.smtp_host else None
        )

    async def deliver(self, message: EmailMessage, name: str) -> None:
        if self._pool is not None:
            await self._pool.send(message)
            logger.info("email sent", extra={"email": name, "message_id": message["Message-ID"]})
            return
        folder = Path(self._settings.mail_dir)
        path = await asyncio.to_thread(_write_eml, folder, name, message)
        logger.info("email written to %s (SMTP_HOST is not set)", path, extra={"email": name})

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
