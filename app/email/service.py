"""Queueing emails: an outbox row and its delivery job, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import BadRequest
from app.email.messages import Email, render, wire_text
from app.email.models import OutboxEmail
from app.email.schemas import EmailPreferences
from app.email.unsubscribe import CATEGORIES, read_token
from app.identity.models import User
from app.queue.enqueue import enqueue

SEND_EMAIL_TASK = "email.send"


async def queue_email(session: AsyncSession, settings: Settings, key: str, email: Email) -> bool:
    """Promise `email` once per `key`: False (and nothing queued) if that key was queued
    before, so a retried job or a repeated cause never mails twice."""
    message = render(settings, email)
    outbox_id = await session.scalar(
        insert(OutboxEmail)
        .values(
            key=key,
            recipient=email.to,
            subject=email.subject,
            message_id=message["Message-ID"],
            message=wire_text(message, email.to),
        )
        .on_conflict_do_nothing(index_elements=[OutboxEmail.key])
        .returning(OutboxEmail.id)
    )
    if outbox_id is None:
        return False
    await enqueue(session, SEND_EMAIL_TASK, outbox_id=outbox_id)
    return True


async def already_queued(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(OutboxEmail.id).where(OutboxEmail.key == key)) is not None


class InvalidUnsubscribeLink(BadRequest):
    error_code = "INVALID_TOKEN"
    default_message = "This unsubscribe link is not valid."


def wants(user: User, category: str) -> bool:
    assert category in CATEGORIES
    return bool(getattr(user, f"email_{category}"))


def preferences(user: User) -> EmailPreferences:
    return EmailPreferences(**{category: wants(user, category) for category in CATEGORIES})


def set_preferences(user: User, chosen: EmailPreferences) -> EmailPreferences:
    for category in CATEGORIES:
        setattr(user, f"email_{category}", getattr(chosen, category))
    return preferences(user)


async def unsubscribe(session: AsyncSession, settings: Settings, token: str) -> None:
    """One-click unsubscribe: the signed link names the account and the category."""
    found = read_token(settings, token)
    if found is None:
        raise InvalidUnsubscribeLink()
    user = await session.get(User, found[0])
    if user is not None:  # an account deleted since: nothing left to stop
        setattr(user, f"email_{found[1]}", False)
