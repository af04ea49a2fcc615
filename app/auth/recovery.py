"""Password reset by email (issue 14): asked for by anyone, mailed by the worker, confirmed
with the emailed token."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.account_links import issue_email_token, link_url, spend_email_token
from app.auth.addresses import remember_address
from app.auth.attempts import clear_failed_logins
from app.auth.context import AuthContext, account_key
from app.auth.errors import InvalidEmailToken
from app.auth.sessions import end_sessions
from app.auth.signin import find_by_email
from app.core.config import Settings
from app.core.errors import UnprocessableEntity
from app.core.ratelimit import Limit
from app.core.redis import redis_errors
from app.email.messages import Email
from app.email.service import already_queued, queue_email
from app.identity.models import User
from app.queue.enqueue import enqueue
from app.users.schemas import normalize_email

logger = logging.getLogger("app.auth")

PASSWORD_RESET_TTL = timedelta(minutes=30)
RESETS_PER_ADDRESS = Limit("10/hour")
RESETS_PER_ACCOUNT = Limit("3/hour")
RESET_CONFIRMS_PER_ADDRESS = Limit("20/hour")
PASSWORD_RESET_TASK = "auth.password_reset"  # noqa: S105 - a task name


async def request_password_reset(session: AsyncSession, ctx: AuthContext, email: str) -> None:
    """The same work for every address, known or not: count it, and hand it to the worker,
    which looks the account up and mails it. Nothing the caller sees depends on the account."""
    message = "Too many password reset requests. Try again later."
    await ctx.limiter.hit(RESETS_PER_ADDRESS, "reset-address", ctx.client_ip, message=message)
    await ctx.limiter.hit(RESETS_PER_ACCOUNT, "reset-account", account_key(email), message=message)
    await enqueue(session, PASSWORD_RESET_TASK, email=normalize_email(email))


async def mail_password_reset(
    session: AsyncSession, settings: Settings, email: str, key: str
) -> bool:
    """The worker's half of a reset request: a token and its email for an active account with
    this address, once per `key` (the job); False when there is nothing to send."""
    if await already_queued(session, key):
        return False
    user = await find_by_email(session, email)
    if user is None or not user.is_active:
        return False
    _, raw = await issue_email_token(
        session, user, "password_reset", user.email, PASSWORD_RESET_TTL
    )
    text = (
        f"Hello {user.full_name},\n\n"
        "Someone asked to reset the password of your HireMeBahamas account. If it was you, "
        "open the link below within 30 minutes to choose a new password. If it was not, "
        "ignore this email: your password stays as it is."
    )
    subject = "Reset your HireMeBahamas password"
    link = link_url(settings, "reset-password", raw)
    return await queue_email(
        session, settings, key, Email(user.email, subject, text, link, "Choose a new password")
    )


async def confirm_password_reset(
    session: AsyncSession, ctx: AuthContext, raw: str, new_password: str
) -> None:
    await ctx.limiter.hit(RESET_CONFIRMS_PER_ADDRESS, "reset-confirm", ctx.client_ip)
    token = await spend_email_token(session, "password_reset", raw)
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise InvalidEmailToken()
    if normalize_email(new_password) == user.email:
        raise UnprocessableEntity("The password must not be your email address.")
    user.password_hash = await ctx.hasher.hash(new_password)
    await end_sessions(session, user)
    # The mailbox is proven: the account's lock is lifted, and this address is known to it.
    await remember_address(session, ctx, user)
    try:
        await clear_failed_logins(ctx.limiter, user.email)
    except redis_errors():
        # This instance forgot the count; the shared one in Redis expires by itself.
        logger.warning("the failed sign-in limit was not cleared in Redis after a reset")
    text = (
        f"Hello {user.full_name},\n\n"
        "The password of your HireMeBahamas account was just changed through a reset link, "
        "and every device was signed out. If this was not you, reset your password again "
        "at once and contact us."
    )
    await queue_email(
        session,
        ctx.settings,
        f"password-changed:{token.id}",
        Email(user.email, "Your HireMeBahamas password was changed", text),
    )
    logger.info("password reset completed", extra={"user_id": user.id})
