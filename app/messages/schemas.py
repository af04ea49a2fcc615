from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.applications.models import ApplicationStatus
from app.core.fields import text
from app.core.pagination import Page
from app.messages.models import MAX_BODY_LENGTH

MessageBody = text(MAX_BODY_LENGTH, min_length=1)


class MessageCreate(BaseModel):
    """Plain text; surrounding whitespace is trimmed, control characters other than newlines
    and tabs are refused."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"body": "Could you come in for an interview on Thursday at 10am?"}]
        },
    )

    body: MessageBody


class MessageRead(BaseModel):
    id: int
    application_id: int
    sender_id: int
    sender: Literal["applicant", "employer"]
    body: str
    created_at: datetime


class ConversationJob(BaseModel):
    id: int
    title: str
    company_id: int
    company_name: str


class ConversationParty(BaseModel):
    id: int
    full_name: str


class ConversationRead(BaseModel):
    """One application's thread as its participant sees it; its id is the application's."""

    id: int
    application_status: ApplicationStatus
    job: ConversationJob
    other_party: ConversationParty
    last_message: MessageRead
    unread: int


class ConversationPage(Page[ConversationRead]):
    total_unread: int


class ReadMarker(BaseModel):
    id: int
    unread: int
    total_unread: int
