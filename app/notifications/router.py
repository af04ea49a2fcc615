"""/api/notifications: the caller's own notifications (anyone else's is a 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, status

from app.core.db import DatabaseDep, SessionDep
from app.core.errors import NotFound, Unauthorized, error_responses
from app.core.ids import IdPath
from app.core.pagination import Page, PageDep
from app.core.routing import Router
from app.identity.deps import CurrentUser
from app.notifications import service
from app.notifications.models import Notification
from app.notifications.schemas import NotificationRead, UnreadCount

router = Router(tags=["notifications"], responses=error_responses(Unauthorized))

NotificationPage = Page[NotificationRead]


@router.get("", summary="Your notifications, newest first", response_model=Page[NotificationRead])
async def list_notifications(
    page: PageDep,
    user: CurrentUser,
    database: DatabaseDep,
    unread_only: Annotated[bool, Query()] = False,
) -> Page[NotificationRead]:
    rows, cursor = await service.list_notifications(
        database.rows, user.id, page, unread_only=unread_only
    )
    # The page validated in one call from the rows' mappings, not a model built per row.
    items = [row._mapping for row in rows]
    return NotificationPage.model_validate({"items": items, "next_cursor": cursor})


@router.get(
    "/unread-count", summary="How many of your notifications are unread", response_model=UnreadCount
)
async def unread_count(user: CurrentUser, session: SessionDep) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, user.id))


@router.post(
    "/{notification_id}/read",
    summary="Mark one notification read",
    response_model=NotificationRead,
    responses=error_responses(NotFound),
)
async def mark_read(
    notification_id: IdPath, user: CurrentUser, session: SessionDep
) -> Notification:
    return await service.mark_read(session, user.id, notification_id)


@router.post(
    "/read-all", summary="Mark all your notifications read", status_code=status.HTTP_204_NO_CONTENT
)
async def mark_all_read(user: CurrentUser, session: SessionDep) -> None:
    await service.mark_all_read(session, user.id)
