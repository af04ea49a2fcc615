from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Invitation(IdMixin, TimestampMixin, Base):
    """An employer asking a findable job seeker to apply to one of its live jobs."""

    __tablename__ = "invitations"
    __table_args__ = (
        # One invitation per candidate per job: asking twice is a 409, decided by the database.
        UniqueConstraint("job_id", "candidate_id", name="uq_invitations_job_id_candidate_id"),
    )

    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
    )
    candidate_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    employer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message: Mapped[str | None] = mapped_column(Text)
