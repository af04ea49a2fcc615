"""The weekly "new jobs for you" email: each job seeker who wants job alerts gets, once a week,
the live jobs ranked best for them by the matching (app.matching) that no earlier week's email
showed them; no such job, no email.

Exactly once per seeker and ISO week, whatever runs it how often: the email's outbox key names
the seeker and the week, so a second run, a retried job or a second worker racing the first
queues nothing (the loser waits on the unique key, then finds it taken). The jobs it shows are
recorded in the same transaction (`mailed_matches`), so they are left out of every later week.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.pagination import PageParams
from app.email.messages import Email
from app.email.service import already_queued, queue_email
from app.email.unsubscribe import unsubscribe_url
from app.identity.models import Role, User
from app.matching.ranking import Fit, rank_jobs
from app.matching.schemas import JobMatch
from app.matching.service import job_match
from app.weekly_matches.models import MailedMatch

logger = logging.getLogger("app.weekly_matches")

# Ten reads in a minute and still makes a reader come back next week for more.
TOP = 10
# Own island or one they would move to: a job sharing no skill is "for you" only there.
NEAR = 2


def week_of(moment: datetime) -> str:
    """The ISO week `moment` falls in, "2026-W49": what one email per week is counted by."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def email_key(user_id: int, week: str) -> str:
    return f"weekly-matches:{user_id}:{week}"


def _wanted() -> tuple[ColumnElement[bool], ...]:
    """Who gets the email: a job seeker whose account is live and who wants job alerts (the
    job alerts' own rule; neither asks for a verified address)."""
    return (
        User.role == Role.JOB_SEEKER,
        User.is_active.is_(True),
        User.deleted_at.is_(None),
        User.suspended_at.is_(None),
        User.email_job_alerts.is_(True),
    )


async def recipients(session: AsyncSession) -> Sequence[int]:
    """The ids of every seeker the email is for this week, in order."""
    return (await session.scalars(select(User.id).where(*_wanted()).order_by(User.id))).all()


def _for_you(fit: Fit) -> bool:
    """A job worth a seeker's inbox shares a skill with them or is where they live or would
    move. The ranking puts every such job before every other (skills first, then place), so
    keeping these from the top of the ranking keeps a prefix of it."""
    return bool(fit.shared_skills) or fit.place >= NEAR


async def new_matches(session: AsyncSession, user_id: int) -> list[JobMatch]:
    """The best `TOP` live jobs for the seeker that no weekly email has shown them, each with
    its reasons in the words of GET /api/users/me/job-matches."""
    page = PageParams(limit=TOP, cursor=None)
    ranked, _ = await rank_jobs(session, user_id, page, leave_out=MailedMatch.__tablename__)
    now = datetime.now(UTC)
    return [job_match(row, fit, now) for row, fit in ranked if _for_you(fit)]


def _describe(job: JobMatch, settings: Settings) -> str:
    why = "; ".join(reason.text for reason in job.match.reasons)
    return (
        f"{job.title}, {job.company.name} ({job.location})\n"
        f"Why: {why}\n{settings.link_base}/jobs/{job.id}"
    )


def _email(settings: Settings, user: User, found: Sequence[JobMatch]) -> Email:
    count = f"{len(found)} new job{'s' if len(found) != 1 else ''}"
    listing = "\n\n".join(_describe(job, settings) for job in found)
    text = (
        f"Hello {user.full_name},\n\n{count} this week that match your profile, best first:"
        f"\n\n{listing}"
    )
    return Email(
        user.email,
        f"{count} for you this week",
        text,
        unsubscribe=unsubscribe_url(settings, user.id, "job_alerts"),
    )


async def mail_seeker(session: AsyncSession, settings: Settings, user_id: int, week: str) -> int:
    """Queue `week`'s email for one seeker, in the session's transaction; returns how many jobs
    it shows (0: not wanted, already queued this week, or nothing new)."""
    key = email_key(user_id, week)
    # Asked again: the seeker may have unsubscribed since the run listed them.
    user = await session.scalar(select(User).where(User.id == user_id, *_wanted()))
    if user is None or await already_queued(session, key):
        return 0
    found = await new_matches(session, user_id)
    if not found:
        return 0
    if not await queue_email(session, settings, key, _email(settings, user, found)):
        return 0  # another run queued it first (this one waited on the key)
    await session.execute(
        insert(MailedMatch)
        .values([{"user_id": user_id, "job_id": job.id} for job in found])
        .on_conflict_do_nothing()
    )
    return len(found)
