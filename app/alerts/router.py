"""/api/users/me/job-alerts: saved searches mailed by the worker."""

from __future__ import annotations

from fastapi import Response, status

from app.alerts import service
from app.alerts.schemas import JobAlertCreate, JobAlertRead
from app.core.db import SessionDep
from app.core.errors import Conflict, NotFound, Unauthorized, error_responses
from app.core.ids import IdPath
from app.core.pagination import Page
from app.core.routing import Router
from app.identity.deps import CurrentUser

router = Router(tags=["job alerts"])


def _read(alert: object) -> JobAlertRead:
    return JobAlertRead.model_validate(alert, from_attributes=True)


@router.post(
    "/users/me/job-alerts",
    status_code=status.HTTP_201_CREATED,
    summary="Save a search as a job alert",
    responses=error_responses(Unauthorized, Conflict),
)
async def create_job_alert(
    body: JobAlertCreate, user: CurrentUser, session: SessionDep, response: Response
) -> JobAlertRead:
    """The filters and `q` of GET /api/jobs; each new job matching them is mailed once, at
    once (`instant`, within a minute) or in a daily digest. At most 10 alerts per account."""
    alert = await service.create_alert(session, user, body)
    response.headers["Location"] = f"/api/users/me/job-alerts/{alert.id}"
    return _read(alert)


@router.get(
    "/users/me/job-alerts", summary="My job alerts", responses=error_responses(Unauthorized)
)
async def list_job_alerts(user: CurrentUser, session: SessionDep) -> Page[JobAlertRead]:
    """All of them (there are 10 at most): `next_cursor` is always null."""
    alerts = await service.list_alerts(session, user)
    return Page(items=[_read(a) for a in alerts], next_cursor=None)


@router.delete(
    "/users/me/job-alerts/{alert_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a job alert",
    responses=error_responses(Unauthorized, NotFound),
)
async def delete_job_alert(alert_id: IdPath, user: CurrentUser, session: SessionDep) -> None:
    await service.delete_alert(session, user, alert_id)
