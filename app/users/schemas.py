"""What the users API reads and writes. Every field has a limit; bodies refuse unknown fields,
so `role`, `is_admin`, `email` or `id` in a profile update is a 422, never obeyed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from app.core.bahamas import Island
from app.core.fields import LongText, Skill, WebUrl, line

FullName = line(120)
Headline = line(160)
Location = line(120)
Bio = LongText
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9][0-9 ().-]{5,30}$"),
]


class ProfileUpdate(BaseModel):
    """PATCH /api/users/me: only the fields sent change; nullable ones may be sent as null."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName = None  # type: ignore[assignment] - null is refused, absence is not
    headline: Headline | None = None
    bio: Bio | None = None
    phone: Phone | None = None
    location: Location | None = None
    island: Island | None = None
    skills: Annotated[list[Skill], Field(max_length=50)] = None  # type: ignore[assignment]
    years_experience: Annotated[int, Field(ge=0, le=70)] | None = None
    resume_url: WebUrl | None = None
    avatar_url: WebUrl | None = None
    open_to_work: bool = None  # type: ignore[assignment]

    @field_validator("skills")
    @classmethod
    def _distinct_skills(cls, skills: list[str]) -> list[str]:
        seen: set[str] = set()
        distinct = []
        for skill in skills:
            if skill.casefold() not in seen:
                seen.add(skill.casefold())
                distinct.append(skill)
        return distinct

    def changes(self) -> dict[str, object]:
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
    last_login_at: datetime | None
    updated_at: datetime
