from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin

# The channel a trigger on `events` (migration 0005) NOTIFYs with the recipient's id, when the
# transaction that wrote the event commits.
CHANNEL = "hmb_events"


class EventKind(StrEnum):
    NOTIFICATION = "notification"
    MESSAGE = "message"
    UNREAD = "unread"
    # The account's sessions ended (logout-all, password change, suspension, deletion): open
    # streams whose token is no longer valid close.
    SESSION_ENDED = "session_ended"


class Event(IdMixin, Base):
    """What a user's live stream (GET /api/events) carries, kept so that a reconnect with
    Last-Event-ID replays what it missed: ids only increase."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_user_id_id", "user_id", "id"),)

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
