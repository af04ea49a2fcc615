"""Jobs: the lifecycle (draft -> published -> closed, expired by date, soft delete), search over
live jobs, the employer's own list, and saved jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import asyncpg
from sqlalchemy import (
    ColumnElement,
    Interval,
    Row,
    Select,
    String,
    and_,
    bindparam,
    delete,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import REAL, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.applications.models import Application, ApplicationStatus
from app.companies.models import Company
from app.companies.service import can_manage, get_company
from app.core.cache import Cache
from app.core.db import Database
from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from app.core.pagination import (
    Ordering,
    PageParams,
    SortKey,
    keyset_page,
    keyset_params,
    keyset_statement,
    paginate,
)
from app.core.reads import Query
from app.jobs.cache import JOBS_CACHE_NAMESPACE
from app.jobs.models import Job, JobStatus, SavedJob
from app.jobs.schemas import (
    COMPANY_LABEL,
    CompanyBrief,
    JobCreate,
    JobRead,
    JobSearch,
    JobSummary,
    JobUpdate,
)
from app.users.models import Role, User

_NO_SALARY = literal_column("-1")
# Matches the ix_jobs_listed_salary index expression, so the salary sort can use it.
SALARY_KEY = func.coalesce(Job.salary_max, Job.salary_min, _NO_SALARY)

NEWEST = Ordering("jobs:newest", (SortKey(Job.published_at, datetime), SortKey(Job.id, int)))
SALARY = Ordering("jobs:salary", (SortKey(SALARY_KEY, Decimal), SortKey(Job.id, int)))
EMPLOYER_NEWEST = Ordering("jobs:employer", (SortKey(Job.id, int),))
SAVED_NEWEST = Ordering(
    "jobs:saved", (SortKey(SavedJob.created_at, datetime), SortKey(SavedJob.job_id, int))
)


def live_clause() -> ColumnElement[bool]:
    """Published, not deleted, not expired: what search shows and what accepts applications."""
    return and_(
        Job.status == JobStatus.PUBLISHED,
        Job.deleted_at.is_(None),
        or_(Job.expires_at.is_(None), Job.expires_at > func.now()),
    )


def _with_company() -> Select[Any]:
    return select(Job).join(Job.company).options(contains_eager(Job.company))


def is_live(job: Job, now: datetime) -> bool:
    return (
        job.status == JobStatus.PUBLISHED
        and job.deleted_at is None
        and (job.expires_at is None or job.expires_at > now)
    )


def _invalidate_if_listed(cache: Cache, session: AsyncSession, *jobs_were_listed: bool) -> None:
    if any(jobs_were_listed):
        cache.invalidate_on_commit(session, JOBS_CACHE_NAMESPACE)


class EmailNotVerified(Forbidden):
    error_code = "EMAIL_NOT_VERIFIED"
    default_message = (
        "Verify your email address before publishing jobs: follow the link we emailed you, "
        "or ask for a new one at POST /api/auth/verify-email/request. Drafts are allowed."
    )


def _check_may_publish(user: User) -> None:
    """An employer publishes only from a verified address (scam postings start from addresses
    their posters do not own). Admins manage jobs without it."""
    if user.role == Role.EMPLOYER and not user.email_verified:
        raise EmailNotVerified()


async def create_job(session: AsyncSession, cache: Cache, user: User, data: JobCreate) -> Job:
    company = await get_company(session, data.company_id)
    if not can_manage(user, company.owner_id):
        raise Forbidden("Only the company's owner can post its jobs.")
    values = data.model_dump()
    status = values.pop("status")
    job = Job(**values, status=status)
    if status == JobStatus.PUBLISHED:
        _check_may_publish(user)
        job.published_at = datetime.now(UTC)
        cache.invalidate_on_commit(session, JOBS_CACHE_NAMESPACE)
    session.add(job)
    await session.flush()
    return await _reload(session, job.id)


async def _reload(session: AsyncSession, job_id: int) -> Job:
    stmt = _with_company().where(Job.id == job_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one()


async def get_visible_job(
    session: AsyncSession, job_id: int, user: User | None, *, for_update: bool = False
) -> Job:
    """The job if `user` may see it: drafts and deleted jobs only to those who manage them."""
    stmt = _with_company().where(Job.id == job_id)
    if for_update:
        stmt = stmt.with_for_update(of=Job)
    job = (await session.scalars(stmt)).one_or_none()
    if job is None or not _visible(job.status, job.deleted_at, job.company.owner_id, user):
        raise NotFound("No such job.")
    return job


def _visible(status: str, deleted_at: datetime | None, owner_id: int, user: User | None) -> bool:
    """Drafts and deleted jobs are seen only by those who manage them."""
    hidden = status == JobStatus.DRAFT or deleted_at is not None
    return not hidden or (user is not None and can_manage(user, owner_id))


def _shown_columns(model: type[JobSummary]) -> list[ColumnElement[Any]]:
    """What a job schema shows, read straight from the tables for `JobSummary.row_fields`:
    the job's columns it names, `deleted_at` (its displayed status depends on it), and its
    company's, labelled `company.<name>`."""
    job, company = Job.__table__.c, Company.__table__.c
    return [
        *(job[name] for name in model.model_fields if name in job),
        job.deleted_at,
        *(company[name].label(COMPANY_LABEL + name) for name in CompanyBrief.model_fields),
    ]


