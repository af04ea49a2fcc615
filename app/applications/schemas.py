from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from app.applications.models import ApplicationStatus
from app.core.fields import Text, WebUrl
from app.files.schemas import FileId, FileRead
from app.jobs.models import DisplayStatus
from app.jobs.schemas import JobSummary

CoverLetter = Annotated[str, Text(10_000)]
Note = Annotated[str, Text(2_000)]


class ApplicationCreate(BaseModel):
    """Without resume_file_id, the profile's résumé file is sent (and kept with the
    application as it is then); without resume_url, the profile's résumé link."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "cover_letter": "Five years at the front desk of a Paradise Island hotel.",
                    "resume_file_id": 12,
                }
            ]
        },
    )

    cover_letter: CoverLetter | None = None
    resume_url: WebUrl | None = None
    resume_file_id: FileId | None = None


class StatusChangeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "shortlisted", "note": "Strong references."}]},
    )

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
    # The résumé file sent with it, with a short-lived download link: for the applicant and
    # the job's owner, through this application only.
    resume: FileRead | None
    history: list[StatusChangeRead]


class EmployerJob(JobSummary):
    application_count: int
    unreviewed_count: int
