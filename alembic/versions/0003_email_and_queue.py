"""email and queue: Procrastinate's schema, the email outbox, account tokens, verified emails

Procrastinate's schema is the SQL its package ships (procrastinate.schema.SchemaManager), applied
here rather than by `procrastinate schema --apply` at run time. pyproject pins procrastinate
below 4: a Procrastinate upgrade that changes its schema comes with its own migration files,
which go into a new Alembic revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_only

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMAIL_CATEGORIES = ("new_application", "status_change", "messages", "job_alerts")

# Everything Procrastinate's schema creates is named procrastinate_*.
_DROP_PROCRASTINATE = """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', item.signature);
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                AND t.typtype IN ('e', 'c')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
    END LOOP;
END
$$
"""


def _script(sql: str) -> None:
    """Run a multi-statement script as it is (asyncpg's simple-query path, no bind parsing)."""
    driver = op.get_bind().connection.driver_connection
    await_only(driver.execute(sql))


def upgrade() -> None:
    _script(SchemaManager.get_schema())

    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(timezone=True)))
    for category in _EMAIL_CATEGORIES:
        op.add_column(
            "users",
            sa.Column(
                f"email_{category}", sa.Boolean(), server_default=sa.text("true"), nullable=False
            ),
        )
    op.create_table(
        "outbox_emails",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_emails")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_emails_key")),
    )
    op.create_table(
        "account_tokens",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "purpose IN ('password_reset', 'verify_email')",
            name=op.f("ck_account_tokens_purpose"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index(op.f("ix_account_tokens_user_id"), "account_tokens", ["user_id"])
    op.create_table(
        "job_alerts",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "checked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "frequency IN ('instant', 'daily')", name=op.f("ck_job_alerts_frequency")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_job_alerts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_alerts")),
    )
    op.create_index(op.f("ix_job_alerts_user_id"), "job_alerts", ["user_id"])
    op.create_table(
        "job_alert_matches",
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["job_alerts.id"],
            name=op.f("fk_job_alert_matches_alert_id_job_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_job_alert_matches_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "job_id", name=op.f("pk_job_alert_matches")),
    )


def downgrade() -> None:
    op.drop_table("job_alert_matches")
    op.drop_index(op.f("ix_job_alerts_user_id"), table_name="job_alerts")
    op.drop_table("job_alerts")
    op.drop_index(op.f("ix_account_tokens_user_id"), table_name="account_tokens")
    op.drop_table("account_tokens")
    op.drop_table("outbox_emails")
    for category in _EMAIL_CATEGORIES:
        op.drop_column("users", f"email_{category}")
    op.drop_column("users", "email_verified_at")
    _script(_DROP_PROCRASTINATE)
