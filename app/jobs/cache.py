"""What the jobs domain caches: the public job list (and, in app.stats, the stats), in one
cache namespace that every write changing what they show invalidates (publish, close, edit,
delete, a company's new name or logo). Expiry needs no write, so an entry never outlives the
soonest `expires_at` among the jobs it holds."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from app.core.json import json_bytes

JOBS_CACHE_NAMESPACE = "jobs"
JOBS_CACHE_TTL_SECONDS = 30.0


def cache_key(*parts: object) -> str:
    return hashlib.sha256(json_bytes(parts)).hexdigest()


def ttl_until(expiries: Iterable[datetime | None], limit: float = JOBS_CACHE_TTL_SECONDS) -> float:
    """Seconds an entry may live: `limit`, or less if one of its jobs expires sooner."""
    soonest = min((e for e in expiries if e is not None), default=None)
    if soonest is None:
        return limit
    return min(limit, (soonest - datetime.now(UTC)).total_seconds())
