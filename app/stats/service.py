"""The marketplace's headline numbers, computed over live jobs in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.models import Job
from app.jobs.service import live_clause


@dataclass(frozen=True)
class Stats:
    active_jobs: int
    companies_hiring: int
    new_jobs_this_week: int
    soonest_expiry: datetime | None  # when active_jobs next drops by itself


async def compute_stats(session: AsyncSession) -> Stats:
    stmt = select(
        func.count(),
        func.count(distinct(Job.company_id)),
        func.count().filter(Job.published_at >= func.now() - timedelta(days=7)),
        func.min(Job.expires_at),
    ).where(live_clause())
    active, companies, new, soonest = (await session.execute(stmt)).one()
    return Stats(active, companies, new, soonest)
