"""sign-in addresses: the addresses (as keyed digests) each account signed in from or was
recovered from, which its failed sign-in limit never refuses

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_addresses",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sign_in_addresses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "address_digest", name=op.f("pk_sign_in_addresses")),
    )
    op.create_index(
        op.f("ix_sign_in_addresses_last_seen_at"), "sign_in_addresses", ["last_seen_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_addresses_last_seen_at"), table_name="sign_in_addresses")
    op.drop_table("sign_in_addresses")
