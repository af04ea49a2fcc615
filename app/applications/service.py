"""Applications: one per seeker per job (a UNIQUE constraint decides races), only on live jobs;
the pipeline moves under a row lock so concurrent changes leave a consistent history; the
applicant and the job's owner are the only readers."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications import pipeline
from app.applications.detail import Detail, get_application
from app.applications.models import Application, ApplicationStatus, ApplicationStatusChange
from app.applications.schemas import ApplicationCreate, StatusChangeRequest
from app.companies.models import Company
from app.core.cursors import Ordering, SortKey
from app.core.db import session_rows
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import PagedSelect, PageParams, paginate
from app.files import references as files
from app.files.models import Purpose
from app.identity.caller import Caller
from app.identity.models import User
from app.jobs.models import Job
from app.jobs.service import get_visible_job, is_live, summary_select
from app.notifications import messages
from app.notifications.service import notify

NEWEST_FIRST = Ordering("applications:newest", (SortKey(Application.id, int),))
_UNIQUE_VIOLATION = "23505"


# An application with its job, company and applicant.
Joined = tuple[Application, Job, Company, User]


def _joined() -> Any:
    return (
        select(Application, Job, Company, User)
        .join(Job, Job.id == Application.job_id)
        .join(Company, Company.id == Job.company_id)
        .join(User, User.id == Application.applicant_id)
    )


async def apply(
    session: AsyncSession, applicant: User, job_id: int, data: ApplicationCreate
) -> Application:
    job = await get_visible_job(session, job_id, applicant)
    if not is_live(job, datetime.now(UTC)):
        raise Conflict("This job is no longer accepting applications.")
    resume_file_id = applicant.resume_file_id
    if data.resume_file_id is not None:
        resume = await files.claim(
            session, applicant.id, data.resume_file_id, Purpose.RESUME, "resume_file_id"
        )
        resume_file_id = resume.id
    application = Application(
        job_id=job.id,
        applicant_id=applicant.id,
        cover_letter=data.cover_letter,
        resume_url=str(data.resume_url) if data.resume_url else applicant.resume_url,
        resume_file_id=resume_file_id,
        status=ApplicationStatus.SUBMITTED,
    )
    session.add(application)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Decided by the database, so two simultaneous requests cannot both get in.
        if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
            raise Conflict("You have already applied for this job.") from None
        raise
    session.add(
        ApplicationStatusChange(
            application_id=application.id,
            to_status=ApplicationStatus.SUBMITTED,
            actor_id=applicant.id,
        )
    )
    await notify(
        session,
        job.company.owner_id,
        messages.application_received(job.title, applicant.full_name),
        job_id=job.id,
        application_id=application.id,
    )
    await session.flush()
    return application


@functools.cache
def _application_by_id(lock: bool) -> Select[Any]:
    """The application of id `application_id` (a parameter), joined; built once (PagedSelect
    says why)."""
    stmt = _joined().where(Application.id == bindparam("application_id"))
    if lock:
        stmt = stmt.with_for_update(of=Application).execution_options(populate_existing=True)
    return stmt


async def _load(session: AsyncSession, application_id: int, *, lock: bool = False) -> Joined:
    params = {"application_id": application_id}
    row = (await session.execute(_application_by_id(lock), params)).one_or_none()
    if row is None:
        raise NotFound("No such application.")
    return tuple(row)


def _is_reader(user: Caller, application: Application, company: Company) -> bool:
    return user.id in (application.applicant_id, company.owner_id)


async def load_for_participant(
    session: AsyncSession, user: Caller, application_id: int, *, lock: bool = False
) -> Joined:
    """The application with its job, company and applicant, if `user` is the applicant or the
    job's owner; to anyone else (an admin included) it does not exist."""
    joined = await _load(session, application_id, lock=lock)
    if not _is_reader(user, joined[0], joined[2]):
        raise NotFound("No such application.")
    return joined


async def change_status(
    session: AsyncSession, user: Caller, application_id: int, data: StatusChangeRequest
) -> Detail:
    # The row lock makes concurrent changes queue: each sees the status the previous one left.
    application, job, company, _ = await load_for_participant(
        session, user, application_id, lock=True
    )
    if user.id != company.owner_id:
        raise Forbidden("Only the job's owner can move an application along the pipeline.")
    current = ApplicationStatus(application.status)
    if not pipeline.employer_may_move(current, data.status):
        raise Conflict(f"An application cannot move from {current} to {data.status}.")
    _record(session, application, data.status, user, data.note)
    await notify(
        session,
        application.applicant_id,
        messages.application_status_changed(job.title, data.status),
        job_id=job.id,
        application_id=application.id,
    )
    await session.flush()
    return await get_application(session_rows(session), user, application_id)


async def withdraw(session: AsyncSession, user: Caller, application_id: int) -> Detail:
    application, job, company, applicant = await load_for_participant(
        session, user, application_id, lock=True
    )
    if user.id != application.applicant_id:
        raise Forbidden("Only the applicant can withdraw an application.")
    if ApplicationStatus(application.status) not in pipeline.WITHDRAWABLE:
        raise Conflict(f"An application that is {application.status} cannot be withdrawn.")
    _record(session, application, ApplicationStatus.WITHDRAWN, user, None)
    await notify(
        session,
        company.owner_id,
        messages.application_withdrawn(job.title, applicant.full_name),
        job_id=job.id,
        application_id=application.id,
    )
    await session.flush()
    return await get_application(session_rows(session), user, application_id)


def _record(
    session: AsyncSession,
    application: Application,
    target: ApplicationStatus,
    actor: Caller,
    note: str | None,
) -> None:
    session.add(
        ApplicationStatusChange(
            application_id=application.id,
            from_status=application.status,
            to_status=target,
            actor_id=actor.id,
            note=note,
        )
    )
    application.status = target
    application.updated_at = datetime.now(UTC)


async def list_for_applicant(
    session: AsyncSession, user: Caller, page: PageParams
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    stmt = _joined().where(Application.applicant_id == user.id)
    return await paginate(session, stmt, NEWEST_FIRST, page)


async def list_for_job(
    session: AsyncSession,
    user: Caller,
    job_id: int,
    page: PageParams,
    status: ApplicationStatus | None,
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    job = await get_visible_job(session, job_id, user)
    if job.company.owner_id != user.id:
        raise Forbidden("Only the job's owner can see its applications.")
    stmt = _joined().where(Application.job_id == job_id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    return await paginate(session, stmt, NEWEST_FIRST, page)


EMPLOYER_NEWEST = Ordering("jobs:employer", (SortKey(Job.id, int),))


async def list_employer_jobs(
    session: AsyncSession, user: Caller, page: PageParams
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    """The caller's jobs in every state but deleted, each with its application counts."""
    return await _employer_jobs().fetch(session_rows(session), page, {"owner_id": user.id})


@functools.cache
def _employer_jobs() -> PagedSelect:
    """The jobs of `owner_id`'s companies (a parameter) with their counts; built once."""
    # Counted per listed job (LATERAL), not grouped over every application on the site and
    # joined afterwards: the page's jobs are all it reads.
    counts = (
        select(
            func.count().label("total"),
            func.count().filter(Application.status == ApplicationStatus.SUBMITTED).label("new"),
        )
        .where(Application.job_id == Job.id)
        .lateral()
    )
    stmt = (
        summary_select()
        .join(counts, true())
        .add_columns(counts.c.total, counts.c.new)
        .where(Company.owner_id == bindparam("owner_id"), Job.deleted_at.is_(None))
    )
    return PagedSelect(stmt, EMPLOYER_NEWEST)
