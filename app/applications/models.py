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
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    REVIEWING = "reviewing"
    SHORTLISTED = "shortlisted"
    INTERVIEWING = "interviewing"
    OFFERED = "offered"
    HIRED = "hired"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in ApplicationStatus)


class Application(IdMixin, TimestampMixin, Base):
    __tablename__ = "applications"
    __table_args__ = (
        # One application per seeker per job, enforced by the database even under races.
        UniqueConstraint("job_id", "applicant_id", name="uq_applications_job_id_applicant_id"),
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status"),
        Index("ix_applications_applicant_id_id", "applicant_id", "id"),
    )

    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="RESTRICT"), nullable=False
    )
    applicant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    cover_letter: Mapped[str | None] = mapped_column(Text)
    resume_url: Mapped[str | None] = mapped_column(String(500))
    # The résumé file it was sent with: kept as it was whatever the profile's résumé becomes.
    resume_file_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("files.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)


class ApplicationStatusChange(IdMixin, Base):
    """One step of an application's history: who moved it, from what, to what, and why."""

    __tablename__ = "application_status_changes"
    __table_args__ = (
        CheckConstraint(f"to_status IN ({_STATUS_VALUES})", name="to_status"),
        Index("ix_application_status_changes_application_id_id", "application_id", "id"),
    )

    application_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
