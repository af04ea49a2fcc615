"""Job alerts: saved searches, run by the worker with the search of GET /api/jobs itself
(app.jobs.search.find_jobs), each new matching job mailed once per alert."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import JobAlert, JobAlertMatch
from app.alerts.schemas import JobAlertCreate
from app.core.config import Settings
from app.core.cursors import decode_cursor
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams
from app.email.messages import Email
from app.email.service import queue_email, wants
from app.email.unsubscribe import unsubscribe_url
from app.identity.caller import Caller
from app.identity.models import User
from app.jobs.schemas import JobSearch, JobSummary
from app.jobs.search import find_jobs

logger = logging.getLogger("app.alerts")

MAX_ALERTS_PER_USER = 10
# A sweep reads at most this many new jobs per alert; the next sweep takes the rest.
MAX_JOBS_PER_SWEEP = 100
# Each sweep looks this far behind the last one, for jobs whose publishing transaction was
# still open then; the match table keeps them from being mailed twice.
OVERLAP = timedelta(minutes=5)


async def create_alert(session: AsyncSession, user: Caller, data: JobAlertCreate) -> JobAlert:
    # The account row lock makes the count and the insert one step for this user.
    await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    count = await session.scalar(select(func.count()).where(JobAlert.user_id == user.id))
    if (count or 0) >= MAX_ALERTS_PER_USER:
        raise Conflict(f"You can keep at most {MAX_ALERTS_PER_USER} job alerts; delete one first.")
    alert = JobAlert(user_id=user.id, filters=data.filters(), frequency=data.frequency)
    session.add(alert)
    await session.flush()
    await session.refresh(alert)
    return alert


async def list_alerts(session: AsyncSession, user: Caller) -> Sequence[JobAlert]:
    stmt = select(JobAlert).where(JobAlert.user_id == user.id).order_by(JobAlert.id)
    return (await session.scalars(stmt)).all()


async def delete_alert(session: AsyncSession, user: Caller, alert_id: int) -> None:
    # AsyncSession.execute is typed Result; a DELETE's is a CursorResult (rowcount).
    deleted = cast(
        CursorResult[Any],
        await session.execute(
            delete(JobAlert).where(JobAlert.id == alert_id, JobAlert.user_id == user.id)
        ),
    )
    if deleted.rowcount == 0:
        raise NotFound("No such job alert.")


async def _new_jobs(session: AsyncSession, alert: JobAlert) -> list[JobSummary]:
    """The live jobs matching the alert published since it last looked, newest first."""
    search = JobSearch.model_validate({**alert.filters, "sort": "newest"})
    found: list[JobSummary] = []
    cursor: str | None = None
    while len(found) < MAX_JOBS_PER_SWEEP:
        after = decode_cursor(cursor) if cursor else None
        page = PageParams(limit=50, cursor=cursor, after=after)
        rows, cursor = await find_jobs(session, search, page)
        fresh = [
            job
            for job in rows
            if job.published_at is not None and job.published_at > alert.checked_at - OVERLAP
        ]
        found.extend(fresh)
        if cursor is None or len(fresh) < len(rows):
            break
    return found[:MAX_JOBS_PER_SWEEP]


def _describe(job: JobSummary, settings: Settings) -> str:
    link = f"{settings.link_base}/jobs/{job.id}"
    return f"{job.title}, {job.company.name} ({job.location})\n{link}"


async def sweep(session: AsyncSession, settings: Settings, frequency: str) -> int:
    """Run every alert of this frequency; mail each the jobs it has not mailed before (one
    email per job for instant alerts, one digest for daily ones). Returns the jobs mailed."""
    now = datetime.now(UTC)
    alerts = (
        await session.execute(
            select(JobAlert, User)
            .join(User, User.id == JobAlert.user_id)
            .where(
                JobAlert.frequency == frequency,
                User.is_active,
                User.deleted_at.is_(None),
                User.suspended_at.is_(None),
            )
            .order_by(JobAlert.id)
            .with_for_update(of=JobAlert, skip_locked=True)
        )
    ).all()
    mailed = 0
    for alert, user in alerts:
        alert_id = alert.id  # a failed savepoint expires the alert's attributes
        try:
            # Each alert on its own savepoint: one that cannot run (a search saved before the
            # rules that now refuse it) is logged and skipped, and the others are mailed.
            async with session.begin_nested():
                mailed += await _run_alert(session, settings, frequency, alert, user, now)
        except Exception:
            logger.exception("Job alert %d failed; skipped this sweep", alert_id)
    return mailed


async def _run_alert(
    session: AsyncSession,
    settings: Settings,
    frequency: str,
    alert: JobAlert,
    user: User,
    now: datetime,
) -> int:
    """Mail `alert` the jobs it has not mailed before; return how many."""
    rows = await _new_jobs(session, alert) if wants(user, "job_alerts") else []
    alert.checked_at = now
    if not rows:
        return 0
    inserted = await session.scalars(
        insert(JobAlertMatch)
        .values([{"alert_id": alert.id, "job_id": job.id} for job in rows])
        .on_conflict_do_nothing()
        .returning(JobAlertMatch.job_id)
    )
    new_ids = set(inserted.all())
    new_rows = [job for job in rows if job.id in new_ids]
    unsubscribe = unsubscribe_url(settings, user.id, "job_alerts")
    greeting = f"Hello {user.full_name},\n\n"
    if frequency == "instant":
        for job in new_rows:
            text = greeting + "A new job matches your alert:\n\n" + _describe(job, settings)
            subject = f"New job: {job.title}"
            await queue_email(
                session,
                settings,
                f"alert:{alert.id}:job:{job.id}",
                Email(user.email, subject, text, unsubscribe=unsubscribe),
            )
    elif new_rows:
        listing = "\n\n".join(_describe(job, settings) for job in new_rows)
        text = greeting + f"{len(new_rows)} new jobs match your alert:\n\n{listing}"
        await queue_email(
            session,
            settings,
            f"alert:{alert.id}:digest:{now:%Y-%m-%d}",
            Email(user.email, f"{len(new_rows)} new jobs for you", text, unsubscribe=unsubscribe),
        )
    return len(new_rows)
