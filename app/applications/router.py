"""/api/jobs/{id}/applications, /api/users/me/applications and /api/applications/{id}."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import Row

from app.applications import service
from app.applications.models import Application, ApplicationStatus
from app.applications.schemas import (
    ApplicantBrief,
    ApplicationCreate,
    ApplicationRead,
    ApplicationSummary,
    JobBrief,
    StatusChangeRead,
    StatusChangeRequest,
)
from app.auth.deps import CurrentUser, JobSeekerUser, WriteAction, write_limit
from app.companies.models import Company
from app.core.db import SessionDep
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    error_responses,
)
from app.core.pagination import IdPath, Page, PageDep
from app.jobs.models import Job
from app.users.models import User

router = APIRouter(tags=["applications"])


def _summary_fields(
    application: Application, job: Job, company: Company, applicant: User
) -> dict[str, Any]:
    return {
        "id": application.id,
        "job": JobBrief(
            id=job.id,
            title=job.title,
            company_id=company.id,
            company_name=company.name,
            status=job.display_status(datetime.now(UTC)),
        ),
        "applicant": ApplicantBrief(
            id=applicant.id, full_name=applicant.full_name, headline=applicant.headline
        ),
        "status": application.status,
        "created_at": application.created_at,
        "updated_at": application.updated_at,
    }


def _page(rows: Sequence[Row[Any]], cursor: str | None) -> Page[ApplicationSummary]:
    items = [ApplicationSummary(**_summary_fields(*row[:4])) for row in rows]
    return Page[ApplicationSummary](items=items, next_cursor=cursor)


def _detail(viewer: User, detail: service.Detail) -> ApplicationRead:
    application, job, company, applicant, history = detail
    owner_view = viewer.id == company.owner_id
    return ApplicationRead(
        **_summary_fields(application, job, company, applicant),
        cover_letter=application.cover_letter,
        resume_url=application.resume_url,
        history=[
            StatusChangeRead(
                from_status=change.from_status,
                to_status=change.to_status,
                at=change.created_at,
                by_employer=change.actor_id == company.owner_id,
                note=change.note if owner_view else None,
            )
            for change in history
        ],
    )


@router.post(
    "/jobs/{job_id}/applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, RateLimited),
    dependencies=[write_limit(WriteAction.APPLICATIONS)],
)
async def apply(job_id: IdPath, body: ApplicationCreate, user: JobSeekerUser, session: SessionDep):
    application = await service.apply(session, user, job_id, body)
    return _detail(user, await service.get_application(session, user, application.id))


@router.get(
    "/jobs/{job_id}/applications",
    response_model=Page[ApplicationSummary],
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def list_job_applications(
    job_id: IdPath,
    user: CurrentUser,
    page: PageDep,
    session: SessionDep,
    status: Annotated[ApplicationStatus | None, Query()] = None,
):
    return _page(*await service.list_for_job(session, user, job_id, page, status))


@router.get(
    "/users/me/applications",
    response_model=Page[ApplicationSummary],
    responses=error_responses(Unauthorized),
)
async def list_my_applications(user: CurrentUser, page: PageDep, session: SessionDep):
    return _page(*await service.list_for_applicant(session, user, page))


@router.get(
    "/applications/{application_id}",
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, NotFound),
)
async def get_application(application_id: IdPath, user: CurrentUser, session: SessionDep):
    return _detail(user, await service.get_application(session, user, application_id))


@router.patch(
    "/applications/{application_id}",
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def change_status(
    application_id: IdPath, body: StatusChangeRequest, user: CurrentUser, session: SessionDep
):
    return _detail(user, await service.change_status(session, user, application_id, body))


@router.post(
    "/applications/{application_id}/withdraw",
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def withdraw(application_id: IdPath, user: CurrentUser, session: SessionDep):
    return _detail(user, await service.withdraw(session, user, application_id))
