from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from app.applications.models import ApplicationStatus
from app.core.fields import Text
from app.core.pagination import Page
from app.messages.models import MAX_BODY_LENGTH, Message

MessageBody = Annotated[str, Text(MAX_BODY_LENGTH, min_length=1)]


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

    @classmethod
    def of(cls, message: Message, applicant_id: int) -> MessageRead:
        return cls(
            id=message.id,
            application_id=message.application_id,
            sender_id=message.sender_id,
            sender="applicant" if message.sender_id == applicant_id else "employer",
            body=message.body,
            created_at=message.created_at,
        )


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
