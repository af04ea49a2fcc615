"""visibility rules: a job whose company's owner is suspended is hidden (a copy of the owner's
state on the job, set from the accounts already suspended), and the audit log records a
company's verification cleared by a change of its name or website

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIONS = (
    "'report_resolved', 'job_taken_down', 'user_suspended', 'user_restored', 'company_verified'"
)


def upgrade() -> None:
    op.add_column(
        "jobs",
        sa.Column("owner_suspended", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.execute(
        "UPDATE jobs SET owner_suspended = true FROM companies, users"
        " WHERE companies.id = jobs.company_id AND users.id = companies.owner_id"
        " AND users.suspended_at IS NOT NULL"
    )
    op.drop_constraint(op.f("ck_audit_log_action"), "audit_log", type_="check")
    op.create_check_constraint(
        op.f("ck_audit_log_action"),
        "audit_log",
        f"action IN ({_ACTIONS}, 'company_verification_cleared')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_audit_log_action"), "audit_log", type_="check")
    # NOT VALID: the log is append-only, so entries of the newer action stay.
    op.execute(
        f"ALTER TABLE audit_log ADD CONSTRAINT ck_audit_log_action CHECK (action IN ({_ACTIONS}))"
        " NOT VALID"
    )
    op.drop_column("jobs", "owner_suspended")
