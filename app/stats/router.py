"""/api/stats: public numbers for the home page, cached with the job list."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from app.core.cache import CacheDep
from app.core.db import SessionDep
from app.core.errors import error_responses
from app.jobs.cache import JOBS_CACHE_NAMESPACE, ttl_until
from app.stats.service import compute_stats

router = APIRouter(tags=["stats"])

_KEY = "stats"


class StatsRead(BaseModel):
    active_jobs: int
    companies_hiring: int
    new_jobs_this_week: int


@router.get(
    "",
    summary="Live jobs, companies hiring and new jobs this week",
    response_model=StatsRead,
    responses=error_responses(),
)
async def get_stats(session: SessionDep, cache: CacheDep):
    hit = await cache.lookup(JOBS_CACHE_NAMESPACE, _KEY)
    if hit.value is not None:
        return Response(hit.value, media_type="application/json")
    stats = await compute_stats(session)
    payload = (
        StatsRead(
            active_jobs=stats.active_jobs,
            companies_hiring=stats.companies_hiring,
            new_jobs_this_week=stats.new_jobs_this_week,
        )
        .model_dump_json()
        .encode()
    )
    await cache.store(
        JOBS_CACHE_NAMESPACE,
        _KEY,
        payload,
        generation=hit.generation,
        ttl=ttl_until([stats.soonest_expiry]),
    )
    return Response(payload, media_type="application/json")
