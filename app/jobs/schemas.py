"""What the jobs API reads and writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import Row

from app.companies.models import Company
from app.core.fields import NOT_SENT, Currency, Line, Name, SearchText, Skill, SkillList, Text
from app.core.ids import MAX_ID
from app.core.pagination import PageQuery
from app.jobs.models import DisplayStatus, Job, JobStatus, display_status
from app.users.islands import Island
from app.users.work_terms import EmploymentType, JobCategory, PayAmount, SalaryPeriod, WorkMode

COMPANY_LABEL = "company."
MAX_QUERY_LENGTH = 200

Salary = PayAmount
Description = Annotated[str, Text(20_000, min_length=20)]
Skills = Annotated[list[Skill], SkillList(30)]
Title = Annotated[str, Name(150, min_length=3)]
# A year ahead, whatever the day: 366 days reaches the same date next year across a 29 February.
MAX_EXPIRY_AHEAD = timedelta(days=366)


def _in_future(value: datetime) -> datetime:
    now = datetime.now(UTC)
    if value <= now:
        raise PydanticCustomError("expiry_in_past", "must be in the future")
    if value > now + MAX_EXPIRY_AHEAD:
        raise PydanticCustomError("expiry_too_far", "must be at most a year ahead")
    return value


ExpiresAt = Annotated[AwareDatetime, AfterValidator(_in_future)]


def _salary_range(low: Decimal | None, high: Decimal | None) -> None:
    if low is not None and high is not None and low > high:
        raise PydanticCustomError("salary_range", "salary_min must not exceed salary_max")


class JobCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "company_id": 1,
                    "title": "Front Desk Agent",
                    "description": "Welcome guests to our Cable Beach resort and handle "
                    "reservations, check-ins and enquiries.",
                    "location": "Nassau",
                    "island": "New Providence",
                    "category": "hospitality_tourism",
                    "employment_type": "full_time",
                    "salary_min": 28000,
                    "salary_max": 34000,
                    "salary_currency": "BSD",
                    "salary_period": "year",
                    "skills": ["Customer Service", "Opera PMS"],
                    "status": "published",
                }
            ]
        },
    )

    company_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    title: Title
    description: Description
    location: Annotated[str, Line(120)]
    island: Island
    category: JobCategory
    employment_type: EmploymentType
    work_mode: WorkMode = WorkMode.ON_SITE
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    salary_currency: Currency = "BSD"
    salary_period: SalaryPeriod = SalaryPeriod.YEAR
    skills: Skills = []
    expires_at: ExpiresAt | None = None
    status: Literal[JobStatus.DRAFT, JobStatus.PUBLISHED] = JobStatus.DRAFT

    @model_validator(mode="after")
    def _check_salary(self) -> JobCreate:
        _salary_range(self.salary_min, self.salary_max)
        return self


class JobUpdate(BaseModel):
    """PATCH: only the fields sent change. Lifecycle moves have their own endpoints."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"salary_max": 36000, "work_mode": "hybrid"}]},
    )

    title: Title = NOT_SENT
    description: Description = NOT_SENT
    location: Annotated[str, Line(120)] = NOT_SENT
    island: Island = NOT_SENT
    category: JobCategory = NOT_SENT
    employment_type: EmploymentType = NOT_SENT
    work_mode: WorkMode = NOT_SENT
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    salary_currency: Currency = NOT_SENT
    salary_period: SalaryPeriod = NOT_SENT
    skills: Skills = NOT_SENT
    expires_at: ExpiresAt | None = None

    @model_validator(mode="after")
    def _check_salary(self) -> JobUpdate:
        _salary_range(self.salary_min, self.salary_max)
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class JobSearch(BaseModel):
    """GET /api/jobs filters. Salary filters keep jobs whose pay range overlaps the asked one:
    a job paying [min, max] matches salary_min=X when its max (or min, if it states no max) is
    at least X, and salary_max=Y when its min (or max) is at most Y; jobs that state no pay are
    left out whenever a salary filter is given. Amounts compare in the job's own period."""

    q: Annotated[str, SearchText(MAX_QUERY_LENGTH)] | None = None
    location: Annotated[str, Line(120)] | None = None
    island: Island | None = None
    category: JobCategory | None = None
    employment_type: EmploymentType | None = None
    work_mode: WorkMode | None = None
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    company_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    posted_within_days: Annotated[int, Field(ge=1, le=365)] | None = None
    sort: Literal["relevance", "newest", "salary"] | None = None

    @model_validator(mode="after")
    def _check_salary(self) -> JobSearch:
        _salary_range(self.salary_min, self.salary_max)
        return self

    @property
    def effective_sort(self) -> str:
        if self.sort is None:
            return "relevance" if self.q else "newest"
        return "newest" if self.sort == "relevance" and not self.q else self.sort


class JobSearchQuery(PageQuery, JobSearch):
    """GET /api/jobs's query string: the filters and the page."""


class CompanyBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    logo_url: str | None
    verified: bool

    @classmethod
    def of(cls, company: Company) -> CompanyBrief:
        return cls.model_validate(company)


class JobSummary(BaseModel):
    id: int
    company: CompanyBrief
    title: str
    location: str
    island: Island
    category: JobCategory
    employment_type: EmploymentType
    work_mode: WorkMode
    salary_min: float | None
    salary_max: float | None
    salary_currency: str
    salary_period: SalaryPeriod
    skills: list[str]
    status: DisplayStatus
    published_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def _fields(cls, job: Job, now: datetime) -> dict[str, object]:
        """The model's fields read off the job, with its company and its displayed status."""
        values = {name: getattr(job, name) for name in cls.model_fields if hasattr(job, name)}
        values.update(company=CompanyBrief.of(job.company), status=job.display_status(now))
        return values

    @classmethod
    def of(cls, job: Job, now: datetime, **extra: object) -> Self:
        """The model of `job`; `extra` are the fields a subclass adds (validated once)."""
        return cls.model_validate({**cls._fields(job, now), **extra})

    @classmethod
    def of_row(cls, row: Row[*tuple[Any, ...]], now: datetime, **extra: object) -> Self:
        """The model of a row of `app.jobs.service.summary_select()`: the job's columns by
        name, `deleted_at`, and its company's brief labelled `company.<name>`."""
        values = dict(row._mapping)
        company = {name: values.pop(COMPANY_LABEL + name) for name in CompanyBrief.model_fields}
        status = display_status(values["status"], values["deleted_at"], values["expires_at"], now)
        return cls.model_validate({**values, "company": company, "status": status, **extra})


class JobRead(JobSummary):
    description: str
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SavedJobRead(BaseModel):
    saved_at: datetime
    job: JobSummary
