from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.companies.models import Company
from app.core.models import Base, IdMixin, TimestampMixin


class JobStatus(StrEnum):
    """Stored states. `expired` is derived: published with `expires_at` in the past."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    # By a moderator (POST /api/admin/jobs/{id}/take-down), not the owner: out of every list,
    # shown to its owner as such, and beyond the owner's reach.
    TAKEN_DOWN = "taken_down"


class DisplayStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    EXPIRED = "expired"
    TAKEN_DOWN = "taken_down"


# What the public list and search show: published, not deleted (expiry is checked at query time).
LISTED = text("status = 'published' AND deleted_at IS NULL")


class Job(IdMixin, TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'closed', 'taken_down')", name="status"),
        CheckConstraint(
            "employment_type IN ('full_time', 'part_time', 'contract', 'temporary', 'internship')",
            name="employment_type",
        ),
        CheckConstraint("work_mode IN ('on_site', 'remote', 'hybrid')", name="work_mode"),
        CheckConstraint("salary_period IN ('hour', 'month', 'year')", name="salary_period"),
        CheckConstraint("salary_min >= 0 AND salary_max >= 0", name="salary_non_negative"),
        CheckConstraint("salary_min <= salary_max", name="salary_range"),
        CheckConstraint("salary_currency ~ '^[A-Z]{3}$'", name="salary_currency"),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name="published_at"),
        Index("ix_jobs_search_vector", "search_vector", postgresql_using="gin"),
        # Partial indexes over what the public list shows, one per sort order and for the
        # selective filters.
        Index(
            "ix_jobs_listed_newest",
            text("published_at DESC"),
            text("id DESC"),
            postgresql_where=LISTED,
        ),
        Index(
            "ix_jobs_listed_salary",
            text("COALESCE(salary_max, salary_min, -1) DESC"),
            text("id DESC"),
            postgresql_where=LISTED,
        ),
        Index("ix_jobs_listed_island", "island", postgresql_where=LISTED),
        # The lowered skills (function skill_keys, migration 0011): matching finds the jobs
        # sharing a seeker's skill through it.
        Index(
            "ix_jobs_listed_skill_keys",
            text("skill_keys(skills)"),
            postgresql_using="gin",
            postgresql_where=LISTED,
        ),
        # How many jobs are live (matching's skill rarity, every page), from the index only.
        Index(
            "ix_jobs_unsuspended_expires_at",
            "expires_at",
            postgresql_where=text(
                "status = 'published' AND deleted_at IS NULL AND owner_suspended IS false"
            ),
        ),
        Index("ix_jobs_listed_category", "category", postgresql_where=LISTED),
        Index(
            "ix_jobs_listed_location",
            text("lower(location) varchar_pattern_ops"),
            postgresql_where=LISTED,
        ),
    )

    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(150), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    location: Mapped[str] = mapped_column(String(120), nullable=False)
    island: Mapped[str] = mapped_column(String(40), nullable=False)
    category: Mapped[str] = mapped_column(String(40), nullable=False)
    employment_type: Mapped[str] = mapped_column(String(20), nullable=False)
    work_mode: Mapped[str] = mapped_column(String(20), nullable=False)
    salary_min: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    salary_max: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    salary_currency: Mapped[str] = mapped_column(
        String(3), nullable=False, server_default=text("'BSD'")
    )
    salary_period: Mapped[str] = mapped_column(
        String(10), nullable=False, server_default=text("'year'")
    )
    skills: Mapped[list[str]] = mapped_column(
        ARRAY(String(50)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The company's owner is suspended (app.moderation sets and clears it with the account's
    # suspended_at): the job is hidden like a taken-down one. A copy on the job, so the hot
    # list filters the row it already reads instead of joining the owner's account.
    owner_suspended: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # Maintained by the jobs_search_vector trigger (migration 0002): title A, skills B,
    # company name C, description D. Never written by the application.
    search_vector: Mapped[str | None] = deferred(mapped_column(TSVECTOR))

    company: Mapped[Company] = relationship(lazy="raise")

    def display_status(self, now: datetime) -> DisplayStatus:
        return display_status(self.status, self.deleted_at, self.expires_at, now)


def display_status(
    status: str, deleted_at: datetime | None, expires_at: datetime | None, now: datetime
) -> DisplayStatus:
    """What people see: a deleted job reads as closed, a lapsed one as expired, a job taken
    down as taken down (only its owner and admins see it at all)."""
    if status == JobStatus.TAKEN_DOWN:
        return DisplayStatus.TAKEN_DOWN
    if deleted_at is not None or status == JobStatus.CLOSED:
        return DisplayStatus.CLOSED
    if status == JobStatus.DRAFT:
        return DisplayStatus.DRAFT
    if expires_at is not None and expires_at <= now:
        return DisplayStatus.EXPIRED
    return DisplayStatus.PUBLISHED


class SavedJob(Base):
    __tablename__ = "saved_jobs"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "job_id"),
        Index("ix_saved_jobs_user_id_created_at", "user_id", "created_at", "job_id"),
    )

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
