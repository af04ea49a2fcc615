from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Purpose(StrEnum):
    RESUME = "resume"
    AVATAR = "avatar"
    COMPANY_LOGO = "company_logo"


class FileStatus(StrEnum):
    PENDING = "pending"  # announced by POST /api/uploads, bytes not checked yet
    READY = "ready"  # checked (and, for images, re-encoded) by POST .../complete


class StoredFile(IdMixin, TimestampMixin, Base):
    __tablename__ = "files"
    __table_args__ = (
        CheckConstraint("purpose IN ('resume', 'avatar', 'company_logo')", name="purpose"),
        CheckConstraint("status IN ('pending', 'ready')", name="status"),
        Index("ix_files_owner_id_status", "owner_id", "status"),
        Index(
            "ix_files_pending_expires_at", "expires_at", postgresql_where=text("status = 'pending'")
        ),
    )
    __mapper_args__ = {"eager_defaults": True}

    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    # Declared by the client at POST /api/uploads; replaced by what the bytes are at completion.
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Where the bytes are in the storage backend: random, never derived from user input.
    storage_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    # Until then a pending upload may be completed; after it the cleanup removes it.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
