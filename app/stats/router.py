"""/api/stats: public numbers for the home page."""

from __future__ import annotations

from fastapi import Request, Response

from app.core.cache import CacheDep
from app.core.db import PublicReaderDep
from app.core.errors import error_responses
from app.core.http_cache import public_get, public_json
from app.core.routing import Router
from app.stats.service import StatsRead, stats_page

router = Router(tags=["stats"])


@public_get(
    router,
    "",
    response_model=StatsRead,
    responses=error_responses(),
    summary="Headline numbers for the home page",
)
async def get_stats(request: Request, reader: PublicReaderDep, cache: CacheDep) -> Response:
    return public_json(request, await stats_page(reader, cache))
