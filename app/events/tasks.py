"""The worker's side of live events: the events table keeps what a reconnecting stream may
replay, not the history (notifications and messages have their own tables)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from procrastinate.job_context import JobContext
from sqlalchemy import CursorResult, delete

from app.events.models import Event
from app.queue.registry import queue_app, runtime

logger = logging.getLogger("app.events")

# A stream that reconnects after longer than this replays only what is younger; its client
# reads the rest from the notifications and conversations it opens.
RETENTION = timedelta(days=7)


@queue_app.periodic(cron="41 3 * * *", periodic_id="prune-events")
@queue_app.task(name="events.prune", pass_context=True, queueing_lock="prune-events")
async def prune_events(context: JobContext, timestamp: int) -> int:
    """Delete the events older than RETENTION; without it the table grows with every
    notification, message and read marker for ever."""
    cutoff = datetime.now(UTC) - RETENTION
    async with runtime(context).database.sessionmaker()() as session, session.begin():
        # AsyncSession.execute is typed Result; a DELETE's is a CursorResult (rowcount).
        pruned = cast(
            CursorResult[Any], await session.execute(delete(Event).where(Event.created_at < cutoff))
        )
    logger.info("removed %d events older than %d days", pruned.rowcount, RETENTION.days)
    return pruned.rowcount
