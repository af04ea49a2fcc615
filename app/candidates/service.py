"""Employers finding job seekers who chose to be found, and inviting them to apply.

Findable: an active, unsuspended job seeker whose `visibility` is `public` or `employers`
(never `hidden`, the default). Results carry public fields only; email, phone and résumé only
for seekers who applied to one of the searching employer's jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    REAL,
    ColumnElement,
    Row,
    String,
    bindparam,
    exists,
    func,
    literal_column,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application
from app.candidates.models import Invitation
from app.candidates.schemas import CandidateSearch, InvitationCreate
from app.companies.models import Company
from app.core.cursors import Ordering, SortKey
from app.core.errors import Conflict, NotFound
from app.core.pagination import PageParams, paginate
from app.core.ratelimit import Limit, RateLimiter
from app.identity.caller import Caller
from app.identity.models import Role, User, Visibility
from app.jobs.models import Job
from app.jobs.service import get_visible_job, is_live
from app.notifications import messages
from app.notifications.service import notify

# Anti-scraping: a page of candidates every two seconds on average, per employer account.
SEARCHES_PER_EMPLOYER = Limit("30/minute")
INVITATIONS_PER_EMPLOYER = Limit("20/day")

NEWEST = Ordering("candidates:newest", (SortKey(User.id, int),))
_UNIQUE_VIOLATION = "23505"


def findable() -> ColumnElement[bool]:
    """The one rule of who can be found (the partial index ix_users_findable matches it)."""
    return (
        (User.role == Role.JOB_SEEKER.value)
        & (User.visibility != Visibility.HIDDEN.value)
        & User.deleted_at.is_(None)
        & User.is_active
        & User.suspended_at.is_(None)
    )


def _has_skill(skill: str) -> ColumnElement[bool]:
    """The profile lists this skill, in any case."""
    listed = func.unnest(User.skills).table_valued("value").render_derived(name="listed")
    return exists(
        select(literal_column("1"))
        .select_from(listed)
        .where(func.lower(listed.c.value) == func.lower(bindparam(None, skill, type_=String)))
    )


async def search(
    session: AsyncSession,
    limiter: RateLimiter,
    employer: Caller,
    filters: CandidateSearch,
    page: PageParams,
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None, set[int]]:
    """One page of findable seekers, and which of them applied to this employer's jobs."""
    await limiter.hit(
        SEARCHES_PER_EMPLOYER,
        "candidates",
        str(employer.id),
        message="Too many candidate searches; slow down.",
    )
    stmt = select(User).where(findable())
    if filters.island is not None:
        stmt = stmt.where(User.island == filters.island)
    if filters.min_years is not None:
        stmt = stmt.where(User.years_experience >= filters.min_years)
    for skill in filters.skills:
        stmt = stmt.where(_has_skill(skill))
    ordering = NEWEST
    if filters.q:
        query = func.websearch_to_tsquery(
            literal_column("'english'::regconfig"), bindparam("q", filters.q, type_=String)
        )
        stmt = stmt.where(User.search_vector.bool_op("@@")(query))
        rank = func.ts_rank(User.search_vector, query, type_=REAL)
        ordering = Ordering("candidates:relevance", (SortKey(rank, float), *NEWEST.keys))
    rows, cursor = await paginate(session, stmt, ordering, page)
    return rows, cursor, await applied_to(session, employer.id, [row[0].id for row in rows])


async def applied_to(session: AsyncSession, employer_id: int, seeker_ids: list[int]) -> set[int]:
    """Those of `seeker_ids` who applied to a job of this employer's: they may see contact."""
    if not seeker_ids:
        return set()
    stmt = (
        select(Application.applicant_id)
        .join(Job, Job.id == Application.job_id)
        .join(Company, Company.id == Job.company_id)
        .where(Company.owner_id == employer_id, Application.applicant_id.in_(seeker_ids))
        .distinct()
    )
    return set((await session.scalars(stmt)).all())


async def invite(
    session: AsyncSession,
    limiter: RateLimiter,
    employer: Caller,
    candidate_id: int,
    data: InvitationCreate,
) -> Invitation:
    candidate = await session.scalar(select(User).where(User.id == candidate_id, findable()))
    if candidate is None:
        raise NotFound("No such candidate.")
    job = await get_visible_job(session, data.job_id, employer)
    if job.company.owner_id != employer.id:
        raise NotFound("No such job of yours.")
    if not is_live(job, datetime.now(UTC)):
        raise Conflict("Only a live job can be offered; publish it (or extend it) first.")
    await limiter.hit(
        INVITATIONS_PER_EMPLOYER,
        "invitations",
        str(employer.id),
        message="Too many invitations today; try again tomorrow.",
    )
    invitation = Invitation(
        job_id=job.id, candidate_id=candidate.id, employer_id=employer.id, message=data.message
    )
    session.add(invitation)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
            raise Conflict("This candidate has already been invited to this job.") from None
        raise
    await notify(
        session,
        candidate.id,
        messages.candidate_invited(job.title, job.company.name),
        job_id=job.id,
    )
    await session.flush()
    return invitation
