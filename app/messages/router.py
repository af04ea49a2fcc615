"""/api/applications/{id}/messages and /api/conversations: the thread of each application."""

from __future__ import annotations

from fastapi import status

from app.core.db import SessionDep
from app.core.errors import Conflict, NotFound, RateLimited, Unauthorized, error_responses
from app.core.ids import IdPath
from app.core.pagination import Page, PageDep
from app.core.routing import Router
from app.identity.deps import CurrentAccount, CurrentUser
from app.identity.write_limits import WriteAction, write_limit
from app.messages import service
from app.messages.schemas import (
    ConversationJob,
    ConversationPage,
    ConversationParty,
    ConversationRead,
    MessageCreate,
    MessageRead,
    ReadMarker,
)

router = Router(tags=["messages"])


@router.get(
    "/applications/{application_id}/messages",
    summary="An application's messages, newest first",
    response_model=Page[MessageRead],
    responses=error_responses(Unauthorized, NotFound),
)
async def list_messages(
    application_id: IdPath, page: PageDep, user: CurrentUser, session: SessionDep
) -> Page[MessageRead]:
    application, rows, cursor = await service.list_messages(session, user, application_id, page)
    return Page[MessageRead](
        items=[MessageRead.of(row[0], application.applicant_id) for row in rows],
        next_cursor=cursor,
    )


@router.post(
    "/applications/{application_id}/messages",
    summary="Send a message to the other side of an application",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageRead,
    responses=error_responses(Unauthorized, NotFound, Conflict, RateLimited),
    dependencies=[write_limit(WriteAction.MESSAGES)],
)
async def post_message(
    application_id: IdPath, body: MessageCreate, user: CurrentAccount, session: SessionDep
) -> MessageRead:
    message, application = await service.post_message(session, user, application_id, body)
    return MessageRead.of(message, application.applicant_id)


@router.get(
    "/conversations",
    summary="The caller's threads, most recently active first, with unread counts",
    response_model=ConversationPage,
    responses=error_responses(Unauthorized),
)
async def list_conversations(
    page: PageDep, user: CurrentUser, session: SessionDep
) -> ConversationPage:
    rows, cursor = await service.list_conversations(session, user, page)
    items = [
        ConversationRead(
            id=application.id,
            application_status=application.status,
            job=ConversationJob(
                id=job.id, title=job.title, company_id=company.id, company_name=company.name
            ),
            other_party=ConversationParty(id=other.id, full_name=other.full_name),
            last_message=MessageRead.of(last, application.applicant_id),
            unread=unread,
        )
        for application, job, company, other, last, unread, *_ in rows
    ]
    return ConversationPage(
        items=items,
        next_cursor=cursor,
        total_unread=await service.total_unread(session, user.id),
    )


@router.post(
    "/conversations/{conversation_id}/read",
    summary="Mark a thread read up to its newest message",
    response_model=ReadMarker,
    responses=error_responses(Unauthorized, NotFound),
)
async def mark_conversation_read(
    conversation_id: IdPath, user: CurrentUser, session: SessionDep
) -> ReadMarker:
    await service.mark_read(session, user, conversation_id)
    return ReadMarker(
        id=conversation_id, unread=0, total_unread=await service.total_unread(session, user.id)
    )
