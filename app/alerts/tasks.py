"""Job alerts on Procrastinate's scheduler: instant alerts every minute, daily digests at
07:00 UTC (03:00 in Nassau)."""

from __future__ import annotations

from procrastinate.job_context import JobContext

from app.alerts.service import sweep
from app.queue.registry import RETRY, queue_app, runtime


async def _sweep(context: JobContext, frequency: str) -> int:
    rt = runtime(context)
    async with rt.database.sessionmaker()() as session, session.begin():
        return await sweep(session, rt.settings, frequency)


@queue_app.periodic(cron="* * * * *", periodic_id="alerts-instant")
@queue_app.task(
    name="alerts.instant", pass_context=True, retry=RETRY, queueing_lock="alerts-instant"
)
async def instant_alerts(context: JobContext, timestamp: int) -> int:
    return await _sweep(context, "instant")


@queue_app.periodic(cron="0 7 * * *", periodic_id="alerts-daily")
@queue_app.task(name="alerts.daily", pass_context=True, retry=RETRY, queueing_lock="alerts-daily")
async def daily_alerts(context: JobContext, timestamp: int) -> int:
    return await _sweep(context, "daily")
