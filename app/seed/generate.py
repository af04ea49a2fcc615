"""Deterministic seed data: the same seed and sizes give the same rows (times are relative to
`now`). Pure Python, no I/O: the caller supplies the row ids and writes the rows.

Every part draws from one random generator in a fixed order (accounts, companies, jobs, saved
jobs, applications), so changing what one part draws changes the rows of the parts after it.
"""

from __future__ import annotations

import random
from datetime import datetime

from app.seed.applications import applications
from app.seed.companies import companies
from app.seed.dataset import Dataset, SeedSize
from app.seed.jobs import jobs, saved_jobs
from app.seed.people import person


def generate(
    size: SeedSize,
    *,
    seed: int,
    now: datetime,
    password_hash: str,
    ids: dict[str, list[int]],
    taken_slugs: set[str],
) -> Dataset:
    """Rows for every table. `ids` holds pre-allocated ids for users, companies, jobs and
    applications (employers first among users)."""
    rng = random.Random(seed)  # noqa: S311 - demo data
    data = Dataset()
    employers = ids["users"][: size.employers]
    seekers = ids["users"][size.employers :]
    for role, members in (("employer", employers), ("job_seeker", seekers)):
        for n, user_id in enumerate(members, 1):
            data.users.append(person(rng, now, password_hash, user_id, role, n))
    names = {row[0]: row[3] for row in data.users}
    data.companies = companies(rng, now, ids["companies"], employers, taken_slugs)
    data.jobs, listed = jobs(rng, now, ids["jobs"], data.companies)
    if listed:
        data.saved_jobs = saved_jobs(rng, seekers, listed)
        data.applications, data.status_changes, data.notifications = applications(
            rng, now, ids["applications"], seekers, listed, names
        )
    return data
