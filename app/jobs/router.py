"""/api/jobs and /api/users/me/saved-jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from app.core.cache import CacheDep
from app.core.db import PublicReaderDep, SessionDep
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    error_responses,
)
from app.core.http_cache import private_json, public_get, public_json
from app.core.ids import IdPath
from app.core.pagination import Page, PageDep, PageParams
from app.core.routing import Router
from app.identity.deps import CurrentAccount, CurrentUser, JobSeekerUser, OptionalUser
from app.identity.write_limits import WriteAction, write_limit
from app.jobs import search as search_service
from app.jobs import service
from app.jobs.schemas import (
    JobCreate,
    JobRead,
    JobSearch,
    JobSearchQuery,
    JobSummary,
    JobUpdate,
    SavedJobRead,
)

router = Router(prefix="/jobs", tags=["jobs"])
saved_router = Router(prefix="/users/me/saved-jobs", tags=["jobs"])


async def job_search(
    query: Annotated[JobSearchQuery, Query()],
) -> tuple[JobSearch, PageParams]:
    """The filters and the page of GET /api/jobs: one query model (see PageQuery); a forged
    cursor is a 422 here, before the session is used."""
    return query, query.page()


JobSearchDep = Annotated[tuple[JobSearch, PageParams], Depends(job_search)]

_WRITE_ERRORS = error_responses(Unauthorized, Forbidden, NotFound, Conflict)


@public_get(
    router,
    "",
    response_model=Page[JobSummary],
    responses=error_responses(),
    summary="Search live published jobs",
)
async def search_jobs(
    request: Request, query: JobSearchDep, reader: PublicReaderDep, cache: CacheDep
) -> Response:
    """Live published jobs. Cached for everyone alike (the list does not depend on who asks),
    and by CDNs and browsers (ETag, `If-None-Match` answered with 304)."""
    search, page = query
    return public_json(request, await search_service.search_jobs(reader, cache, search, page))


@router.post(
    "",
    summary="Post a job for a company you manage",
    status_code=status.HTTP_201_CREATED,
    response_model=JobRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, RateLimited),
    dependencies=[write_limit(WriteAction.JOB_POSTS)],
)
async def create_job(
    body: JobCreate, user: CurrentAccount, session: SessionDep, cache: CacheDep
) -> JobRead:
    job = await service.create_job(session, cache, user, body)
    return JobRead.of(job, datetime.now(UTC))


@public_get(
    router,
    "/{job_id}",
    response_model=JobRead,
    responses=error_responses(NotFound),
    summary="A job's page",
)
async def get_job(
    request: Request,
    job_id: IdPath,
    user: OptionalUser,
    reader: PublicReaderDep,
    cache: CacheDep,
) -> Response:
    """A draft or deleted job is a 404 to everyone but those who manage them. Anonymous
    readers get the cached, publicly cacheable page; a signed-in reader's is private."""
    if user is None:
        return public_json(request, await service.job_page(reader, cache, job_id))
    return private_json(await service.managed_job_page(await reader.session(), job_id, user))


@router.patch(
    "/{job_id}", summary="Edit a job you manage", response_model=JobRead, responses=_WRITE_ERRORS
)
async def update_job(
    job_id: IdPath, body: JobUpdate, user: CurrentUser, session: SessionDep, cache: CacheDep
) -> JobRead:
    job = await service.update_job(session, cache, user, job_id, body)
    return JobRead.of(job, datetime.now(UTC))


@router.post(
    "/{job_id}/publish",
    summary="Publish a draft job",
    response_model=JobRead,
    responses=_WRITE_ERRORS,
)
async def publish_job(
    job_id: IdPath, user: CurrentAccount, session: SessionDep, cache: CacheDep
) -> JobRead:
    job = await service.publish_job(session, cache, user, job_id)
    return JobRead.of(job, datetime.now(UTC))


@router.post(
    "/{job_id}/close",
    summary="Close a published job",
    response_model=JobRead,
    responses=_WRITE_ERRORS,
)
async def close_job(
    job_id: IdPath, user: CurrentUser, session: SessionDep, cache: CacheDep
) -> JobRead:
    job = await service.close_job(session, cache, user, job_id)
    return JobRead.of(job, datetime.now(UTC))


@router.delete(
    "/{job_id}",
    summary="Delete a job you manage (soft: its applications stay)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_WRITE_ERRORS,
)
async def delete_job(
    job_id: IdPath, user: CurrentUser, session: SessionDep, cache: CacheDep
) -> None:
    await service.delete_job(session, cache, user, job_id)


@router.put(
    "/{job_id}/save",
    summary="Save a job to your list",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def save_job(job_id: IdPath, user: JobSeekerUser, session: SessionDep) -> None:
    await service.save_job(session, user, job_id)


@router.delete(
    "/{job_id}/save",
    summary="Remove a job from your saved list",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, Forbidden),
)
async def unsave_job(job_id: IdPath, user: JobSeekerUser, session: SessionDep) -> None:
    await service.unsave_job(session, user, job_id)


@saved_router.get(
    "",
    summary="The jobs you saved, newest first",
    response_model=Page[SavedJobRead],
    responses=error_responses(Unauthorized, Forbidden),
)
async def list_saved_jobs(
    page: PageDep, user: JobSeekerUser, session: SessionDep
) -> Page[SavedJobRead]:
    rows, cursor = await service.list_saved_jobs(session, user, page)
    now = datetime.now(UTC)
    items = [
        SavedJobRead(saved_at=saved_at, job=JobSummary.of(job, now)) for job, saved_at, *_ in rows
    ]
    return Page[SavedJobRead](items=items, next_cursor=cursor)
