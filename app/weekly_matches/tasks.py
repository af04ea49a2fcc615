"""The weekly "new jobs for you" email on Procrastinate's scheduler: Mondays at 11:00 UTC
(07:00 in Nassau), each seeker in a transaction of their own."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from procrastinate.job_context import JobContext

from app.queue.registry import RETRY, queue_app, runtime
from app.weekly_matches.service import mail_seeker, recipients, week_of

logger = logging.getLogger("app.weekly_matches")


@queue_app.periodic(cron="0 11 * * 1", periodic_id="weekly-matches")
@queue_app.task(
    name="weekly_matches.send", pass_context=True, retry=RETRY, queueing_lock="weekly-matches"
)
async def send_weekly_matches(context: JobContext, timestamp: int) -> int:
    """Mail every seeker their week's new matches; returns how many emails were queued. The
    week is the one the scheduler meant (`timestamp`), so a retry on Tuesday is still that
    week's run and mails nobody twice. Any seeker failing fails the job, which retries."""
    rt = runtime(context)
    week = week_of(datetime.fromtimestamp(timestamp, UTC))
    sessions = rt.database.sessionmaker()
    async with sessions() as session:
        seekers = await recipients(session)
    queued, failed = 0, 0
    for user_id in seekers:
        try:
            async with sessions() as session, session.begin():
                queued += await mail_seeker(session, rt.settings, user_id, week) > 0
        except Exception:
            # One seeker whose email cannot be built does not stop everyone after them.
            logger.exception("Weekly matches for user %d failed", user_id)
            failed += 1
    logger.info("weekly matches %s: %d emails queued, %d failed", week, queued, failed)
    if failed:
        # The retry mails those who failed; everyone mailed already has this week's key.
        raise RuntimeError(f"weekly matches {week}: {failed} seekers failed")
    return queued
