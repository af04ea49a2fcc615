"""The worker's side of files: uploads announced and never completed are removed, rows and
bytes, every 15 minutes (their completion window)."""

from __future__ import annotations

import logging

from procrastinate.job_context import JobContext

from app.files import references
from app.files.storage import make_storage
from app.queue.registry import queue_app, runtime

logger = logging.getLogger("app.files")


@queue_app.periodic(cron="*/15 * * * *", periodic_id="cleanup-uploads")
@queue_app.task(name="files.cleanup_uploads", pass_context=True, queueing_lock="cleanup-uploads")
async def cleanup_uploads(context: JobContext, timestamp: int) -> int:
    rt = runtime(context)
    storage = make_storage(rt.settings)
    async with rt.database.sessionmaker()() as session, session.begin():
        removed = await references.cleanup_expired_uploads(session, storage)
    logger.info("removed %d expired uploads", removed)
    return removed
