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
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Role(StrEnum):
    JOB_SEEKER = "job_seeker"
    EMPLOYER = "employer"
    ADMIN = "admin"


class Visibility(StrEnum):
    """Who may find a job seeker in `GET /api/candidates`."""

    PUBLIC = "public"
    EMPLOYERS = "employers"
    HIDDEN = "hidden"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('job_seeker', 'employer', 'admin')", name="role"),
        CheckConstraint("years_experience BETWEEN 0 AND 70", name="years_experience"),
        CheckConstraint("visibility IN ('public', 'employers', 'hidden')", name="visibility"),
        CheckConstraint("(min_pay_amount IS NULL) = (min_pay_period IS NULL)", name="min_pay"),
        CheckConstraint("min_pay_period IN ('hour', 'month', 'year')", name="min_pay_period"),
        Index("ix_users_search_vector", "search_vector", postgresql_using="gin"),
        # The candidates search walks only findable seekers, newest first.
        Index(
            "ix_users_findable",
            "id",
            postgresql_where=text(
                "role = 'job_seeker' AND visibility <> 'hidden' AND deleted_at IS NULL"
            ),
        ),
    )
    # Server-set columns (ids, timestamps) come back in the INSERT/UPDATE's RETURNING, so a
    # flushed user can be serialised without another query (and without lazy I/O).
    __mapper_args__ = {"eager_defaults": True}

    # Stored case-folded: emails are case-insensitive, and one address is one account.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    full_name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    # Bumped by logout-all, password change and deletion: access tokens carry the version they
    # were issued under and stop working once it moves on, on every instance at once.
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")

    headline: Mapped[str | None] = mapped_column(String(160))
    bio: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(120))
    island: Mapped[str | None] = mapped_column(String(40))
    skills: Mapped[list[str]] = mapped_column(
        ARRAY(String(50)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    years_experience: Mapped[int | None] = mapped_column(SmallInteger)
    resume_url: Mapped[str | None] = mapped_column(String(500))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    open_to_work: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # Files (app/files) the profile shows; use_alter: files.owner_id refers back to users.
    resume_file_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("files.id", ondelete="SET NULL", use_alter=True)
    )
    avatar_file_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("files.id", ondelete="SET NULL", use_alter=True)
    )
    visibility: Mapped[str] = mapped_column(
        String(10), nullable=False, server_default=text("'hidden'")
    )
    # What the seeker would like, all optional (GET|PATCH /api/users/me), which matching
    # (app/matching) ranks by: values of app.users.work_terms and app.users.islands, each list
    # without repeats; the lowest pay accepted is an amount per hour, month or year.
    preferred_categories: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    preferred_employment_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    preferred_work_modes: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    relocation_islands: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), nullable=False, server_default=text("'{}'::varchar[]")
    )
    min_pay_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    min_pay_period: Mapped[str | None] = mapped_column(String(10))
    # Maintained by the users_search_vector trigger (migration 0004): headline A, skills B,
    # bio C. Never written by the application.
    search_vector: Mapped[str | None] = deferred(mapped_column(TSVECTOR))

    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Which non-security emails the account wants (GET|PUT /api/users/me/email-preferences).
    email_new_application: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
    email_status_change: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
    email_messages: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
    email_job_alerts: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true")
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by an admin (POST /api/admin/users/{id}/suspend): sessions ended, sign-in refused.
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def min_pay(self) -> dict[str, object] | None:
        """The lowest pay accepted, as the profile shows it: {amount, period}, or None."""
        if self.min_pay_amount is None:
            return None
        return {"amount": self.min_pay_amount, "period": self.min_pay_period}
