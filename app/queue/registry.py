"""The Procrastinate app every domain registers its tasks on (`@queue_app.task`), the worker's
runtime those tasks get through their context, and the recovery of jobs whose worker died.

Why Procrastinate: it keeps the queue in PostgreSQL, which the service has anyway (Redis is
optional), so a job is enqueued in the same transaction as its cause; it has retries with
backoff, worker heartbeats and a scheduler for periodic tasks. Its connector (psycopg 3) is
opened only by the worker process; its schema is applied by Alembic (revision 0003).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

import procrastinate
from procrastinate.job_context import JobContext

from app.core.config import Settings
from app.core.db import Database

logger = logging.getLogger("app.tasks")

queue_app = procrastinate.App(connector=procrastinate.PsycopgConnector())

# 2, 4, 8, ... 512 s between attempts (about 17 minutes in all), then the job is `failed`.
RETRY = procrastinate.RetryStrategy(max_attempts=10, exponential_wait=2)


class Closable(Protocol):
    async def aclose(self) -> None: ...


R = TypeVar("R", bound=Closable)


class WorkerResource(Generic[R]):
    """Something a domain's tasks share for the life of the worker process (the email domain's
    SMTP connections). The domain names it beside its tasks with `make`, which builds it from
    the settings and opens nothing; the runtime builds it on first use and `aclose()`s it when
    the worker stops. So the registry, which every domain's tasks import, imports no domain."""

    def __init__(self, name: str, make: Callable[[Settings], R]) -> None:
        self.name = name
        self.make = make

    def __repr__(self) -> str:
        return f"WorkerResource({self.name!r})"


@dataclass(frozen=True)
class WorkerRuntime:
    """What the worker process opens once and its tasks share; `python -m app worker` builds
    it and closes it at exit."""

    settings: Settings
    database: Database
    resources: dict[WorkerResource[Any], Closable] = field(default_factory=dict)

    def resource(self, key: WorkerResource[R]) -> R:
        if key not in self.resources:
            self.resources[key] = key.make(self.settings)
        return cast("R", self.resources[key])

    async def aclose(self) -> None:
        """Close every resource a task opened, newest first."""
        while self.resources:
            _, opened = self.resources.popitem()
            await opened.aclose()


def runtime(context: JobContext) -> WorkerRuntime:
    assert context.additional_context is not None
    return context.additional_context["runtime"]


@queue_app.periodic(cron="* * * * * */10", periodic_id="retry-stalled")
@queue_app.task(name="queue.retry_stalled", pass_context=True, queueing_lock="retry-stalled")
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Jobs left `doing` by a worker that stopped sending heartbeats (killed, its machine
    gone) run again; the tasks are idempotent, so a job that had got halfway is safe to rerun."""
    seconds = runtime(context).settings.worker_stalled_seconds
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=seconds))
    for job in stalled:
        logger.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)
