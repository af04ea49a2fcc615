"""files (résumés, avatars, logos) and candidates (visibility, search, invitations)

Revision ID: 0004
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A seeker's search document, like the jobs' (0002): headline A > skills B > bio C, kept by a
# trigger so every write path (API, seed COPY, SQL by hand) keeps it right.
_SEARCH_TRIGGER = (
    """
    CREATE FUNCTION users_search_vector_refresh() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('english', coalesce(NEW.headline, '')), 'A')
            || setweight(to_tsvector('english', array_to_string(NEW.skills, ' ')), 'B')
            || setweight(to_tsvector('english', coalesce(NEW.bio, '')), 'C');
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER users_search_vector
    BEFORE INSERT OR UPDATE OF headline, skills, bio ON users
    FOR EACH ROW EXECUTE FUNCTION users_search_vector_refresh()
    """,
)


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "purpose IN ('resume', 'avatar', 'company_logo')", name=op.f("ck_files_purpose")
        ),
        sa.CheckConstraint("status IN ('pending', 'ready')", name=op.f("ck_files_status")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_files_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_files_storage_key")),
    )
    op.create_index("ix_files_owner_id_status", "files", ["owner_id", "status"], unique=False)
    op.create_index(
        "ix_files_pending_expires_at",
        "files",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.add_column("users", sa.Column("resume_file_id", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("avatar_file_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "visibility", sa.String(length=10), server_default=sa.text("'hidden'"), nullable=False
        ),
    )
    op.add_column("users", sa.Column("search_vector", postgresql.TSVECTOR(), nullable=True))
    op.create_foreign_key(
        op.f("fk_users_resume_file_id_files"),
        "users",
        "files",
        ["resume_file_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_users_avatar_file_id_files"),
        "users",
        "files",
        ["avatar_file_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_check_constraint(
        op.f("ck_users_visibility"), "users", "visibility IN ('public', 'employers', 'hidden')"
    )
    for statement in _SEARCH_TRIGGER:
        op.execute(statement)
    op.execute("UPDATE users SET headline = headline")  # fill the vector of existing rows
    op.create_index(
        "ix_users_search_vector", "users", ["search_vector"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_users_findable",
        "users",
        ["id"],
        unique=False,
        postgresql_where=sa.text(
            "role = 'job_seeker' AND visibility <> 'hidden' AND deleted_at IS NULL"
        ),
    )

    op.add_column("companies", sa.Column("logo_file_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_companies_logo_file_id_files"),
        "companies",
        "files",
        ["logo_file_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.add_column("applications", sa.Column("resume_file_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_applications_resume_file_id_files"),
        "applications",
        "files",
        ["resume_file_id"],
        ["id"],
        ondelete="SET NULL",
    )

    op.create_table(
        "invitations",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id", sa.BigInteger(), nullable=False),
        sa.Column("employer_id", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["users.id"],
            name=op.f("fk_invitations_candidate_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["users.id"],
            name=op.f("fk_invitations_employer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_invitations_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("job_id", "candidate_id", name="uq_invitations_job_id_candidate_id"),
    )
    op.create_index(
        op.f("ix_invitations_candidate_id"), "invitations", ["candidate_id"], unique=False
    )
    op.create_index(
        op.f("ix_invitations_employer_id"), "invitations", ["employer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_invitations_employer_id"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_candidate_id"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_constraint(
        op.f("fk_applications_resume_file_id_files"), "applications", type_="foreignkey"
    )
    op.drop_column("applications", "resume_file_id")
    op.drop_constraint(op.f("fk_companies_logo_file_id_files"), "companies", type_="foreignkey")
    op.drop_column("companies", "logo_file_id")
    op.drop_index("ix_users_findable", table_name="users")
    op.drop_index("ix_users_search_vector", table_name="users", postgresql_using="gin")
    op.execute("DROP TRIGGER IF EXISTS users_search_vector ON users")
    op.execute("DROP FUNCTION IF EXISTS users_search_vector_refresh()")
    op.drop_constraint(op.f("ck_users_visibility"), "users", type_="check")
    op.drop_constraint(op.f("fk_users_avatar_file_id_files"), "users", type_="foreignkey")
    op.drop_constraint(op.f("fk_users_resume_file_id_files"), "users", type_="foreignkey")
    op.drop_column("users", "search_vector")
    op.drop_column("users", "visibility")
    op.drop_column("users", "avatar_file_id")
    op.drop_column("users", "resume_file_id")
    op.drop_index(
        "ix_files_pending_expires_at",
        table_name="files",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_files_owner_id_status", table_name="files")
    op.drop_table("files")
