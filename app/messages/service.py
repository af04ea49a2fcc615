"""Messages: one thread per application between the applicant and the job's owner (to anyone
else, admins included, it does not exist). Writing closes once the application is withdrawn or
rejected; reading never does. A participant's unread messages are the other side's messages
past their read marker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.applications.models import Application, ApplicationStatus
from app.applications.pipeline import MESSAGING_CLOSED
from app.applications.service import load_for_participant
from app.companies.models import Company
from app.core.cursors import Ordering, SortKey
from app.core.errors import Conflict
from app.core.pagination import PageParams, paginate
from app.events.models import EventKind
from app.events.service import record
from app.identity.caller import Caller
from app.identity.models import User
from app.jobs.models import Job
from app.messages.models import ConversationRead, Message
from app.messages.schemas import MessageCreate, MessageRead
from app.notifications import messages as words
from app.notifications.models import NotificationKind
from app.notifications.service import has_unread, mark_read_about, notify, unread_count

NEWEST_FIRST = Ordering("messages:newest", (SortKey(Message.id, int),))


async def post_message(
    session: AsyncSession, user: User, application_id: int, data: MessageCreate
) -> tuple[Message, Application]:
    application, job, company, applicant = await load_for_participant(
        session, user, application_id, lock=True
    )
    if ApplicationStatus(application.status) in MESSAGING_CLOSED:
        raise Conflict(f"This application is {application.status}: its thread is closed.")
    message = Message(application_id=application.id, sender_id=user.id, body=data.body)
    session.add(message)
    recipient = company.owner_id if user.id == applicant.id else applicant.id
    # One notification per thread while it is unread, not one per message.
    if not await has_unread(session, recipient, NotificationKind.NEW_MESSAGE, application.id):
        await notify(
            session,
            recipient,
            words.new_message(job.title, user.full_name),
            job_id=job.id,
            application_id=application.id,
        )
    await session.flush()
    await session.refresh(message, ["created_at"])
    payload = MessageRead.of(message, applicant.id).model_dump(mode="json")
    for participant in (applicant.id, company.owner_id):
        record(session, participant, EventKind.MESSAGE, payload)
    await _record_unread(session, recipient)
    return message, application


async def list_messages(
    session: AsyncSession, user: Caller, application_id: int, page: PageParams
) -> tuple[Application, Sequence[Row[*tuple[Any, ...]]], str | None]:
    application, *_ = await load_for_participant(session, user, application_id)
    stmt = select(Message).where(Message.application_id == application.id)
    rows, cursor = await paginate(session, stmt, NEWEST_FIRST, page)
    return application, rows, cursor


def _participant(user_id: int) -> ColumnElement[bool]:
    return or_(Application.applicant_id == user_id, Company.owner_id == user_id)


def _unread_messages(user_id: int) -> Any:
    """The caller's unread messages, correlated to the Application of the enclosing query."""
    unread = aliased(Message)
    marker = (
        select(ConversationRead.last_read_message_id)
        .where(
            ConversationRead.application_id == Application.id,
            ConversationRead.user_id == user_id,
        )
        .scalar_subquery()
    )
    return select(func.count(unread.id)).where(
        unread.application_id == Application.id,
        unread.sender_id != user_id,
        unread.id > func.coalesce(marker, 0),
    )


def _threads(user_id: int) -> Any:
    """The applications the user takes part in, joined to their job and company."""
    return (
        select(Application)
        .join(Job, Job.id == Application.job_id)
        .join(Company, Company.id == Job.company_id)
        .where(_participant(user_id))
    )


async def total_unread(session: AsyncSession, user_id: int) -> int:
    per_thread = _unread_messages(user_id).correlate(Application).scalar_subquery()
    stmt = _threads(user_id).with_only_columns(func.coalesce(func.sum(per_thread), 0))
    return int((await session.execute(stmt)).scalar_one())


async def list_conversations(
    session: AsyncSession, user: Caller, page: PageParams
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    """Threads with at least one message, the most recently active first. Each row:
    (Application, Job, Company, other party, last Message, unread count, sort key)."""
    last = (
        select(Message.application_id, func.max(Message.id).label("last_id"))
        .group_by(Message.application_id)
        .subquery()
    )
    other = aliased(User)
    unread = _unread_messages(user.id).correlate(Application).scalar_subquery()
    stmt = (
        select(Application, Job, Company, other, Message, unread.label("unread"))
        .join(last, last.c.application_id == Application.id)
        .join(Message, Message.id == last.c.last_id)
        .join(Job, Job.id == Application.job_id)
        .join(Company, Company.id == Job.company_id)
        # The other side: the owner for the applicant, the applicant for the owner.
        .join(
            other,
            other.id
            == func.coalesce(func.nullif(Application.applicant_id, user.id), Company.owner_id),
        )
        .where(_participant(user.id))
    )
    ordering = Ordering("conversations:active", (SortKey(last.c.last_id, int),))
    return await paginate(session, stmt, ordering, page)


async def mark_read(session: AsyncSession, user: Caller, application_id: int) -> None:
    """Move the caller's marker to the thread's newest message (never back) and mark the
    thread's message notifications read."""
    application, *_ = await load_for_participant(session, user, application_id)
    newest = select(func.coalesce(func.max(Message.id), 0)).where(
        Message.application_id == application.id
    )
    newest_id = (await session.execute(newest)).scalar_one()
    stmt = insert(ConversationRead).values(
        application_id=application.id, user_id=user.id, last_read_message_id=newest_id
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[ConversationRead.application_id, ConversationRead.user_id],
        set_={
            "last_read_message_id": func.greatest(
                ConversationRead.last_read_message_id, stmt.excluded.last_read_message_id
            )
        },
    )
    await session.execute(stmt)
    await mark_read_about(session, user.id, NotificationKind.NEW_MESSAGE, application.id)
    await _record_unread(session, user.id)


async def _record_unread(session: AsyncSession, user_id: int) -> None:
    """Tell the user's streams their unread counts (after this transaction's changes)."""
    counts = {
        "messages": await total_unread(session, user_id),
        "notifications": await unread_count(session, user_id),
    }
    record(session, user_id, EventKind.UNREAD, counts)
