"""What the users API reads and writes. Every field has a limit; bodies refuse unknown fields,
so `role`, `is_admin`, `email` or `id` in a profile update is a 422, never obeyed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    UrlConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.core.bahamas import Island

# Control characters break logs and PostgreSQL refuses NUL outright; tabs and newlines are
# allowed only in multi-line text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL_EXCEPT_NEWLINES.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value


def line(max_length: int, min_length: int = 1) -> object:
    """A trimmed single line of text between the given lengths."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_single_line),
    ]


FullName = line(120)
Headline = line(160)
Location = line(120)
Bio = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=5000),
    AfterValidator(_multi_line),
]
Skill = line(50)
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9][0-9 ().-]{5,30}$"),
]


def web_url(max_length: int) -> object:
    """An http(s) URL whose stored form fits a column of `max_length` characters."""

    def fits(url: HttpUrl) -> HttpUrl:
        # The column holds the normalised form, which can be longer than what was sent (a
        # trailing slash, percent-encoding, punycode): check the length of what is stored.
        if len(str(url)) > max_length:
            raise ValueError(f"The URL is too long: at most {max_length} characters")
        return url

    return Annotated[HttpUrl, UrlConstraints(max_length=max_length), AfterValidator(fits)]


WebUrl = web_url(500)


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
    phone: str | None
    resume_url: str | None
    last_login_at: datetime | None
    updated_at: datetime
