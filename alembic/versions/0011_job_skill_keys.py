"""matching: the listed jobs' skills, lowered, in a GIN index, so a seeker's matches start from
the jobs sharing a skill instead of scoring every live job; and the live jobs' count (the
skills' rarity) from an index only

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A skill matches whatever its case; an index expression must be IMMUTABLE, which a cast of
    # varchar[] to text[] is not, hence the function. Its body holds a subquery, so the planner
    # never inlines it and a query's `skill_keys(jobs.skills)` meets the index's.
    op.execute(
        "CREATE FUNCTION skill_keys(skills varchar[]) RETURNS text[]"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        " AS $$ SELECT array(SELECT lower(skill) FROM unnest(skills) AS skill) $$"
    )
    op.create_index(
        "ix_jobs_listed_skill_keys",
        "jobs",
        [sa.text("skill_keys(skills)")],
        postgresql_using="gin",
        postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
    )

    # How many jobs are live, every page (the N of a skill's rarity): an index-only scan.
    op.create_index(
        "ix_jobs_unsuspended_expires_at",
        "jobs",
        ["expires_at"],
        postgresql_where=sa.text(
            "status = 'published' AND deleted_at IS NULL AND owner_suspended IS false"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_unsuspended_expires_at", table_name="jobs")
    op.drop_index("ix_jobs_listed_skill_keys", table_name="jobs")
    op.execute("DROP FUNCTION skill_keys(varchar[])")
