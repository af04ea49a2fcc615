"""The append-only audit log: admin actions, and what the service itself undoes because of a
user's change (a verification cleared by a rename)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, enum_values


class TargetType(StrEnum):
    JOB = "job"
    COMPANY = "company"
    USER = "user"
    MESSAGE = "message"


class AuditAction(StrEnum):
    REPORT_RESOLVED = "report_resolved"
    JOB_TAKEN_DOWN = "job_taken_down"
    USER_SUSPENDED = "user_suspended"
    USER_RESTORED = "user_restored"
    COMPANY_VERIFIED = "company_verified"
    # Not an admin's action: the owner changed what was verified (actor: the owner).
    COMPANY_VERIFICATION_CLEARED = "company_verification_cleared"


class AuditEntry(IdMixin, Base):
    """One admin action. Append-only: a trigger (migration 0005) refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(f"action IN ({enum_values(AuditAction)})", name="action"),
        CheckConstraint(
            f"target_type IN ({enum_values(TargetType)}, 'report')", name="target_type"
        ),
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
