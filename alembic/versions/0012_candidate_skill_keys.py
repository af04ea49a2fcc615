"""matching: the skills of the seekers an employer may be matched with (findable and open to
work), lowered, in a GIN index, so a job's candidates start from the seekers sharing a skill
instead of scoring every one, then those on the job's island; and their count (the skills'
rarity) from an index only

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Candidate search's rule of who can be found (app/candidates/service.py), and open to work.
MATCHABLE = (
    "role = 'job_seeker' AND visibility <> 'hidden' AND deleted_at IS NULL AND is_active"
    " AND suspended_at IS NULL AND open_to_work"
)


def upgrade() -> None:
    # skill_keys() is migration 0011's.
    op.create_index(
        "ix_users_matchable_skill_keys",
        "users",
        [sa.text("skill_keys(skills)")],
        postgresql_using="gin",
        postgresql_where=sa.text(MATCHABLE),
    )
    op.create_index(
        "ix_users_matchable_island", "users", ["island"], postgresql_where=sa.text(MATCHABLE)
    )
    op.create_index("ix_users_matchable", "users", ["id"], postgresql_where=sa.text(MATCHABLE))


def downgrade() -> None:
    op.drop_index("ix_users_matchable", table_name="users")
    op.drop_index("ix_users_matchable_island", table_name="users")
    op.drop_index("ix_users_matchable_skill_keys", table_name="users")
