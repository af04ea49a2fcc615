from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.applications.models import ApplicationStatus
from app.core.fields import WebUrl, text
from app.jobs.models import DisplayStatus
from app.jobs.schemas import JobSummary

CoverLetter = text(10_000)
Note = text(2_000)


class ApplicationCreate(BaseModel):
    """Without resume_url, the applicant's profile résumé is attached."""

    model_config = ConfigDict(extra="forbid")

    cover_letter: CoverLetter | None = None
    resume_url: WebUrl | None = None


class StatusChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ApplicationStatus
    note: Note | None = None


class JobBrief(BaseModel):
    id: int
    title: str
    company_id: int
    company_name: str
    status: DisplayStatus


class ApplicantBrief(BaseModel):
    id: int
    full_name: str
    headline: str | None


class StatusChangeRead(BaseModel):
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    at: datetime
    by_employer: bool
    note: str | None  # the employer's note: shown to the job's owner only


class ApplicationSummary(BaseModel):
    id: int
    job: JobBrief
    applicant: ApplicantBrief
    status: ApplicationStatus
    created_at: datetime
    updated_at: datetime


class ApplicationRead(ApplicationSummary):
    cover_letter: str | None
    resume_url: str | None
    history: list[StatusChangeRead]


class EmployerJob(JobSummary):
    application_count: int
    unreviewed_count: int
