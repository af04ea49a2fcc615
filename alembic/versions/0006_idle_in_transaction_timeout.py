"""the server ends a session left idle inside a transaction for 2 minutes

A request or task that stalls while holding a transaction (a bug, a client it waits on) keeps
its pooled connection and its locks until something ends it. PgBouncer's transaction mode
(Neon's pooler) refuses startup parameters and the app sends none, so the limit is a setting of
the database itself, which every new session picks up, whatever pooler it comes through.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Well above any legitimate transaction here: the longest waits on a 30 s statement
# (DB_COMMAND_TIMEOUT) or a 10 s SMTP send, and 2 minutes is also where Gunicorn kills a
# request that has not finished (GUNICORN_TIMEOUT).
IDLE_IN_TRANSACTION_TIMEOUT = "2min"


def _set(value: str | None) -> None:
    # ALTER DATABASE takes no bind parameters and needs the database's own name.
    action = "RESET idle_in_transaction_session_timeout"
    if value is not None:
        action = f"SET idle_in_transaction_session_timeout = ''{value}''"
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER DATABASE %I {action}', current_database()); END $$"
    )


def upgrade() -> None:
    _set(IDLE_IN_TRANSACTION_TIMEOUT)


def downgrade() -> None:
    _set(None)
