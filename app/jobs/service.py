"""Jobs: the lifecycle (draft -> published -> closed, expired by date, soft delete), what makes
a job live and visible, the job page, and saved jobs. The search over live jobs is in
`app.jobs.search`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.companies.listing_cache import LISTINGS, job_changed, job_page_namespaces, ttl_until
from app.companies.models import Company
from app.companies.service import can_manage, get_company
from app.core.cache import Cache, cache_key
from app.core.cursors import Ordering, SortKey
from app.core.db import PublicReader
from app.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from app.core.http_cache import PublicReply
from app.core.pagination import PageParams, paginate
from app.identity.caller import Caller
from app.identity.models import Role, User
from app.jobs.models import Job, JobStatus, SavedJob
from app.jobs.schemas import (
    COMPANY_LABEL,
    CompanyBrief,
    JobCreate,
    JobRead,
    JobSummary,
    JobUpdate,
)

# The replies cached here are the bytes the declared response models serialise to.
_JOB = TypeAdapter(JobRead)

SAVED_NEWEST = Ordering(
    "jobs:saved", (SortKey(SavedJob.created_at, datetime), SortKey(SavedJob.job_id, int))
)


def live_clause() -> ColumnElement[bool]:
    """Published, not deleted, not expired, its owner not suspended: what search shows and
    what accepts applications."""
    return and_(
        Job.status == JobStatus.PUBLISHED,
        Job.deleted_at.is_(None),
        Job.owner_suspended.is_(False),
        or_(Job.expires_at.is_(None), Job.expires_at > func.now()),
    )


def with_company() -> Select[Any]:
    return select(Job).join(Job.company).options(contains_eager(Job.company))


@functools.cache
def summary_select(model: type[JobSummary] = JobSummary) -> Select[Any]:
    """Jobs as the rows `model.of_row` reads: the columns it shows, `deleted_at` and the
    company's brief, labelled. Reads that only render use these rather than ORM objects, which
    cost more CPU to load than the query did to run."""
    jobs = Job.__table__.c
    companies = Company.__table__.c
    shown = [jobs[name] for name in model.model_fields if name in jobs]
    brief = [companies[name].label(COMPANY_LABEL + name) for name in CompanyBrief.model_fields]
    return select(*shown, jobs.deleted_at, *brief).join(Company, Company.id == Job.company_id)


@functools.cache
def _public_page_select() -> Select[Any]:
    """The job of id `job_id` as the row of its JobRead, with what decides whether anyone may
    see it (`_hidden`); built once."""
    return (
        summary_select(JobRead)
        .add_columns(Job.owner_suspended)
        .where(Job.id == bindparam("job_id"))
    )


def is_live(job: Job, now: datetime) -> bool:
    return (
        job.status == JobStatus.PUBLISHED
        and job.deleted_at is None
        and not job.owner_suspended
        and (job.expires_at is None or job.expires_at > now)
    )


def _invalidate_if_public(cache: Cache, session: AsyncSession, job: Job) -> None:
    """Call before changing `job`: if anyone can see it (listed, or its page: published or
    closed, not deleted), its cached page, the lists and the stats are invalidated on commit."""
    if job.status != JobStatus.DRAFT and job.deleted_at is None:
        cache.invalidate_on_commit(session, *job_changed(job.id))


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
        cache.invalidate_on_commit(session, LISTINGS)  # no page of it was ever public
    session.add(job)
    await session.flush()
    return await _reload(session, job.id)


async def _reload(session: AsyncSession, job_id: int) -> Job:
    stmt = with_company().where(Job.id == job_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one()


@functools.cache
def _job_by_id(for_update: bool) -> Select[Any]:
    """The job of id `job_id` (a parameter) with its company; built once (see PagedSelect)."""
    stmt = with_company().where(Job.id == bindparam("job_id"))
    return stmt.with_for_update(of=Job) if for_update else stmt


async def get_visible_job(
    session: AsyncSession, job_id: int, user: Caller | None, *, for_update: bool = False
) -> Job:
    """The job if `user` may see it: drafts and deleted jobs only to those who manage them."""
    job = (await session.scalars(_job_by_id(for_update), {"job_id": job_id})).one_or_none()
    if job is None or not _visible(job, user):
        raise NotFound("No such job.")
    return job


def _hidden(job: Job | Row[Any]) -> bool:
    """Drafts, deleted jobs, jobs taken down and those of a suspended owner are seen only by
    those who manage them (a job, or a row with these columns)."""
    return (
        job.status in (JobStatus.DRAFT, JobStatus.TAKEN_DOWN)
        or job.deleted_at is not None
        or bool(job.owner_suspended)
    )


def _visible(job: Job, user: Caller | None) -> bool:
    return not _hidden(job) or (user is not None and can_manage(user, job.company.owner_id))


def job_page_key(job_id: int) -> str:
    return cache_key("job", job_id)


async def job_page(reader: PublicReader, cache: Cache, job_id: int) -> PublicReply:
    """GET /api/jobs/{id} as an anonymous reader sees it, the same for everyone: kept in the
    cache under its own namespace and `jobs` (dropped by a write to this job, or to what every
    job page shows), read as a row on a miss."""
    key = job_page_key(job_id)
    hit = await cache.lookup(job_page_namespaces(job_id), key)
    if hit.value is not None:
        return hit.value
    session = await reader.session()
    row = (await session.execute(_public_page_select(), {"job_id": job_id})).one_or_none()
    if row is None or _hidden(row):
        raise NotFound("No such job.")
    body = _JOB.dump_json(JobRead.of_row(row, datetime.now(UTC)))
    ttl = ttl_until([row.expires_at])
    return await cache.store(job_page_namespaces(job_id), key, body, read=hit, ttl=ttl)


async def managed_job_page(session: AsyncSession, job_id: int, user: Caller) -> bytes:
    """GET /api/jobs/{id} signed in: those who manage the job may see more (its draft), so it
    is read from the database and never cached."""
    job = await get_visible_job(session, job_id, user)
    return _JOB.dump_json(JobRead.of(job, datetime.now(UTC)))


async def _managed_job(session: AsyncSession, job_id: int, user: Caller) -> Job:
    job = await get_visible_job(session, job_id, user, for_update=True)
    if not can_manage(user, job.company.owner_id):
        raise Forbidden("Only the company's owner can change its jobs.")
    if job.deleted_at is not None:
        raise Conflict("This job was deleted.")
    if job.status == JobStatus.TAKEN_DOWN:
        raise Conflict("This job was taken down by a moderator.")
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
    cache.invalidate_on_commit(session, *job_changed(job.id))
    await session.flush()
    return await _reload(session, job.id)


async def close_job(session: AsyncSession, cache: Cache, user: Caller, job_id: int) -> Job:
    job = await _managed_job(session, job_id, user)
    if job.status != JobStatus.PUBLISHED:
        raise Conflict(f"Only a published job can be closed; this job is {job.status}.")
    job.status, job.closed_at = JobStatus.CLOSED, datetime.now(UTC)
    cache.invalidate_on_commit(session, *job_changed(job.id))
    await session.flush()
    return await _reload(session, job.id)


async def update_job(
    session: AsyncSession, cache: Cache, user: Caller, job_id: int, data: JobUpdate
) -> Job:
    job = await _managed_job(session, job_id, user)
    if job.status == JobStatus.CLOSED:
        raise Conflict("A closed job cannot be edited.")
    changes = data.changes()
    low = changes.get("salary_min", job.salary_min)
    high = changes.get("salary_max", job.salary_max)
    if low is not None and high is not None and low > high:
        raise UnprocessableEntity("salary_min must not exceed salary_max.")
    _invalidate_if_public(cache, session, job)
    for column, value in changes.items():
        setattr(job, column, value)
    await session.flush()
    return await _reload(session, job.id)


async def delete_job(session: AsyncSession, cache: Cache, user: Caller, job_id: int) -> None:
    """Soft delete: the job leaves every list, its applications stay."""
    job = await get_visible_job(session, job_id, user, for_update=True)
    if not can_manage(user, job.company.owner_id):
        raise Forbidden("Only the company's owner can delete its jobs.")
    if job.deleted_at is None:
        _invalidate_if_public(cache, session, job)
        job.deleted_at = datetime.now(UTC)
        await session.flush()


async def save_job(session: AsyncSession, user: Caller, job_id: int) -> None:
    await get_visible_job(session, job_id, user)
    await session.execute(
        insert(SavedJob).values(user_id=user.id, job_id=job_id).on_conflict_do_nothing()
    )


async def unsave_job(session: AsyncSession, user: Caller, job_id: int) -> None:
    await session.execute(
        delete(SavedJob).where(SavedJob.user_id == user.id, SavedJob.job_id == job_id)
    )


async def list_saved_jobs(
    session: AsyncSession, user: Caller, page: PageParams
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    """Newest first; jobs closed, expired or deleted since stay listed with that status."""
    stmt = (
        with_company()
        .join(SavedJob, SavedJob.job_id == Job.id)
        .add_columns(SavedJob.created_at)
        .where(SavedJob.user_id == user.id)
    )
    return await paginate(session, stmt, SAVED_NEWEST, page)
