"""What the companies API reads and writes; every field bounded, unknown fields refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, HttpUrl, StringConstraints

from app.companies.models import CompanySize, Industry
from app.core.fields import NOT_SENT, Line, LongText, Name, UrlLength, WebUrl
from app.files.schemas import FileId
from app.users.islands import Island

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80, pattern=SLUG_PATTERN)
]
CompanyName = Annotated[str, Name(120, min_length=2)]
Website = Annotated[HttpUrl, UrlLength(300)]  # the column is shorter than other URLs'


class CompanyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Conch Bay Resort",
                    "description": "A family-run resort on Cable Beach.",
                    "website": "https://conchbay.example.com",
                    "industry": "tourism_hospitality",
                    "island": "New Providence",
                    "location": "Nassau",
                }
            ]
        },
    )

    name: CompanyName
    slug: Slug | None = None
    description: LongText | None = None
    website: Website | None = None
    industry: Industry | None = None
    size: CompanySize | None = None
    location: Annotated[str, Line(120)] | None = None
    island: Island | None = None
    logo_url: WebUrl | None = None
    # A completed company_logo upload of the caller's: logo_url becomes its public URL.
    logo_file_id: FileId | None = None

    def values(self) -> dict[str, object]:
        return self.model_dump(mode="json")


class CompanyUpdate(BaseModel):
    """PATCH: only the fields sent change; `name` and `slug` cannot be cleared."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"description": "Now hiring for the winter season."}]},
    )

    name: CompanyName = NOT_SENT
    slug: Slug = NOT_SENT
    description: LongText | None = None
    website: Website | None = None
    industry: Industry | None = None
    size: CompanySize | None = None
    location: Annotated[str, Line(120)] | None = None
    island: Island | None = None
    logo_url: WebUrl | None = None
    logo_file_id: FileId | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, mode="json")


class CompanyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    name: str
    slug: str
    description: str | None
    website: str | None
    industry: Industry | None
    size: CompanySize | None
    location: str | None
    island: Island | None
    logo_url: str | None
    logo_file_id: int | None
    verified: bool
    created_at: datetime
    updated_at: datetime
