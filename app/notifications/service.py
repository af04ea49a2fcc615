"""Notifications: written in the transaction of the event that causes them, read by their
recipient only."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cursors import Ordering, SortKey
from app.core.db import RowSource
from app.core.errors import NotFound
from app.core.pagination import PagedSelect, PageParams
from app.events.models import EventKind
from app.events.service import record
from app.notifications.messages import Message
from app.notifications.models import Notification, NotificationKind
from app.notifications.schemas import NotificationRead
from app.queue.enqueue import enqueue

# Of the table's columns, as the list's statement is (`_notifications_of`).
_NOTIFICATIONS = Notification.__table__.c
NEWEST_FIRST = Ordering("notifications:newest", (SortKey(_NOTIFICATIONS.id, int),))


# The notifications that are also emailed, by the email preference that governs each.
EMAILED_KINDS: dict[str, str] = {
    NotificationKind.APPLICATION_RECEIVED: "new_application",
    NotificationKind.APPLICATION_STATUS_CHANGED: "status_change",
    # Sent once per conversation while it is unread (messages.service notifies only then).
    NotificationKind.NEW_MESSAGE: "messages",
}
NOTIFICATION_EMAIL_TASK = "notifications.email"


async def notify(
    session: AsyncSession,
    user_id: int,
    message: Message,
    *,
    job_id: int | None = None,
    application_id: int | None = None,
) -> None:
    """Record the notification and, for the kinds that are emailed, queue the worker's job to
    mail it (it checks the recipient's preferences when it runs), in the same transaction."""
    kind, title, body = message
    fields = {
        "kind": kind,
        "title": title,
        "body": body,
        "job_id": job_id,
        "application_id": application_id,
    }
    notification = Notification(user_id=user_id, **fields)
    session.add(notification)
    record(session, user_id, EventKind.NOTIFICATION, fields)
    if kind in EMAILED_KINDS:
        await session.flush()
        await enqueue(session, NOTIFICATION_EMAIL_TASK, notification_id=notification.id)


async def list_notifications(
    rows_of: RowSource, user_id: int, page: PageParams, *, unread_only: bool
) -> tuple[Sequence[Any], str | None]:
    return await _notifications_of(unread_only).fetch(rows_of, page, {"user_id": user_id})


# What a listed notification shows (NotificationRead's fields), read as columns: no ORM object
# is built only to be serialised, and the statement, of the table's columns only, skips the
# ORM's compile and result layers.
_SHOWN = [_NOTIFICATIONS[name] for name in NotificationRead.model_fields]


@functools.cache
def _notifications_of(unread_only: bool) -> PagedSelect:
    """The notifications of `user_id` (a parameter), newest first, as rows of `_SHOWN`; built
    once (PagedSelect)."""
    stmt = select(*_SHOWN).where(_NOTIFICATIONS.user_id == bindparam("user_id"))
    if unread_only:
        stmt = stmt.where(_NOTIFICATIONS.read_at.is_(None))
    return PagedSelect(stmt, NEWEST_FIRST)


async def unread_count(session: AsyncSession, user_id: int) -> int:
    stmt = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return (await session.execute(stmt)).scalar_one()


async def mark_read(session: AsyncSession, user_id: int, notification_id: int) -> Notification:
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = datetime.now(UTC)
        await session.flush()
        await _record_unread(session, user_id)
    return notification


async def _record_unread(session: AsyncSession, user_id: int) -> None:
    counts = {"notifications": await unread_count(session, user_id)}
    record(session, user_id, EventKind.UNREAD, counts)


async def mark_all_read(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=func.now())
    )
    await _record_unread(session, user_id)


def _unread_about(user_id: int, kind: NotificationKind, application_id: int) -> Any:
    return (
        Notification.user_id == user_id,
        Notification.kind == kind,
        Notification.application_id == application_id,
        Notification.read_at.is_(None),
    )


async def has_unread(
    session: AsyncSession, user_id: int, kind: NotificationKind, application_id: int
) -> bool:
    stmt = select(
        select(Notification.id).where(*_unread_about(user_id, kind, application_id)).exists()
    )
    return bool((await session.execute(stmt)).scalar_one())


async def mark_read_about(
    session: AsyncSession, user_id: int, kind: NotificationKind, application_id: int
) -> None:
    await session.execute(
        update(Notification)
        .where(*_unread_about(user_id, kind, application_id))
        .values(read_at=func.now())
    )
