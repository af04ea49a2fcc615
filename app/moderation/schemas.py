from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.audit.models import AuditAction, TargetType
from app.core.fields import Text
from app.core.ids import MAX_ID
from app.moderation.models import ReportReason, ReportStatus

Details = Annotated[str, Text(2000)]
Reason = Annotated[str, Text(1000, min_length=3)]


class ReportCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "target_type": "job",
                    "target_id": 1,
                    "reason": "scam",
                    "details": "Asks applicants to pay a training fee before the interview.",
                }
            ]
        },
    )

    target_type: TargetType
    target_id: int = Field(ge=1, le=MAX_ID)
    reason: ReportReason
    details: Details | None = None


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reporter_id: int
    target_type: TargetType
    target_id: int
    reason: ReportReason
    details: str | None
    status: ReportStatus
    resolution_note: str | None
    resolved_by_id: int | None
    resolved_at: datetime | None
    created_at: datetime


class ModerationNote(BaseModel):
    """Why: stored in the audit log with the action."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Confirmed scam after three reports."}]},
    )

    reason: Reason


class UserModeration(BaseModel):
    id: int
    suspended: bool
    suspended_at: datetime | None


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor_id: int
    action: AuditAction
    target_type: str
    target_id: int
    reason: str
    request_id: str | None
    created_at: datetime
