"""/api/reports (anyone signed in) and /api/admin (admins only; a 404 to everyone else)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request, Response, status
from starlette.types import Receive, Scope, Send

from app.audit.models import AuditAction, TargetType
from app.companies.models import Company
from app.companies.schemas import CompanyRead
from app.core.cache import CacheDep
from app.core.db import SessionDep
from app.core.errors import Conflict, NotFound, RateLimited, Unauthorized, error_responses
from app.core.ids import MAX_ID, IdPath
from app.core.pagination import Page, PageDep
from app.core.routing import Route, Router
from app.identity.deps import AdminUser, CurrentUser, caller_is_admin
from app.identity.models import User
from app.identity.write_limits import WriteAction, write_limit
from app.jobs.schemas import JobRead
from app.moderation import service
from app.moderation.models import Report, ReportStatus
from app.moderation.schemas import (
    AuditEntryRead,
    ModerationNote,
    ReportCreate,
    ReportRead,
    UserModeration,
)


class AdminRoute(Route):
    """A route of the admin API: to everyone but admins a 404 like any unknown route, whatever
    the method or body. The AdminUser dependency alone would come too late: FastAPI reads and
    validates the body before it solves dependencies (a 422), and Starlette answers a known
    path with another method itself (a 405 with its Allow)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admins_only(request: Request) -> Response:
            if not await caller_is_admin(request):
                raise NotFound("No such route.")
            return await handler(request)

        return admins_only

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        wrong_method = self.methods and scope["method"] not in self.methods
        if wrong_method and not await caller_is_admin(Request(scope, receive)):
            raise NotFound("No such route.")
        await super().handle(scope, receive, send)


reports_router = Router(prefix="/reports", tags=["trust and safety"])
admin_router = Router(prefix="/admin", tags=["admin"], route_class=AdminRoute)

_ADMIN_WRITE = error_responses(NotFound, Conflict)


@reports_router.post(
    "",
    summary="Report a job, company, user or message to the moderators",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportRead,
    responses=error_responses(Unauthorized, NotFound, Conflict, RateLimited),
    dependencies=[write_limit(WriteAction.REPORTS)],
)
async def create_report(body: ReportCreate, user: CurrentUser, session: SessionDep) -> Report:
    return await service.create_report(session, user, body)


@admin_router.get(
    "/reports",
    summary="The report queue, newest first",
    response_model=Page[ReportRead],
    responses=error_responses(NotFound),
)
async def list_reports(
    admin: AdminUser,
    page: PageDep,
    session: SessionDep,
    status: Annotated[ReportStatus | None, Query()] = None,
    target_type: Annotated[TargetType | None, Query()] = None,
) -> Page[ReportRead]:
    rows, cursor = await service.list_reports(session, page, status, target_type)
    return Page[ReportRead](
        items=[ReportRead.model_validate(row[0]) for row in rows], next_cursor=cursor
    )


@admin_router.post(
    "/reports/{report_id}/resolve",
    summary="Resolve a report with a note",
    response_model=ReportRead,
    responses=_ADMIN_WRITE,
)
async def resolve_report(
    report_id: IdPath, body: ModerationNote, admin: AdminUser, session: SessionDep
) -> Report:
    return await service.resolve_report(session, admin, report_id, body.reason)


@admin_router.post(
    "/jobs/{job_id}/take-down",
    summary="Take a job down: out of every list, shown to its owner as taken down",
    response_model=JobRead,
    responses=_ADMIN_WRITE,
)
async def take_down_job(
    job_id: IdPath, body: ModerationNote, admin: AdminUser, session: SessionDep, cache: CacheDep
) -> JobRead:
    job = await service.take_down_job(session, cache, admin, job_id, body.reason)
    return JobRead.of(job, datetime.now(UTC))


def _moderation(user: User) -> UserModeration:
    return UserModeration(
        id=user.id, suspended=user.suspended_at is not None, suspended_at=user.suspended_at
    )


@admin_router.post(
    "/users/{user_id}/suspend",
    summary="Suspend an account: its sessions end at once, sign-in is refused, others no "
    "longer see its profile, candidacy or jobs",
    response_model=UserModeration,
    responses=_ADMIN_WRITE,
)
async def suspend_user(
    user_id: IdPath, body: ModerationNote, admin: AdminUser, session: SessionDep, cache: CacheDep
) -> UserModeration:
    return _moderation(await service.suspend_user(session, cache, admin, user_id, body.reason))


@admin_router.post(
    "/users/{user_id}/restore",
    summary="Lift an account's suspension",
    response_model=UserModeration,
    responses=_ADMIN_WRITE,
)
async def restore_user(
    user_id: IdPath, body: ModerationNote, admin: AdminUser, session: SessionDep, cache: CacheDep
) -> UserModeration:
    return _moderation(await service.restore_user(session, cache, admin, user_id, body.reason))


@admin_router.post(
    "/companies/{company_id}/verify",
    summary="Verify a company: a badge on it and on its jobs",
    response_model=CompanyRead,
    responses=_ADMIN_WRITE,
)
async def verify_company(
    company_id: IdPath,
    body: ModerationNote,
    admin: AdminUser,
    session: SessionDep,
    cache: CacheDep,
) -> Company:
    return await service.verify_company(session, cache, admin, company_id, body.reason)


@admin_router.get(
    "/audit",
    summary="The audit log of admin actions, newest first",
    response_model=Page[AuditEntryRead],
    responses=error_responses(NotFound),
)
async def list_audit(
    admin: AdminUser,
    page: PageDep,
    session: SessionDep,
    action: Annotated[AuditAction | None, Query()] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    target_type: Annotated[TargetType | None, Query()] = None,
    target_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[AuditEntryRead]:
    rows, cursor = await service.list_audit(
        session,
        page,
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
    )
    return Page[AuditEntryRead](
        items=[AuditEntryRead.model_validate(row[0]) for row in rows], next_cursor=cursor
    )
