"""What the jobs domain caches: the public job list and the stats, in one cache namespace that
every write changing what they show invalidates."""

from __future__ import annotations

JOBS_CACHE_NAMESPACE = "jobs"
