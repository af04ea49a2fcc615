"""What the candidates API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.fields import SearchText, Skill, Text
from app.core.ids import MAX_ID
from app.core.pagination import PageQuery
from app.files.schemas import FileRead
from app.identity.models import Visibility
from app.jobs.schemas import MAX_QUERY_LENGTH
from app.users.islands import Island
from app.users.schemas import UserPublic

MAX_SKILL_FILTERS = 10


class CandidateSearch(BaseModel):
    """GET /api/candidates filters: `q` is full-text over headline, skills and bio; every
    skill given must be on the profile (case-insensitive); `min_years` of experience."""

    q: Annotated[str, SearchText(MAX_QUERY_LENGTH)] | None = None
    island: Island | None = None
    skills: Annotated[list[Skill], Field(max_length=MAX_SKILL_FILTERS)] = []
    min_years: Annotated[int, Field(ge=0, le=70)] | None = None


class CandidateSearchQuery(PageQuery, CandidateSearch):
    """GET /api/candidates's query string: the filters and the page."""


class Contact(BaseModel):
    """Only for an employer the candidate applied to."""

    email: str
    phone: str | None
    resume: FileRead | None


class CandidateRead(UserPublic):
    """A findable job seeker's public fields (and, to an employer they applied to, contact)."""

    visibility: Visibility
    contact: Contact | None = None


class InvitationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"job_id": 42, "message": "Your front desk experience fits this role well."}
            ]
        },
    )

    job_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    message: Annotated[str, Text(2_000)] | None = None


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: int
    candidate_id: int
    message: str | None
    created_at: datetime
