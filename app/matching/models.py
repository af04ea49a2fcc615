from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, PrimaryKeyConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base
from app.identity.models import User


class JobDismissal(Base):
    """A seeker said "not for me" to a job: it stays out of their matches. Goes with either."""

    __tablename__ = "job_dismissals"
    __table_args__ = (PrimaryKeyConstraint("user_id", "job_id"),)

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # Indexed for the cascade when a job is deleted for good.
    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


# The seekers a job can be matched with (candidate search's findable, and open to work), their
# rule as an index predicate: migration 0012. Declared here, on the users table, since only
# matching reads them.
_users = User.__table__
MATCHABLE = text(
    "role = 'job_seeker' AND visibility <> 'hidden' AND deleted_at IS NULL AND is_active"
    " AND suspended_at IS NULL AND open_to_work"
)
# The lowered skills (skill_keys, migration 0011): a job's candidates start from the seekers
# sharing one of its skills.
Index(
    "ix_users_matchable_skill_keys",
    func.skill_keys(_users.c.skills),
    postgresql_using="gin",
    postgresql_where=MATCHABLE,
)
# Then those on the job's island, who outrank the rest of those sharing no skill.
Index("ix_users_matchable_island", _users.c.island, postgresql_where=MATCHABLE)
# How many seekers can be matched (the skills' rarity, every page), from the index only.
Index("ix_users_matchable", _users.c.id, postgresql_where=MATCHABLE)
