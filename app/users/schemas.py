"""What the users API reads and writes. Every field has a limit; bodies refuse unknown fields,
so `role`, `is_admin`, `email` or `id` in a profile update is a 422, never obeyed."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.db import Record
from app.core.fields import (
    NOT_SENT,
    DistinctList,
    Line,
    LongText,
    Name,
    Skill,
    SkillList,
    WebUrl,
)
from app.files.schemas import FileId, FileRead
from app.identity.models import Visibility
from app.users.islands import Island
from app.users.work_terms import EmploymentType, JobCategory, PayAmount, SalaryPeriod, WorkMode


def normalize_email(email: str) -> str:
    """One spelling per account: trimmed, NFC, lower case (also for non-ASCII letters)."""
    return unicodedata.normalize("NFC", email.strip()).lower()


FullName = Annotated[str, Name(120)]
Headline = Annotated[str, Line(160)]
Location = Annotated[str, Line(120)]
Skills = Annotated[list[Skill], SkillList(50)]
Bio = LongText
# Preferences: a handful of choices each, never the same one twice.
Categories = Annotated[list[JobCategory], DistinctList(5)]
EmploymentTypes = Annotated[list[EmploymentType], DistinctList(len(EmploymentType))]
WorkModes = Annotated[list[WorkMode], DistinctList(len(WorkMode))]
Islands = Annotated[list[Island], DistinctList(10)]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9][0-9 ().-]{5,30}$"),
]


class MinPay(BaseModel):
    """The lowest pay a seeker accepts: an amount per hour, month or year (BSD)."""

    model_config = ConfigDict(extra="forbid")

    amount: PayAmount
    period: SalaryPeriod


class MinPayRead(BaseModel):
    """The lowest pay accepted, as shown: the amount a number, as jobs show their salaries."""

    amount: float
    period: SalaryPeriod


class ProfileUpdate(BaseModel):
    """PATCH /api/users/me: only the fields sent change; nullable ones may be sent as null."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "headline": "Front desk supervisor",
                    "island": "New Providence",
                    "skills": ["Customer service", "Opera PMS"],
                    "years_experience": 6,
                    "resume_file_id": 12,
                    "visibility": "employers",
                    "preferred_categories": ["hospitality_tourism"],
                    "preferred_work_modes": ["on_site", "hybrid"],
                    "min_pay": {"amount": 30000, "period": "year"},
                    "relocation_islands": ["Exuma", "Abaco"],
                }
            ]
        },
    )

    full_name: FullName = NOT_SENT
    headline: Headline | None = None
    bio: Bio | None = None
    phone: Phone | None = None
    location: Location | None = None
    island: Island | None = None
    skills: Skills = NOT_SENT
    years_experience: Annotated[int, Field(ge=0, le=70)] | None = None
    resume_url: WebUrl | None = None
    avatar_url: WebUrl | None = None
    # A completed upload of the caller's (POST /api/uploads, purpose resume / avatar). An
    # avatar file sets avatar_url to its public URL; a new avatar_url detaches the file.
    resume_file_id: FileId | None = None
    avatar_file_id: FileId | None = None
    open_to_work: bool = NOT_SENT
    visibility: Visibility = NOT_SENT
    # Preferences, which matching ranks by (an empty list or null: no preference).
    preferred_categories: Categories = NOT_SENT
    preferred_employment_types: EmploymentTypes = NOT_SENT
    preferred_work_modes: WorkModes = NOT_SENT
    min_pay: MinPay | None = None
    relocation_islands: Islands = NOT_SENT

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as column values (`min_pay` as its two columns)."""
        changes = self.model_dump(exclude_unset=True, mode="json")
        if "min_pay" in changes:
            pay = self.min_pay
            changes.pop("min_pay")
            changes["min_pay_amount"] = pay.amount if pay else None
            changes["min_pay_period"] = pay.period.value if pay else None
        return changes


class UserPublic(BaseModel):
    """What anyone signed in may see of another account: never its email or phone."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    role: str
    full_name: str
    headline: str | None
    bio: str | None
    location: str | None
    island: Island | None
    skills: list[str]
    years_experience: int | None
    avatar_url: str | None
    open_to_work: bool
    created_at: datetime


class UserPrivate(UserPublic):
    """The account as its owner sees it."""

    email: str
    email_verified: bool
    phone: str | None
    resume_url: str | None
    avatar_file_id: int | None
    resume: FileRead | None = None  # the résumé file, with a short-lived download link
    visibility: Visibility
    preferred_categories: list[JobCategory]
    preferred_employment_types: list[EmploymentType]
    preferred_work_modes: list[WorkMode]
    min_pay: MinPayRead | None
    relocation_islands: list[Island]
    last_login_at: datetime | None
    updated_at: datetime

    @classmethod
    def of_row(cls, row: Record) -> UserPrivate:
        """From the users table's columns (`CurrentProfile`), as from a `User` (whose
        `email_verified` and `min_pay` are properties of two columns each)."""
        columns = row._mapping
        amount = columns["min_pay_amount"]
        return cls.model_validate(
            {
                **columns,
                "email_verified": columns["email_verified_at"] is not None,
                "min_pay": None
                if amount is None
                else {"amount": amount, "period": columns["min_pay_period"]},
            }
        )
