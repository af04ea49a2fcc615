"""Trust and safety: reports by any signed-in user about what they can see, and the admin
actions that follow (resolve, take a job down, suspend or restore an account, verify a
company), each written to the append-only audit log in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.service import load_for_participant
from app.audit.models import AuditAction, AuditEntry, TargetType
from app.audit.service import record
from app.auth.sessions import end_sessions
from app.companies.listing_cache import JOBS, job_changed
from app.companies.models import Company
from app.companies.service import get_company
from app.core.cache import Cache
from app.core.cursors import Ordering, SortKey
from app.core.errors import Conflict, NotFound, UnprocessableEntity
from app.core.pagination import PageParams, paginate
from app.identity.caller import Caller
from app.identity.models import Role, User
from app.jobs.models import Job, JobStatus
from app.jobs.service import get_visible_job
from app.messages.models import Message
from app.moderation.models import Report, ReportStatus
from app.moderation.schemas import ReportCreate
from app.users.service import get_visible_user

REPORTS_NEWEST = Ordering("reports:newest", (SortKey(Report.id, int),))
AUDIT_NEWEST = Ordering("audit:newest", (SortKey(AuditEntry.id, int),))
_UNIQUE_VIOLATION = "23505"


async def _check_target(
    session: AsyncSession, user: Caller, kind: TargetType, target_id: int
) -> None:
    """The target exists and the reporter can see it, else 404: a report is no way to learn
    about drafts or other people's conversations."""
    if kind is TargetType.JOB:
        await get_visible_job(session, target_id, user)
    elif kind is TargetType.COMPANY:
        await get_company(session, target_id)
    elif kind is TargetType.USER:
        if target_id == user.id:
            raise UnprocessableEntity("You cannot report yourself.")
        await get_visible_user(session, target_id)
    else:
        message = await session.get(Message, target_id)
        if message is None:
            raise NotFound("No such message.")
        try:
            await load_for_participant(session, user, message.application_id)
        except NotFound:
            raise NotFound("No such message.") from None


async def create_report(session: AsyncSession, user: Caller, data: ReportCreate) -> Report:
    await _check_target(session, user, data.target_type, data.target_id)
    report = Report(
        reporter_id=user.id,
        target_type=data.target_type,
        target_id=data.target_id,
        reason=data.reason,
        details=data.details,
        status=ReportStatus.OPEN,
    )
    session.add(report)
    try:
        await session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
            raise Conflict("You already have an open report about this.") from None
        raise
    await session.refresh(report, ["created_at"])
    return report


async def list_reports(
    session: AsyncSession,
    page: PageParams,
    status: ReportStatus | None,
    target_type: TargetType | None,
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    stmt = select(Report)
    if status is not None:
        stmt = stmt.where(Report.status == status)
    if target_type is not None:
        stmt = stmt.where(Report.target_type == target_type)
    return await paginate(session, stmt, REPORTS_NEWEST, page)


async def resolve_report(session: AsyncSession, admin: Caller, report_id: int, note: str) -> Report:
    report = await session.get(Report, report_id, with_for_update=True)
    if report is None:
        raise NotFound("No such report.")
    if report.status != ReportStatus.OPEN:
        raise Conflict("This report is already resolved.")
    report.status = ReportStatus.RESOLVED
    report.resolution_note = note
    report.resolved_by_id = admin.id
    report.resolved_at = datetime.now(UTC)
    record(session, admin, AuditAction.REPORT_RESOLVED, "report", report.id, note)
    await session.flush()
    return report


async def take_down_job(
    session: AsyncSession, cache: Cache, admin: Caller, job_id: int, reason: str
) -> Job:
    """Unlike the owner's close, the job leaves every list and page but its owner's, who can
    no longer publish, edit or close it."""
    job = await get_visible_job(session, job_id, admin, for_update=True)
    if job.status == JobStatus.TAKEN_DOWN:
        raise Conflict("This job is already taken down.")
    if job.status == JobStatus.DRAFT or job.deleted_at is not None:
        raise Conflict("This job is not public: there is nothing to take down.")
    job.status = JobStatus.TAKEN_DOWN
    cache.invalidate_on_commit(session, *job_changed(job.id))
    record(session, admin, AuditAction.JOB_TAKEN_DOWN, TargetType.JOB, job.id, reason)
    await session.flush()
    return await get_visible_job(session, job_id, admin)


async def _account(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None or user.deleted_at is not None:
        raise NotFound("No such user.")
    return user


async def _hide_jobs(session: AsyncSession, cache: Cache, owner: User, hidden: bool) -> None:
    """Hide (or show again) the jobs of every company `owner` owns, from every list, page and
    application, and drop the cached lists and pages that showed (or left them out)."""
    owned = select(Company.id).where(Company.owner_id == owner.id)
    await session.execute(
        update(Job).where(Job.company_id.in_(owned)).values(owner_suspended=hidden)
    )
    cache.invalidate_on_commit(session, JOBS)


async def suspend_user(
    session: AsyncSession, cache: Cache, admin: Caller, user_id: int, reason: str
) -> User:
    """Sign-in is refused and every session ends at once, on every instance (the token
    version moves on and the refresh tokens are revoked). Others no longer see the account:
    its profile, its candidacy, its jobs."""
    user = await _account(session, user_id)
    if user.role == Role.ADMIN:
        raise Conflict("An admin cannot be suspended.")
    if user.suspended_at is not None:
        raise Conflict("This account is already suspended.")
    user.suspended_at = datetime.now(UTC)
    await end_sessions(session, user)
    await _hide_jobs(session, cache, user, hidden=True)
    record(session, admin, AuditAction.USER_SUSPENDED, TargetType.USER, user.id, reason)
    await session.flush()
    return user


async def restore_user(
    session: AsyncSession, cache: Cache, admin: Caller, user_id: int, reason: str
) -> User:
    user = await _account(session, user_id)
    if user.suspended_at is None:
        raise Conflict("This account is not suspended.")
    user.suspended_at = None
    await _hide_jobs(session, cache, user, hidden=False)
    record(session, admin, AuditAction.USER_RESTORED, TargetType.USER, user.id, reason)
    await session.flush()
    return user


async def verify_company(
    session: AsyncSession, cache: Cache, admin: Caller, company_id: int, reason: str
) -> Company:
    company = await get_company(session, company_id)
    if company.verified:
        raise Conflict("This company is already verified.")
    company.verified = True
    cache.invalidate_on_commit(session, JOBS)  # every page and list of its jobs shows it
    record(session, admin, AuditAction.COMPANY_VERIFIED, TargetType.COMPANY, company.id, reason)
    await session.flush()
    await session.refresh(company)
    return company


async def list_audit(
    session: AsyncSession,
    page: PageParams,
    *,
    action: AuditAction | None,
    actor_id: int | None,
    target_type: str | None,
    target_id: int | None,
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    stmt = select(AuditEntry)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if target_type is not None:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    return await paginate(session, stmt, AUDIT_NEWEST, page)
