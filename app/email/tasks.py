"""The worker's side of email: delivering an outbox row, exactly once per row."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import UTC, datetime

from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import select

from app.email.messages import policy_for
from app.email.models import OutboxEmail
from app.email.pool import MessageRefused
from app.email.sender import Mailer
from app.email.service import SEND_EMAIL_TASK
from app.queue.registry import RETRY, WorkerResource, queue_app, runtime

logger = logging.getLogger("app.email")

# The worker's SMTP connections (or .eml files without SMTP_HOST), shared by every send.
MAILER = WorkerResource("mailer", Mailer)


class SendRetry(BaseRetryStrategy):
    """The queue's retries (RETRY), except for a message the SMTP server refused for good: its
    job is `failed` at once, since the same message would be refused again."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, MessageRefused):
            return None
        return RETRY.get_retry_decision(exception=exception, job=job)


@queue_app.task(name=SEND_EMAIL_TASK, pass_context=True, retry=SendRetry())
async def send_email(context: JobContext, outbox_id: int) -> None:
    """Deliver one outbox email. The row stays locked while it is sent, so two runs of the job
    (a stalled-job retry racing a worker that was only slow) cannot both send it; once sent it
    is marked, and a later run does nothing. A permanent refusal leaves the row unsent and the
    job failed (logged with the row's id and the server's reply)."""
    rt = runtime(context)
    async with rt.database.sessionmaker()() as session, session.begin():
        row = await session.scalar(
            select(OutboxEmail).where(OutboxEmail.id == outbox_id).with_for_update()
        )
        if row is None or row.sent_at is not None or row.message is None:
            return
        message = email.message_from_string(row.message, policy=policy_for(row.recipient))
        slug = re.sub(r"[^a-z0-9]+", "-", row.key.lower()).strip("-")[:60]
        try:
            await rt.resource(MAILER).deliver(message, f"{row.id:06d}-{slug}")
        except MessageRefused as exc:
            logger.error("email %d refused by the SMTP server: %s", row.id, exc)
            raise
        row.sent_at = datetime.now(UTC)
        row.message = None
