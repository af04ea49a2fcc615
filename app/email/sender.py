"""Delivery: SMTP (aiosmtplib) when SMTP_HOST is set; otherwise, outside production, each email
is written as a .eml file under MAIL_DIR for a developer to open."""

from __future__ import annotations

import asyncio
import logging
import re
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from app.core.config import Settings

logger = logging.getLogger("app.email")

# What a retry can fix: the server is down, refuses for now (4xx), or the connection broke.
TRANSIENT_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


def _write_eml(folder: Path, name: str, message: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.eml").resolve()
    path.write_bytes(message.as_bytes())
    return path


async def deliver(settings: Settings, message: EmailMessage, name: str) -> None:
    if settings.smtp_host:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            timeout=settings.smtp_timeout,
        )
        logger.info("email sent", extra={"email": name, "message_id": message["Message-ID"]})
        return
    path = await asyncio.to_thread(_write_eml, Path(settings.mail_dir), name, message)
    logger.info("email written to %s (SMTP_HOST is not set)", path, extra={"email": name})
