"""The seed's rows: their columns (the order `python -m app seed` COPYs them in), the dataset
that holds them, its sizes, and the seeded accounts' addresses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEED_EMAIL_DOMAIN = "seed.hiremebahamas.bs"

Row = tuple[Any, ...]


def seed_email(role: str, number: int) -> str:
    """employer1@..., seeker1@...: the accounts the seed creates, numbered from 1."""
    return f"{'seeker' if role == 'job_seeker' else role}{number}@{SEED_EMAIL_DOMAIN}"


@dataclass(frozen=True)
class SeedSize:
    companies: int
    jobs: int
    applications: int

    @property
    def employers(self) -> int:
        return max(1, (self.companies * 7 + 9) // 10)

    @property
    def seekers(self) -> int:
        return max(20, self.applications // 8)


@dataclass
class Dataset:
    users: list[Row] = field(default_factory=list)
    companies: list[Row] = field(default_factory=list)
    jobs: list[Row] = field(default_factory=list)
    saved_jobs: list[Row] = field(default_factory=list)
    applications: list[Row] = field(default_factory=list)
    status_changes: list[Row] = field(default_factory=list)
    notifications: list[Row] = field(default_factory=list)


USER_COLUMNS = (
    "id", "email", "password_hash", "full_name", "role", "headline", "location", "island",
    "skills", "years_experience", "open_to_work", "visibility", "created_at", "updated_at",
    "email_verified_at",
)  # fmt: skip
COMPANY_COLUMNS = (
    "id", "owner_id", "name", "slug", "description", "website", "industry", "size", "location",
    "island", "created_at", "updated_at",
)  # fmt: skip
JOB_COLUMNS = (
    "id", "company_id", "title", "description", "location", "island", "category",
    "employment_type", "work_mode", "salary_min", "salary_max", "salary_currency",
    "salary_period", "skills", "status", "published_at", "closed_at", "expires_at",
    "created_at", "updated_at",
)  # fmt: skip
SAVED_JOB_COLUMNS = ("user_id", "job_id", "created_at")
APPLICATION_COLUMNS = (
    "id", "job_id", "applicant_id", "cover_letter", "resume_url", "status", "created_at",
    "updated_at",
)  # fmt: skip
STATUS_CHANGE_COLUMNS = ("application_id", "from_status", "to_status", "actor_id", "created_at")
NOTIFICATION_COLUMNS = (
    "user_id", "kind", "title", "body", "job_id", "application_id", "read_at", "created_at",
)  # fmt: skip
