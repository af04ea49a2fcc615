"""What the users API reads and writes. Every field has a limit; bodies refuse unknown fields,
so `role`, `is_admin`, `email` or `id` in a profile update is a 422, never obeyed."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.fields import NOT_SENT, Line, LongText, Name, Skill, SkillList, WebUrl
from app.files.schemas import FileId, FileRead
from app.identity.models import Visibility
from app.users.islands import Island


def normalize_email(email: str) -> str:
    """One spelling per account: trimmed, NFC, lower case (also for non-ASCII letters)."""
    return unicodedata.normalize("NFC", email.strip()).lower()


FullName = Annotated[str, Name(120)]
Headline = Annotated[str, Line(160)]
Location = Annotated[str, Line(120)]
Skills = Annotated[list[Skill], SkillList(50)]
Bio = LongText
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9][0-9 ().-]{5,30}$"),
]


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

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as column values."""
        return self.model_dump(exclude_unset=True, mode="json")


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
    last_login_at: datetime | None
    updated_at: datetime
