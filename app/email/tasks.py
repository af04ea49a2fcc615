"""The worker's side of email: delivering an outbox row, exactly once per row."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import bindparam, select, update

from app.email.models import OutboxEmail
from app.email.pool import MessageRefused
from app.email.sender import Mailer
from app.email.service import SEND_EMAIL_TASK
from app.queue.registry import RETRY, WorkerResource, queue_app, runtime

logger = logging.getLogger("app.email")

# The worker's SMTP connections (or .eml files without SMTP_HOST), shared by every send.
MAILER = WorkerResource("mailer", Mailer)

# One Core statement on the engine's connection, no ORM object: it locks the unsent row, marks it
# sent and returns the message as it was (PostgreSQL's RETURNING shows the new row, hence the
# locked read joined in). The send runs in its transaction: the mark commits only after the
# server's "250 OK", and a failed send rolls it back, the message with it.
_UNSENT = (
    select(OutboxEmail.id, OutboxEmail.message)
    .where(OutboxEmail.id == bindparam("outbox_id"))
    .with_for_update()
    .subquery("unsent")
)
_CLAIM_UNSENT = (
    update(OutboxEmail)
    .where(
        OutboxEmail.id == _UNSENT.c.id,
        OutboxEmail.sent_at.is_(None),
        OutboxEmail.message.is_not(None),
    )
    .values(sent_at=bindparam("sent_at"), message=None)
    .returning(OutboxEmail.key, OutboxEmail.recipient, OutboxEmail.message_id, _UNSENT.c.message)
)


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
    is marked, and a later run (whose lock waited for that commit) finds nothing to send. A
    permanent refusal leaves the row unsent and the job failed (logged with the row's id and
    the server's reply)."""
    rt = runtime(context)
    async with rt.database.engine.begin() as connection:
        claim = {"outbox_id": outbox_id, "sent_at": datetime.now(UTC)}
        row = (await connection.execute(_CLAIM_UNSENT, claim)).first()
        if row is None:  # sent already, or no such row
            return
        slug = re.sub(r"[^a-z0-9]+", "-", row.key.lower()).strip("-")[:60]
        try:
            await rt.resource(MAILER).deliver(
                row.recipient, row.message.encode(), f"{outbox_id:06d}-{slug}", row.message_id
            )
        except MessageRefused as exc:
            logger.error("email %d refused by the SMTP server: %s", outbox_id, exc)
            raise
