"""Email verification and email change (issue 14): a link mailed to the address proves it; a
link mailed to a new address makes it the account's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.account import confirm_password
from app.auth.account_links import send_verification, spend_email_token, void_account_links
from app.auth.context import AuthContext
from app.auth.errors import EmailTaken, InvalidEmailToken
from app.auth.signin import find_by_email
from app.core.config import Settings
from app.core.errors import UnprocessableEntity
from app.core.ratelimit import Limit
from app.email.messages import Email
from app.email.service import queue_email
from app.identity.models import User

VERIFICATIONS_PER_ACCOUNT = Limit("5/hour")


async def _limit_verifications(ctx: AuthContext, user: User) -> None:
    await ctx.limiter.hit(
        VERIFICATIONS_PER_ACCOUNT,
        "verify-email",
        str(user.id),
        message="Too many verification emails asked for. Try again later.",
    )


async def request_verification(session: AsyncSession, ctx: AuthContext, user: User) -> None:
    await _limit_verifications(ctx, user)
    if not user.email_verified:
        await send_verification(session, ctx.settings, user)


async def request_email_change(
    session: AsyncSession, ctx: AuthContext, user: User, password: str, new_email: str
) -> None:
    """Verify the new address before it takes effect (a link mailed to it), and tell the
    current one, so a stolen session cannot quietly take the account over."""
    await confirm_password(session, ctx, user, password)
    await _limit_verifications(ctx, user)
    if new_email == user.email:
        raise UnprocessableEntity("This is already your email address.")
    if await find_by_email(session, new_email) is not None:
        raise EmailTaken()
    await send_verification(session, ctx.settings, user, new_email)
    text = (
        f"Hello {user.full_name},\n\n"
        f"Someone signed in to your HireMeBahamas account asked to change its email address to "
        f"{new_email}. It changes only once that address is confirmed. If this was not you, "
        "change your password now: that signs every device out."
    )
    await queue_email(
        session,
        ctx.settings,
        f"email-change-requested:{user.id}:{uuid.uuid4().hex}",
        Email(user.email, "Your HireMeBahamas email address is being changed", text),
    )


async def confirm_verification(session: AsyncSession, settings: Settings, raw: str) -> None:
    """Mark the address verified; a link sent to a new address also makes it the account's
    (and the links `void_account_links` names die: resets mailed to the old address, other
    pending changes)."""
    token = await spend_email_token(session, "verify_email", raw)
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise InvalidEmailToken()
    now = datetime.now(UTC)
    if token.email != user.email:
        old_email = user.email
        if await find_by_email(session, token.email) is not None:
            raise EmailTaken()
        user.email = token.email
        try:
            await session.flush()
        except IntegrityError:  # taken by a sign-up at the same moment
            raise EmailTaken() from None
        await void_account_links(session, user)
        text = (
            f"Hello {user.full_name},\n\n"
            f"The email address of your HireMeBahamas account is now {user.email}; this "
            "address no longer signs in. If this was not you, contact us at once."
        )
        await queue_email(
            session,
            settings,
            f"email-changed:{token.id}",
            Email(old_email, "Your HireMeBahamas email address was changed", text),
        )
    user.email_verified_at = now
