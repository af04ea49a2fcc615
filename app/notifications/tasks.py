"""The worker mails the notifications of the kinds that are emailed, once each, to recipients
whose email preferences want them."""

from __future__ import annotations

from procrastinate.job_context import JobContext

from app.email.messages import Email
from app.email.service import queue_email, wants
from app.email.unsubscribe import unsubscribe_url
from app.identity.models import User
from app.notifications.models import Notification
from app.notifications.service import EMAILED_KINDS, NOTIFICATION_EMAIL_TASK
from app.queue.registry import RETRY, queue_app, runtime


@queue_app.task(name=NOTIFICATION_EMAIL_TASK, pass_context=True, retry=RETRY)
async def email_notification(context: JobContext, notification_id: int) -> None:
    rt = runtime(context)
    async with rt.database.sessionmaker()() as session, session.begin():
        notification = await session.get(Notification, notification_id)
        if notification is None:
            return
        category = EMAILED_KINDS[notification.kind]
        user = await session.get(User, notification.user_id)
        if user is None or not user.is_active or user.deleted_at or not wants(user, category):
            return
        text = f"Hello {user.full_name},\n\n{notification.body or notification.title}"
        link = f"{rt.settings.link_base}/notifications"
        await queue_email(
            session,
            rt.settings,
            f"notification:{notification.id}",
            Email(
                user.email,
                notification.title,
                text,
                link,
                "Open HireMeBahamas",
                unsubscribe=unsubscribe_url(rt.settings, user.id, category),
            ),
        )
