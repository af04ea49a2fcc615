"""The cache namespace of the public listings (the job list and pages, the stats).

Every write that changes what they show invalidates it: publish, close, edit, delete, a
company's new name or logo, a verification badge. Here, in the lowest domain that invalidates
it (companies; jobs, moderation and stats above it use it too).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

JOBS_CACHE_NAMESPACE = "jobs"
JOBS_CACHE_TTL_SECONDS = 30.0


def ttl_until(expiries: Iterable[datetime | None], limit: float = JOBS_CACHE_TTL_SECONDS) -> float:
    """Seconds an entry may live: `limit`, or less if one of its jobs expires sooner (expiry
    needs no write, so an entry never outlives the soonest `expires_at` among its jobs)."""
    soonest = min((e for e in expiries if e is not None), default=None)
    if soonest is None:
        return limit
    return min(limit, (soonest - datetime.now(UTC)).total_seconds())
