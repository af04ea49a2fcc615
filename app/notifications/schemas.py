from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.notifications.models import NotificationKind


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind
    title: str
    body: str | None
    job_id: int | None
    application_id: int | None
    read_at: datetime | None
    created_at: datetime


class UnreadCount(BaseModel):
    unread: int
