from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin


class JobAlert(IdMixin, Base):
    """A saved search (the filters and q of GET /api/jobs) the worker runs for its owner."""

    __tablename__ = "job_alerts"
    __table_args__ = (CheckConstraint("frequency IN ('instant', 'daily')", name="frequency"),)

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    frequency: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # Jobs published after this are new to the alert.
    checked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class JobAlertMatch(Base):
    """A job an alert has mailed: the primary key is what makes it once per alert."""

    __tablename__ = "job_alert_matches"

    alert_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("job_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
