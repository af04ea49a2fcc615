"""Emailed account links (issue 14): their single-use tokens (issued, spent, voided) and the
verification link every new or changed address is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.errors import InvalidEmailToken
from app.auth.models import AccountToken
from app.core.config import Settings
from app.core.security import hash_refresh_token, new_refresh_token
from app.email.messages import Email
from app.email.service import queue_email
from app.identity.models import User

VERIFY_EMAIL_TTL = timedelta(days=2)


async def issue_email_token(
    session: AsyncSession, user: User, purpose: str, email: str, ttl: timedelta
) -> tuple[AccountToken, str]:
    raw = new_refresh_token()
    token = AccountToken(
        user_id=user.id,
        purpose=purpose,
        token_hash=hash_refresh_token(raw),
        email=email,
        expires_at=datetime.now(UTC) + ttl,
    )
    session.add(token)
    await session.flush()
    return token, raw


def link_url(settings: Settings, path: str, raw: str) -> str:
    return f"{settings.link_base}/{path}?token={raw}"


async def spend_email_token(session: AsyncSession, purpose: str, raw: str) -> AccountToken:
    token = await session.scalar(
        select(AccountToken)
        .where(AccountToken.token_hash == hash_refresh_token(raw), AccountToken.purpose == purpose)
        .with_for_update()
    )
    if token is None or token.used_at is not None or token.expires_at <= datetime.now(UTC):
        raise InvalidEmailToken()
    token.used_at = datetime.now(UTC)
    return token


async def void_account_links(session: AsyncSession, user: User) -> None:
    """Every outstanding password reset link of the account dies, and every link that would
    change its address (a verification link to an address other than its current one). Run
    whenever the account is secured again or its address changes: a link asked for before
    must not undo it (an email change requested by someone who knew the old password, or a
    reset mailed to an address the account no longer has)."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.used_at.is_(None),
            or_(AccountToken.purpose == "password_reset", AccountToken.email != user.email),
        )
        .values(used_at=datetime.now(UTC))
    )


async def send_verification(
    session: AsyncSession, settings: Settings, user: User, email: str | None = None
) -> None:
    """Mail a verification link to the account's address, or to `email`, the address it is
    changing to (which takes effect once the link is followed)."""
    address = email or user.email
    token, raw = await issue_email_token(session, user, "verify_email", address, VERIFY_EMAIL_TTL)
    text = (
        f"Hello {user.full_name},\n\n"
        "Confirm that this is your email address by opening the link below. Until you do, "
        "an employer account cannot publish jobs."
    )
    url = link_url(settings, "verify-email", raw)
    await queue_email(
        session,
        settings,
        f"verify-email:{token.id}",
        Email(address, "Confirm your email address", text, url, "Confirm my address"),
    )
