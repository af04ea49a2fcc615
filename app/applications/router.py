"""/api/jobs/{id}/applications, /api/users/me/applications, /api/applications/{id}, and
/api/employer/jobs (the employer's jobs with their application counts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, status
from sqlalchemy import Row

from app.applications import detail as application_detail
from app.applications import service
from app.applications.models import Application, ApplicationStatus
from app.applications.schemas import (
    ApplicantBrief,
    ApplicationCreate,
    ApplicationRead,
    ApplicationSummary,
    EmployerJob,
    JobBrief,
    StatusChangeRead,
    StatusChangeRequest,
)
from app.companies.models import Company
from app.core.db import DatabaseDep, RowSource, SessionDep, session_rows
from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    error_responses,
)
from app.core.ids import IdPath
from app.core.pagination import Page, PageDep
from app.core.routing import Router
from app.files import links
from app.files import references as files
from app.files.deps import StorageDep
from app.files.storage import Storage
from app.identity.caller import Caller
from app.identity.deps import CurrentUser, EmployerUser, JobSeekerAccount
from app.identity.models import User
from app.identity.write_limits import WriteAction, write_limit
from app.jobs.models import Job, display_status

router = Router(tags=["applications"])


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


def _page(rows: Sequence[Row[*tuple[Any, ...]]], cursor: str | None) -> Page[ApplicationSummary]:
    items = [ApplicationSummary(**_summary_fields(*row[:4])) for row in rows]
    return Page[ApplicationSummary](items=items, next_cursor=cursor)


async def _detail(
    rows_of: RowSource, storage: Storage, viewer: Caller, detail: application_detail.Detail
) -> ApplicationRead:
    """Only ever built for the applicant or the job's owner (the service checked), from
    `application_detail.get_application`'s rows (one per status change)."""
    first = detail[0]
    resume = (await files.ready_files(rows_of, first.resume_file_id)).get(first.resume_file_id or 0)
    owner_id = first.owner_id
    return ApplicationRead(
        id=first.id,
        job=JobBrief(
            id=first.job_id,
            title=first.job_title,
            company_id=first.company_id,
            company_name=first.company_name,
            status=display_status(
                first.job_status, first.job_deleted_at, first.job_expires_at, datetime.now(UTC)
            ),
        ),
        applicant=ApplicantBrief(
            id=first.applicant_id, full_name=first.applicant_name, headline=first.applicant_headline
        ),
        status=first.status,
        created_at=first.created_at,
        updated_at=first.updated_at,
        cover_letter=first.cover_letter,
        resume_url=first.resume_url,
        resume=links.describe(storage, resume) if resume else None,
        history=[
            StatusChangeRead(
                from_status=row.from_status,
                to_status=row.to_status,
                at=row.changed_at,
                by_employer=row.actor_id == owner_id,
                note=application_detail.employer_note(viewer, owner_id, row.note),
            )
            for row in detail
            if row.to_status is not None
        ],
    )


@router.post(
    "/jobs/{job_id}/applications",
    summary="Apply to a live job",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, RateLimited),
    dependencies=[write_limit(WriteAction.APPLICATIONS)],
)
async def apply(
    job_id: IdPath,
    body: ApplicationCreate,
    user: JobSeekerAccount,
    session: SessionDep,
    storage: StorageDep,
) -> ApplicationRead:
    application = await service.apply(session, user, job_id, body)
    detail = await application_detail.get_application(session_rows(session), user, application.id)
    return await _detail(session_rows(session), storage, user, detail)


@router.get(
    "/jobs/{job_id}/applications",
    summary="The applications to a job you manage",
    response_model=Page[ApplicationSummary],
    responses=error_responses(Unauthorized, Forbidden, NotFound),
)
async def list_job_applications(
    job_id: IdPath,
    page: PageDep,
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[ApplicationStatus | None, Query()] = None,
) -> Page[ApplicationSummary]:
    return _page(*await service.list_for_job(session, user, job_id, page, status))


@router.get(
    "/users/me/applications",
    summary="Your own applications",
    response_model=Page[ApplicationSummary],
    responses=error_responses(Unauthorized),
)
async def list_my_applications(
    page: PageDep, user: CurrentUser, session: SessionDep
) -> Page[ApplicationSummary]:
    return _page(*await service.list_for_applicant(session, user, page))


@router.get(
    "/applications/{application_id}",
    summary="One application with its status history",
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, NotFound),
)
async def get_application(
    application_id: IdPath,
    user: CurrentUser,
    database: DatabaseDep,
    storage: StorageDep,
) -> ApplicationRead:
    detail = await application_detail.get_application(database.rows, user, application_id)
    return await _detail(database.rows, storage, user, detail)


@router.patch(
    "/applications/{application_id}",
    summary="Move an application along the hiring pipeline",
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def change_status(
    application_id: IdPath,
    body: StatusChangeRequest,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
) -> ApplicationRead:
    detail = await service.change_status(session, user, application_id, body)
    return await _detail(session_rows(session), storage, user, detail)


@router.post(
    "/applications/{application_id}/withdraw",
    summary="Withdraw your application",
    response_model=ApplicationRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def withdraw(
    application_id: IdPath, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> ApplicationRead:
    detail = await service.withdraw(session, user, application_id)
    return await _detail(session_rows(session), storage, user, detail)


@router.get(
    "/employer/jobs",
    tags=["jobs"],
    summary="My jobs in every state, with their application counts",
    response_model=Page[EmployerJob],
    responses=error_responses(Unauthorized, Forbidden),
)
async def list_employer_jobs(
    page: PageDep, user: EmployerUser, session: SessionDep
) -> Page[EmployerJob]:
    rows, cursor = await service.list_employer_jobs(session, user, page)
    now = datetime.now(UTC)
    items = [
        EmployerJob.of_row(row, now, application_count=row.total, unreviewed_count=row.new)
        for row in rows
    ]
    return Page[EmployerJob](items=items, next_cursor=cursor)
