"""Matching: GET /api/users/me/job-matches (job seekers), POST .../{job_id}/dismiss, and
GET /api/jobs/{job_id}/candidate-matches (the job's owner)."""

from __future__ import annotations

from fastapi import status

from app.core.db import PublicReaderDep, SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized, error_responses
from app.core.ids import IdPath
from app.core.pagination import Page, PageDep
from app.core.routing import Router
from app.identity.deps import JobSeekerUser, OptionalUser
from app.matching import service
from app.matching.schemas import CandidateMatch, JobMatch

router = Router(tags=["matching"])


@router.get(
    "/users/me/job-matches",
    summary="Live jobs ranked for you (job seekers)",
    responses=error_responses(Unauthorized, Forbidden),
)
async def list_job_matches(
    page: PageDep, seeker: JobSeekerUser, session: SessionDep
) -> Page[JobMatch]:
    """Live jobs ranked by the skills you share with them (a rare skill counts more), then
    place (your island, an island you would move to, remote work), then your preferences,
    then the words of your headline and skills, then the newest. Jobs you applied to or
    dismissed are left out. Each job carries `match`: a score 0-100 and the reasons."""
    items, cursor = await service.job_matches(session, seeker, page)
    return Page[JobMatch](items=items, next_cursor=cursor)


@router.post(
    "/users/me/job-matches/{job_id}/dismiss",
    summary='Say "not for me" to a job: it stays out of your matches',
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def dismiss_job_match(job_id: IdPath, seeker: JobSeekerUser, session: SessionDep) -> None:
    """Idempotent (again: 204). A job that is not live (a draft, closed, expired, taken
    down, unknown) is a 404."""
    await service.dismiss(session, seeker, job_id)


@router.get(
    "/jobs/{job_id}/candidate-matches",
    summary="Job seekers ranked for your job (its owner only)",
    responses=error_responses(NotFound),
)
async def list_candidate_matches(
    job_id: IdPath, page: PageDep, caller: OptionalUser, reader: PublicReaderDep
) -> Page[CandidateMatch]:
    """Seekers who chose to be found (visibility public or employers) and are open to work,
    ranked for the job as job matches are, with the reasons from your side. Public fields
    only: never email, phone or résumé. To anyone but the job's owner (anonymous callers,
    other employers, seekers) the job is a 404."""
    items, cursor = await service.candidate_matches(await reader.session(), caller, job_id, page)
    return Page[CandidateMatch](items=items, next_cursor=cursor)
