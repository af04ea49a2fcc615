from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin


class TargetType(StrEnum):
    JOB = "job"
    COMPANY = "company"
    USER = "user"
    MESSAGE = "message"


class ReportReason(StrEnum):
    SPAM = "spam"
    SCAM = "scam"
    MISLEADING = "misleading"
    DISCRIMINATION = "discrimination"
    HARASSMENT = "harassment"
    INAPPROPRIATE = "inappropriate"
    OTHER = "other"


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AuditAction(StrEnum):
    REPORT_RESOLVED = "report_resolved"
    JOB_TAKEN_DOWN = "job_taken_down"
    USER_SUSPENDED = "user_suspended"
    USER_RESTORED = "user_restored"
    COMPANY_VERIFIED = "company_verified"
    # Not an admin's action: the owner changed what was verified (actor: the owner).
    COMPANY_VERIFICATION_CLEARED = "company_verification_cleared"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Report(IdMixin, Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(f"target_type IN ({_values(TargetType)})", name="target_type"),
        CheckConstraint(f"reason IN ({_values(ReportReason)})", name="reason"),
        CheckConstraint(f"status IN ({_values(ReportStatus)})", name="status"),
        CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="resolved_when_closed"),
        # One open report per reporter and target, decided by the database even under races.
        Index(
            "uq_reports_open_per_reporter_target",
            "reporter_id",
            "target_type",
            "target_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_reports_status_id", "status", "id"),
    )

    reporter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    target_type: Mapped[str] = mapped_column(String(20), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(20), nullable=False)
    details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class AuditEntry(IdMixin, Base):
    """One admin action. Append-only: a trigger (migration 0005) refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(f"action IN ({_values(AuditAction)})", name="action"),
        CheckConstraint(f"target_type IN ({_values(TargetType)}, 'report')", name="target_type"),
    )

    actor_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    target_type: Mapped[str] = mapped_column(String(20), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
