"""The cache namespaces of the public listings (the job list and pages, the stats).

Every write that changes what they show invalidates what it changed:

- a job's own write (publish, close, edit, delete, a moderator taking it down):
  `job_changed(id)`, its page and the lists (`LISTINGS`), so every other job's page stays
  cached on every instance;
- what many jobs show (a company's new name or logo, its verification badge, an owner
  suspended or restored, a seed): `JOBS`, every job page and list.

A job's page is read under (`JOBS`, its own namespace) and the lists and stats under (`JOBS`,
`LISTINGS`), so each is dropped by either kind of write. Here, in the lowest domain that
invalidates them (companies; jobs, moderation and stats above it use them too).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

JOBS = "jobs"
LISTINGS = "listings"
JOBS_CACHE_TTL_SECONDS = 30.0
LISTING_NAMESPACES = (JOBS, LISTINGS)


def _job(job_id: int) -> str:
    return f"job:{job_id}"


def job_page_namespaces(job_id: int) -> tuple[str, ...]:
    return (JOBS, _job(job_id))


def job_changed(job_id: int) -> tuple[str, ...]:
    """What a write to one job invalidates: its page and the lists."""
    return (LISTINGS, _job(job_id))


def ttl_until(expiries: Iterable[datetime | None], limit: float = JOBS_CACHE_TTL_SECONDS) -> float:
    """Seconds an entry may live: `limit`, or less if one of its jobs expires sooner (expiry
    needs no write, so an entry never outlives the soonest `expires_at` among its jobs)."""
    soonest = min((e for e in expiries if e is not None), default=None)
    if soonest is None:
        return limit
    return min(limit, (soonest - datetime.now(UTC)).total_seconds())
