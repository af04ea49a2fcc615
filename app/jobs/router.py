"""/api/jobs, /api/employer/jobs and /api/users/me/saved-jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import TypeAdapter
from starlette.datastructures import State

from app.auth.deps import CurrentUser, EmployerUser, JobSeekerUser
from app.core.cache import CacheDep
from app.core.db import Database, DatabaseDep, SessionDep
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    error_responses,
)
from app.core.pagination import IdPath, Page, PageDep
from app.jobs import service
from app.jobs.cache import JOBS_CACHE_NAMESPACE, cache_key, ttl_until
from app.jobs.deps import BEARER_SECURITY, optional_user
from app.jobs.schemas import (
    EmployerJob,
    JobCreate,
    JobRead,
    JobSearch,
    JobSummary,
    JobUpdate,
    SavedJobRead,
)
from app.users.models import User

# The replies these routes build themselves are validated and serialised by the declared
# response model, so they are the bytes FastAPI would send.
_JOB_PAGE = TypeAdapter(Page[JobSummary])
_JOB = TypeAdapter(JobRead)

router = APIRouter(prefix="/jobs", tags=["jobs"])
employer_router = APIRouter(prefix="/employer", tags=["jobs"])
saved_router = APIRouter(prefix="/users/me/saved-jobs", tags=["jobs"])

_WRITE_ERRORS = error_responses(Unauthorized, Forbidden, NotFound, Conflict)


@router.get("", response_model=Page[JobSummary], responses=error_responses())
async def search_jobs(
    search: Annotated[JobSearch, Query()], page: PageDep, database: DatabaseDep, cache: CacheDep
) -> Response:
    """Live published jobs. Cached for everyone alike (the list does not depend on who asks)."""
    key = cache_key(search.model_dump(mode="json", exclude_none=True), page.limit, page.cursor)
    hit = await cache.lookup(JOBS_CACHE_NAMESPACE, key)
    if hit.value is not None:
        return Response(hit.value, media_type="application/json")
    rows, cursor = await service.search_jobs(database, search, page)
    now = datetime.now(UTC)
    items = [JobSummary.row_fields(row, now) for row in rows]
    payload = _JOB_PAGE.validate_python({"items": items, "next_cursor": cursor})
    body = _JOB_PAGE.dump_json(payload)
    await cache.store(
        JOBS_CACHE_NAMESPACE,
        key,
        body,
        generation=hit.generation,
        ttl=ttl_until(row["expires_at"] for row in rows),
    )
    return Response(body, media_type="application/json")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=JobRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def create_job(body: JobCreate, user: CurrentUser, session: SessionDep, cache: CacheDep):
    job = await service.create_job(session, cache, user, body)
    return JobRead.of(job, datetime.now(UTC))


@router.get(
    "/{job_id}",
    response_model=JobRead,
    responses=error_responses(NotFound),
    openapi_extra=BEARER_SECURITY,
)
async def get_job(job_id: IdPath, request: Request) -> Response:
    """A draft or deleted job is a 404 to everyone but those who manage it."""
    user = await optional_user(request)
    body = await job_page(request.app.state.database, job_id, user)
    return Response(body, media_type="application/json")


async def job_page(database: Database, job_id: int, user: User | None) -> bytes:
    row = await service.read_visible_job(database, job_id, user)
    return _JOB.dump_json(_JOB.validate_python(JobRead.row_fields(row, datetime.now(UTC))))


async def anonymous_job_page(state: State, job_id: int) -> bytes:
    """GET /api/jobs/{job_id} without signing in, as nearly every reader does: app/routers.py
    serves it without FastAPI's per-request machinery."""
    return await job_page(state.database, job_id, None)


@router.patch("/{job_id}", response_model=JobRead, responses=_WRITE_ERRORS)
async def update_job(
    job_id: IdPath, body: JobUpdate, user: CurrentUser, session: SessionDep, cache: CacheDep
):
    job = await service.update_job(session, cache, user, job_id, body)
    return JobRead.of(job, datetime.now(UTC))


@router.post("/{job_id}/publish", response_model=JobRead, responses=_WRITE_ERRORS)
async def publish_job(job_id: IdPath, user: CurrentUser, session: SessionDep, cache: CacheDep):
    job = await service.publish_job(session, cache, user, job_id)
    return JobRead.of(job, datetime.now(UTC))


@router.post("/{job_id}/close", response_model=JobRead, responses=_WRITE_ERRORS)
async def close_job(job_id: IdPath, user: CurrentUser, session: SessionDep, cache: CacheDep):
    job = await service.close_job(session, cache, user, job_id)
    return JobRead.of(job, datetime.now(UTC))


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE_ERRORS)
async def delete_job(job_id: IdPath, user: CurrentUser, session: SessionDep, cache: CacheDep):
    await service.delete_job(session, cache, user, job_id)


@router.put(
    "/{job_id}/save",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def save_job(job_id: IdPath, user: JobSeekerUser, session: SessionDep):
    await service.save_job(session, user, job_id)


@router.delete(
    "/{job_id}/save",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, Forbidden),
)
async def unsave_job(job_id: IdPath, user: JobSeekerUser, session: SessionDep):
    await service.unsave_job(session, user, job_id)


@employer_router.get(
    "/jobs", response_model=Page[EmployerJob], responses=error_responses(Unauthorized, Forbidden)
)
async def list_employer_jobs(user: EmployerUser, page: PageDep, session: SessionDep):
    rows, cursor = await service.list_employer_jobs(session, user, page)
    now = datetime.now(UTC)
    items = [
        EmployerJob(
            **JobSummary.of(job, now).model_dump(), application_count=total, unreviewed_count=new
        )
        for job, total, new, *_ in rows
    ]
    return Page[EmployerJob](items=items, next_cursor=cursor)


@saved_router.get(
    "", response_model=Page[SavedJobRead], responses=error_responses(Unauthorized, Forbidden)
)
async def list_saved_jobs(user: JobSeekerUser, page: PageDep, session: SessionDep):
    rows, cursor = await service.list_saved_jobs(session, user, page)
    now = datetime.now(UTC)
    items = [
        SavedJobRead(saved_at=saved_at, job=JobSummary.of(job, now)) for job, saved_at, *_ in rows
    ]
    return Page[SavedJobRead](items=items, next_cursor=cursor)
