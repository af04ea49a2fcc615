"""The rules of matching: whose matches a caller may see, what a dismissal does, and each
page's items (the ranking is app/matching/ranking.py's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies.models import Company
from app.core.errors import NotFound
from app.core.pagination import PageParams
from app.identity.caller import Caller
from app.jobs.models import Job
from app.jobs.service import live_clause
from app.matching import reasons
from app.matching.models import JobDismissal
from app.matching.ranking import CANDIDATE_FIELDS, JOB_TERMS, Fit, rank_candidates, rank_jobs
from app.matching.schemas import CandidateMatch, JobMatch
from app.matching.statements import own_job

# The terms the reasons name of a job, if the caller owns it: asked only when a page of its
# candidates is empty (the page's own statement checks the ownership otherwise).
_jobs, _companies = Job.__table__.c, Company.__table__.c
_OWN_JOB_TERMS = (
    select(*(_jobs[name] for name in JOB_TERMS))
    .join_from(Job.__table__, Company.__table__, _companies.id == _jobs.company_id)
    .where(own_job())
)


def job_match(row: Row[Any], fit: Fit, now: datetime) -> JobMatch:
    """A ranked job (a row of `rank_jobs`) with its score and reasons, told to the seeker."""
    terms = reasons.Terms(row.island, row.category, row.employment_type, row.work_mode)
    return JobMatch.of_row(row, now, match=reasons.match(fit, terms, reasons.SEEKER))


async def job_matches(
    session: AsyncSession, seeker: Caller, page: PageParams
) -> tuple[list[JobMatch], str | None]:
    """One page of the live jobs ranked for `seeker`, each with its score and reasons."""
    ranked, cursor = await rank_jobs(session, seeker.id, page)
    now = datetime.now(UTC)
    return [job_match(row, fit, now) for row, fit in ranked], cursor


async def dismiss(session: AsyncSession, seeker: Caller, job_id: int) -> None:
    """ "Not for me": the live job `job_id` stays out of the seeker's matches (again: no-op);
    a job that is not live is a 404, as on its page."""
    if await session.scalar(select(Job.id).where(Job.id == job_id, live_clause())) is None:
        raise NotFound("No such job.")
    await session.execute(
        insert(JobDismissal).values(user_id=seeker.id, job_id=job_id).on_conflict_do_nothing()
    )


async def candidate_matches(
    session: AsyncSession, caller: Caller | None, job_id: int, page: PageParams
) -> tuple[list[CandidateMatch], str | None]:
    """One page of the seekers ranked for the job `job_id`, for its owner only: to anyone
    else (anonymous too) the job is a 404, so nobody learns which jobs exist. Public fields
    only, whatever the candidate applied to."""
    if caller is None:
        raise NotFound("No such job of yours.")
    ranked, cursor = await rank_candidates(session, job_id, caller.id, page)
    if not ranked:
        # No rows: not the caller's job, or no candidates (left) for it.
        values = {"subject_id": job_id, "owner_id": caller.id}
        if (await session.execute(_OWN_JOB_TERMS, values)).first() is None:
            raise NotFound("No such job of yours.")
        return [], cursor
    return [_candidate_match(row, fit) for row, fit in ranked], cursor


def _candidate_match(row: Row[Any], fit: Fit) -> CandidateMatch:
    # A row's `_mapping` is built anew on every access: once per row, not once per field.
    fields = row._mapping
    terms = reasons.Terms(*(fields[f"job_{name}"] for name in JOB_TERMS))
    return CandidateMatch.model_validate(
        {
            **{name: fields[name] for name in CANDIDATE_FIELDS},
            "match": reasons.match(fit, terms, reasons.EMPLOYER),
        }
    )
