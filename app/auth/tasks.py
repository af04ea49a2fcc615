"""The worker's side of accounts: mailing reset links, and clearing spent tokens daily."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from procrastinate.job_context import JobContext
from sqlalchemy import CursorResult, delete, or_

from app.auth.addresses import KNOWN_ADDRESS_TTL
from app.auth.models import AccountToken, RefreshToken, SignInAddress
from app.auth.recovery import PASSWORD_RESET_TASK, mail_password_reset
from app.queue.registry import RETRY, queue_app, runtime

logger = logging.getLogger("app.auth")


@queue_app.task(name=PASSWORD_RESET_TASK, pass_context=True, retry=RETRY)
async def password_reset(context: JobContext, email: str) -> None:
    rt = runtime(context)
    async with rt.database.sessionmaker()() as session, session.begin():
        key = f"password-reset:{context.job.id}"
        if not await mail_password_reset(session, rt.settings, email, key):
            logger.info("password reset asked for; nothing to send", extra={"job": key})


@queue_app.periodic(cron="17 3 * * *", periodic_id="clean-tokens")
@queue_app.task(name="auth.clean_tokens", pass_context=True, queueing_lock="clean-tokens")
async def clean_tokens(context: JobContext, timestamp: int) -> int:
    """Delete emailed tokens that are spent or expired, refresh tokens a day past expiry
    (kept that long so a late reuse is still recognised and answered as such), and sign-in
    addresses no longer known (KNOWN_ADDRESS_TTL)."""
    now = datetime.now(UTC)
    async with runtime(context).database.sessionmaker()() as session, session.begin():
        # AsyncSession.execute is typed Result; a DELETE's is a CursorResult (rowcount).
        spent = cast(
            CursorResult[Any],
            await session.execute(
                delete(AccountToken).where(
                    or_(AccountToken.used_at.is_not(None), AccountToken.expires_at < now)
                )
            ),
        )
        expired = cast(
            CursorResult[Any],
            await session.execute(
                delete(RefreshToken).where(RefreshToken.expires_at < now - timedelta(days=1))
            ),
        )
        stale = cast(
            CursorResult[Any],
            await session.execute(
                delete(SignInAddress).where(SignInAddress.last_seen_at < now - KNOWN_ADDRESS_TTL)
            ),
        )
    removed = spent.rowcount + expired.rowcount
    logger.info(
        "removed %d spent or expired tokens and %d stale sign-in addresses",
        removed,
        stale.rowcount,
    )
    return removed + stale.rowcount