@cache
def _job_page_query() -> Query:
    owner = Company.owner_id.label(COMPANY_LABEL + "owner_id")
    stmt = select(*_shown_columns(JobRead), owner).select_from(Job).join(Job.company)
    return Query.compile(stmt.where(Job.id == bindparam("job_id")))


async def read_visible_job(database: Database, job_id: int, user: User | None) -> asyncpg.Record:
    """`get_visible_job` for the public job page: the same rule, as one row of the columns
    JobRead shows (no session, no ORM entities)."""
    rows = await database.fetch(_job_page_query(), {"job_id": job_id})
    if not rows:
        raise NotFound("No such job.")
    row = rows[0]
    if not _visible(row["status"], row["deleted_at"], row[COMPANY_LABEL + "owner_id"], user):
        raise NotFound("No such job.")
    return row


async def _managed_job(session: AsyncSession, job_id: int, user: User) -> Job:
    job = await get_visible_job(session, job_id, user, for_update=True)
    if not can_manage(user, job.company.owner_id):
        raise Forbidden("Only the company's owner can change its jobs.")
    if job.deleted_at is not None:
        raise Conflict("This job was deleted.")
    return job


async def publish_job(session: AsyncSession, cache: Cache, user: User, job_id: int) -> Job:
    job = await _managed_job(session, job_id, user)
    now = datetime.now(UTC)
    if job.status != JobStatus.DRAFT:
        raise Conflict(f"Only a draft can be published; this job is {job.display_status(now)}.")
    if job.expires_at is not None and job.expires_at <= now:
        raise Conflict("The job's expiry date has passed; set a new expires_at first.")
    _check_may_publish(user)
    job.status, job.published_at = JobStatus.PUBLISHED, now
    cache.invalidate_on_commit(session, JOBS_CACHE_NAMESPACE)
    await session.flush()
    return await _reload(session, job.id)


async def close_job(session: AsyncSession, cache: Cache, user: User, job_id: int) -> Job:
    job = await _managed_job(session, job_id, user)
    if job.status != JobStatus.PUBLISHED:
        raise Conflict(f"Only a published job can be closed; this job is {job.status}.")
    job.status, job.closed_at = JobStatus.CLOSED, datetime.now(UTC)
    cache.invalidate_on_commit(session, JOBS_CACHE_NAMESPACE)
    await session.flush()
    return await _reload(session, job.id)


async def update_job(
    session: AsyncSession, cache: Cache, user: User, job_id: int, data: JobUpdate
) -> Job:
    job = await _managed_job(session, job_id, user)
    if job.status == JobStatus.CLOSED:
        raise Conflict("A closed job cannot be edited.")
    changes = data.changes()
    low = changes.get("salary_min", job.salary_min)
    high = changes.get("salary_max", job.salary_max)
    if low is not None and high is not None and low > high:
        raise UnprocessableEntity("salary_min must not exceed salary_max.")
    was_listed = job.status == JobStatus.PUBLISHED
    for column, value in changes.items():
        setattr(job, column, value)
    _invalidate_if_listed(cache, session, was_listed)
    await session.flush()
    return await _reload(session, job.id)


async def delete_job(session: AsyncSession, cache: Cache, user: User, job_id: int) -> None:
    """Soft delete: the job leaves every list, its applications stay."""
    job = await get_visible_job(session, job_id, user, for_update=True)
    if not can_manage(user, job.company.owner_id):
        raise Forbidden("Only the company's owner can delete its jobs.")
    if job.deleted_at is None:
        job.deleted_at = datetime.now(UTC)
        _invalidate_if_listed(cache, session, job.status == JobStatus.PUBLISHED)
        await session.flush()


_EQUAL_FILTERS = ("island", "category", "employment_type", "work_mode", "company_id")


