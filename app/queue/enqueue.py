"""Background jobs on Procrastinate (a PostgreSQL-backed queue): enqueueing from any session.

A job is a row in `procrastinate_jobs`, inserted by Procrastinate's own SQL function through
the caller's session, so it commits or rolls back with the change that caused it: a rolled-back
request enqueues nothing, and a committed one cannot lose its job. The insert fires
Procrastinate's NOTIFY trigger, which wakes the workers once the transaction commits. The API
process never opens a connection of Procrastinate's: only the worker (`python -m app worker`)
does.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_QUEUE = "default"

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
)


async def enqueue(session: AsyncSession, task_name: str, **kwargs: Any) -> int:
    """Defer `task_name(**kwargs)` in the session's transaction; returns the job's id."""
    job_id = await session.scalar(
        _DEFER,
        {"queue": DEFAULT_QUEUE, "task": task_name, "args": orjson.dumps(kwargs).decode()},
    )
    assert job_id is not None
    return int(job_id)
