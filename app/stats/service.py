"""The marketplace's headline numbers, computed over live jobs in one query and cached with the
job list."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import distinct, func, select

from app.companies.listing_cache import LISTING_NAMESPACES, ttl_until
from app.core.cache import Cache
from app.core.db import PublicReader
from app.core.http_cache import PublicReply
from app.jobs.models import Job
from app.jobs.service import live_clause

_KEY = "stats"


class StatsRead(BaseModel):
    active_jobs: int
    companies_hiring: int
    new_jobs_this_week: int


async def stats_page(reader: PublicReader, cache: Cache) -> PublicReply:
    """The stats as the reply of their StatsRead, from the jobs cache while it holds them; an
    entry lives until the soonest expiry among the live jobs (when active_jobs next drops)."""
    hit = await cache.lookup(LISTING_NAMESPACES, _KEY)
    if hit.value is not None:
        return hit.value
    stmt = select(
        func.count(),
        func.count(distinct(Job.company_id)),
        func.count().filter(Job.published_at >= func.now() - timedelta(days=7)),
        func.min(Job.expires_at),
    ).where(live_clause())
    session = await reader.session()
    active, companies, new, soonest = (await session.execute(stmt)).one()
    body = (
        StatsRead(active_jobs=active, companies_hiring=companies, new_jobs_this_week=new)
        .model_dump_json()
        .encode()
    )
    return await cache.store(LISTING_NAMESPACES, _KEY, body, read=hit, ttl=ttl_until([soonest]))