def _search_params(search: JobSearch) -> dict[str, Any]:
    """The filters `search` sets, as bind values: their names are the statement's shape."""
    params: dict[str, Any] = {}
    if search.location:
        pattern = search.location.lower().replace("\\", "\\\\").replace("%", r"\%")
        params["location"] = pattern.replace("_", r"\_") + "%"
    for column in _EQUAL_FILTERS:
        value = getattr(search, column)
        if value is not None:
            params[column] = value
    if search.salary_min is not None:
        params["salary_min"] = search.salary_min
    if search.salary_max is not None:
        params["salary_max"] = search.salary_max
    if search.posted_within_days is not None:
        params["posted_within"] = timedelta(days=search.posted_within_days)
    if search.q:
        params["q"] = search.q
    return params


# Bounded: the shapes are finite (filters x sorts x first/later page) but many.
@lru_cache(maxsize=256)
def _search_query(shape: frozenset[str], sort: str, after: bool) -> tuple[Query, Ordering]:
    """The search statement for one shape (which filters are set, the sort, whether a cursor
    is given), compiled once; every value is a bind parameter named as in _search_params."""
    stmt = (
        select(*_shown_columns(JobSummary)).select_from(Job).join(Job.company).where(live_clause())
    )
    if "location" in shape:
        stmt = stmt.where(func.lower(Job.location).like(bindparam("location"), escape="\\"))
    for column in _EQUAL_FILTERS:
        if column in shape:
            stmt = stmt.where(getattr(Job, column) == bindparam(column))
    if "salary_min" in shape:
        stmt = stmt.where(func.coalesce(Job.salary_max, Job.salary_min) >= bindparam("salary_min"))
    if "salary_max" in shape:
        stmt = stmt.where(func.coalesce(Job.salary_min, Job.salary_max) <= bindparam("salary_max"))
    if "posted_within" in shape:
        since = func.now() - bindparam("posted_within", type_=Interval)
        stmt = stmt.where(Job.published_at >= since)
    ordering = SALARY if sort == "salary" else NEWEST
    if "q" in shape:
        query = func.websearch_to_tsquery(
            literal_column("'english'::regconfig"), bindparam("q", type_=String)
        )
        stmt = stmt.where(Job.search_vector.bool_op("@@")(query))
        if sort == "relevance":
            rank = func.ts_rank(Job.search_vector, query, type_=REAL)
            ordering = Ordering("jobs:relevance", (SortKey(rank, float), *NEWEST.keys))
    return Query.compile(keyset_statement(stmt, ordering, after=after)), ordering


async def search_jobs(
    database: Database, search: JobSearch, page: PageParams
) -> tuple[Sequence[asyncpg.Record], str | None]:
    """One page of live jobs matching `search`, as rows of the columns JobSummary shows."""
    params = _search_params(search)
    query, ordering = _search_query(
        frozenset(params), search.effective_sort, page.cursor is not None
    )
    params.update(keyset_params(ordering, page))
    return keyset_page(await database.fetch(query, params), ordering, page)


async def list_employer_jobs(
    session: AsyncSession, user: User, page: PageParams
) -> tuple[Sequence[Row[Any]], str | None]:
    """The caller's jobs in every state but deleted, each with its application counts."""
    counts = (
        select(
            Application.job_id,
            func.count().label("total"),
            func.count().filter(Application.status == ApplicationStatus.SUBMITTED).label("new"),
        )
        .group_by(Application.job_id)
        .subquery()
    )
    stmt = (
        _with_company()
        .outerjoin(counts, counts.c.job_id == Job.id)
        .add_columns(func.coalesce(counts.c.total, 0), func.coalesce(counts.c.new, 0))
        .where(Company.owner_id == user.id, Job.deleted_at.is_(None))
    )
    return await paginate(session, stmt, EMPLOYER_NEWEST, page)


async def save_job(session: AsyncSession, user: User, job_id: int) -> None:
    await get_visible_job(session, job_id, user)
    await session.execute(
        insert(SavedJob).values(user_id=user.id, job_id=job_id).on_conflict_do_nothing()
    )


async def unsave_job(session: AsyncSession, user: User, job_id: int) -> None:
    await session.execute(
        delete(SavedJob).where(SavedJob.user_id == user.id, SavedJob.job_id == job_id)
    )


async def list_saved_jobs(
    session: AsyncSession, user: User, page: PageParams
) -> tuple[Sequence[Row[Any]], str | None]:
    """Newest first; jobs closed, expired or deleted since stay listed with that status."""
    stmt = (
        _with_company()
        .join(SavedJob, SavedJob.job_id == Job.id)
        .add_columns(SavedJob.created_at)
        .where(SavedJob.user_id == user.id)
    )
    return await paginate(session, stmt, SAVED_NEWEST, page)
