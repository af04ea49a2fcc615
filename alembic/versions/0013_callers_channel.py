"""identity: a committed change to what the caller check reads of an account (its token
version, role, active, deleted and suspended columns, or the row itself) NOTIFYs hmb_callers
with the account's id ('*' when the table is truncated), from the database, so that every
writer (a route, the CLI, an operator's SQL) tells every instance to forget the caller it
checked (app/identity/known_callers.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION hmb_notify_caller() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                PERFORM pg_notify('hmb_callers', '*');
            ELSE
                PERFORM pg_notify('hmb_callers', OLD.id::text);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER users_caller_changed"
        " AFTER UPDATE OF token_version, role, is_active, deleted_at, suspended_at OR DELETE"
        " ON users FOR EACH ROW EXECUTE FUNCTION hmb_notify_caller()"
    )
    op.execute(
        "CREATE TRIGGER users_truncated AFTER TRUNCATE ON users"
        " FOR EACH STATEMENT EXECUTE FUNCTION hmb_notify_caller()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_truncated ON users")
    op.execute("DROP TRIGGER users_caller_changed ON users")
    op.execute("DROP FUNCTION hmb_notify_caller()")
