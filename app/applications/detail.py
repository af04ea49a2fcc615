"""One application as its reply shows it (ApplicationRead), read as columns: to the applicant
or the job's owner only, with the history whose notes only the owner reads."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, select

from app.applications.models import Application, ApplicationStatusChange
from app.companies.models import Company
from app.core.db import RowSource
from app.core.errors import NotFound
from app.identity.caller import Caller
from app.identity.models import User
from app.jobs.models import Job

# `_detail_by_id`'s rows: one per status change, in order.
Detail = Sequence[Any]


# One row per status change in order (one row whose change columns are NULL if it has none): a
# read and its history in one round trip, and no ORM object built only to be serialised.
@functools.cache
def _detail_by_id() -> Select[*tuple[Any, ...]]:
    # The tables' columns, not the ORM's attributes: a Core statement skips the ORM's compile
    # and result layers (bench/layers.py).
    application, change = Application.__table__, ApplicationStatusChange.__table__
    job, company, applicant = Job.__table__, Company.__table__, User.__table__
    return (
        select(
            application.c.id,
            application.c.status,
            application.c.created_at,
            application.c.updated_at,
            application.c.cover_letter,
            application.c.resume_url,
            application.c.resume_file_id,
            application.c.applicant_id,
            applicant.c.full_name.label("applicant_name"),
            applicant.c.headline.label("applicant_headline"),
            job.c.id.label("job_id"),
            job.c.title.label("job_title"),
            job.c.status.label("job_status"),
            job.c.deleted_at.label("job_deleted_at"),
            job.c.expires_at.label("job_expires_at"),
            company.c.id.label("company_id"),
            company.c.name.label("company_name"),
            company.c.owner_id,
            change.c.from_status,
            change.c.to_status,
            change.c.created_at.label("changed_at"),
            change.c.actor_id,
            change.c.note,
        )
        .select_from(
            application.join(job, job.c.id == application.c.job_id)
            .join(company, company.c.id == job.c.company_id)
            .join(applicant, applicant.c.id == application.c.applicant_id)
            .outerjoin(change, change.c.application_id == application.c.id)
        )
        .where(application.c.id == bindparam("application_id"))
        .order_by(change.c.id)
    )


async def get_application(rows_of: RowSource, user: Caller, application_id: int) -> Detail:
    """The application with its history (`_detail_by_id`'s rows), to the applicant or the
    job's owner only."""
    rows = await rows_of(_detail_by_id(), {"application_id": application_id})
    if not rows or user.id not in (rows[0].applicant_id, rows[0].owner_id):
        raise NotFound("No such application.")
    return rows


def employer_note(viewer: Caller, owner_id: int, note: str | None) -> str | None:
    """A status change's note is the employer's: only the job's owner (`owner_id`) reads it."""
    return note if viewer.id == owner_id else None
