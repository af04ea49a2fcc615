"""The seed's applications: each one's path through the hiring pipeline, the status changes
that recorded it, and the notifications of the last month that it sent."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from app.applications.models import ApplicationStatus
from app.applications.pipeline import STAGES
from app.notifications import messages
from app.seed.dataset import Row
from app.seed.draws import between
from app.seed.jobs import ListedJob

Step = tuple[ApplicationStatus | None, ApplicationStatus, int, datetime]


def applications(
    rng: random.Random,
    now: datetime,
    ids: list[int],
    seekers: list[int],
    jobs: list[ListedJob],
    names: dict[int, str],
) -> tuple[list[Row], list[Row], list[Row]]:
    """The rows of applications, of their status changes and of notifications: one
    application per id (at most one per seeker and job), from the seekers (`names` holds their
    full names) to the listed jobs."""
    rows: list[Row] = []
    status_changes: list[Row] = []
    notifications: list[Row] = []
    pairs: set[tuple[int, int]] = set()
    capacity = len(seekers) * len(jobs)
    inbox_start, read_before = now - timedelta(days=30), now - timedelta(days=7)
    for application_id in ids[: min(len(ids), capacity)]:
        while True:
            job, seeker = rng.choice(jobs), rng.choice(seekers)
            if (job.id, seeker) not in pairs:
                pairs.add((job.id, seeker))
                break
        applied = between(rng, job.opened, job.ends)
        path = _path(rng)
        at = applied
        steps: list[Step] = [(None, ApplicationStatus.SUBMITTED, seeker, applied)]
        for earlier, later in itertools.pairwise(path):
            at = min(now, at + timedelta(hours=rng.uniform(2, 96)))
            actor = seeker if later is ApplicationStatus.WITHDRAWN else job.owner_id
            steps.append((earlier, later, actor, at))
        rows.append(
            (
                application_id,
                job.id,
                seeker,
                f"Dear hiring manager, I would like to apply for the {job.title} position.",
                None,
                path[-1].value,
                applied,
                at,
            )
        )
        for before, after, actor, when in steps:
            status_changes.append(
                (application_id, before and before.value, after.value, actor, when)
            )
            if when < inbox_start:
                continue  # only the last month's notifications are kept
            if after is ApplicationStatus.SUBMITTED:
                recipient = job.owner_id
                message = messages.application_received(job.title, names[seeker])
            elif after is ApplicationStatus.WITHDRAWN:
                recipient = job.owner_id
                message = messages.application_withdrawn(job.title, names[seeker])
            else:
                recipient = seeker
                message = messages.application_status_changed(job.title, after.value)
            kind, title, body = message
            read = when + timedelta(hours=6) if when < read_before else None
            notifications.append(
                (recipient, kind.value, title, body, job.id, application_id, read, when)
            )
    return rows, status_changes, notifications


def _path(rng: random.Random) -> list[ApplicationStatus]:
    """The statuses an application went through, submitted first."""
    roll = rng.random()
    if roll < 0.10:
        return [*STAGES[: rng.randint(1, 4)], ApplicationStatus.REJECTED]
    if roll < 0.13:
        return [*STAGES[: rng.randint(1, 3)], ApplicationStatus.WITHDRAWN]
    reached = rng.choices(range(len(STAGES)), weights=(45, 20, 10, 7, 3, 2))[0]
    return list(STAGES[: reached + 1])
