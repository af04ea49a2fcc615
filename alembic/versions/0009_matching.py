"""matching: a seeker's preferences on the profile (categories, employment types, work modes,
the lowest pay accepted, islands they would move to) and the jobs they dismissed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, length of its values)
_PREFERENCE_LISTS = (
    ("preferred_categories", 40),
    ("preferred_employment_types", 20),
    ("preferred_work_modes", 20),
    ("relocation_islands", 40),
)


def upgrade() -> None:
    for column, length in _PREFERENCE_LISTS:
        op.add_column(
            "users",
            sa.Column(
                column,
                postgresql.ARRAY(sa.String(length=length)),
                server_default=sa.text("'{}'::varchar[]"),
                nullable=False,
            ),
        )
    op.add_column("users", sa.Column("min_pay_amount", sa.Numeric(12, 2), nullable=True))
    op.add_column("users", sa.Column("min_pay_period", sa.String(length=10), nullable=True))
    op.create_check_constraint(
        op.f("ck_users_min_pay"), "users", "(min_pay_amount IS NULL) = (min_pay_period IS NULL)"
    )
    op.create_check_constraint(
        op.f("ck_users_min_pay_period"), "users", "min_pay_period IN ('hour', 'month', 'year')"
    )
    op.create_table(
        "job_dismissals",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_job_dismissals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_dismissals_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "job_id", name=op.f("pk_job_dismissals")),
    )
    op.create_index(op.f("ix_job_dismissals_job_id"), "job_dismissals", ["job_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_dismissals_job_id"), table_name="job_dismissals")
    op.drop_table("job_dismissals")
    op.drop_constraint(op.f("ck_users_min_pay_period"), "users", type_="check")
    op.drop_constraint(op.f("ck_users_min_pay"), "users", type_="check")
    op.drop_column("users", "min_pay_period")
    op.drop_column("users", "min_pay_amount")
    for column, _ in reversed(_PREFERENCE_LISTS):
        op.drop_column("users", column)
