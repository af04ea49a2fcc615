"""/api/candidates: employers find job seekers who chose to be found, and invite them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status

from app.candidates import service
from app.candidates.schemas import (
    CandidateRead,
    CandidateSearch,
    CandidateSearchQuery,
    Contact,
    InvitationCreate,
    InvitationRead,
)
from app.core.db import SessionDep, session_rows
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    error_responses,
)
from app.core.ids import IdPath
from app.core.pagination import Page, PageParams
from app.core.ratelimit import RateLimiterDep
from app.core.routing import Router
from app.files import links
from app.files import references as files
from app.files.deps import StorageDep
from app.identity.deps import EmployerUser
from app.identity.models import User

router = Router(tags=["candidates"])


async def candidate_search(
    query: Annotated[CandidateSearchQuery, Query()],
) -> tuple[CandidateSearch, PageParams]:
    """The filters and the page: one query model (see PageQuery); a forged cursor is a 422
    here, before the caller's account is read."""
    return query, query.page()


CandidateSearchDep = Annotated[tuple[CandidateSearch, PageParams], Depends(candidate_search)]


@router.get(
    "",
    summary="Find job seekers who chose to be found (employers only)",
    responses=error_responses(Unauthorized, Forbidden, RateLimited),
)
async def search_candidates(
    query: CandidateSearchDep,
    employer: EmployerUser,
    session: SessionDep,
    storage: StorageDep,
    limiter: RateLimiterDep,
    response: Response,
) -> Page[CandidateRead]:
    """Full-text `q` over headline, skills and bio (ranked), `island`, every one of `skills`,
    `min_years`; seekers whose visibility is `hidden` never appear. Email, phone and résumé
    only for seekers who applied to one of the caller's jobs."""
    filters, page = query
    rows, cursor, applicants = await service.search(session, limiter, employer, filters, page)
    seekers: list[User] = [row[0] for row in rows]
    resumes = await files.ready_files(
        session_rows(session), *(s.resume_file_id for s in seekers if s.id in applicants)
    )
    items = []
    for seeker in seekers:
        item = CandidateRead.model_validate(seeker, from_attributes=True)
        if seeker.id in applicants:
            resume = resumes.get(seeker.resume_file_id or 0)
            item.contact = Contact(
                email=seeker.email,
                phone=seeker.phone,
                resume=links.describe(storage, resume) if resume else None,
            )
        items.append(item)
    response.headers["Cache-Control"] = "no-store"
    return Page[CandidateRead](items=items, next_cursor=cursor)


@router.post(
    "/{candidate_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a candidate to apply to one of your live jobs",
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, RateLimited),
)
async def invite_candidate(
    candidate_id: IdPath,
    body: InvitationCreate,
    employer: EmployerUser,
    session: SessionDep,
    limiter: RateLimiterDep,
) -> InvitationRead:
    """The candidate gets an in-app notification. A hidden seeker is a 404, like no seeker;
    inviting the same candidate to the same job twice is a 409."""
    invitation = await service.invite(session, limiter, employer, candidate_id, body)
    return InvitationRead.model_validate(invitation)
