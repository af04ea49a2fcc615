"""Signing up and signing in: registration under its per-address limit, and the password
check behind the failed sign-in limits (app/auth/attempts.py) and known addresses."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.account_links import send_verification
from app.auth.addresses import is_known_address, remember_address
from app.auth.attempts import check_password, count_attempt
from app.auth.context import AuthContext
from app.auth.errors import AccountSuspended, EmailTaken, InvalidCredentials
from app.auth.schemas import RegisterRequest
from app.core.ratelimit import Limit
from app.identity.models import User
from app.users.schemas import normalize_email

logger = logging.getLogger("app.auth")

REGISTRATIONS_PER_ADDRESS = Limit("10/hour")


async def register(session: AsyncSession, ctx: AuthContext, data: RegisterRequest) -> User:
    await ctx.limiter.hit(
        REGISTRATIONS_PER_ADDRESS,
        "register",
        ctx.client_ip,
        message="Too many accounts created from this address. Try again later.",
    )
    if await find_by_email(session, data.email) is not None:
        raise EmailTaken()
    user = User(
        email=data.email,
        password_hash=await ctx.hasher.hash(data.password),
        full_name=data.full_name,
        role=data.role,
        last_login_at=datetime.now(UTC),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # the same address registered concurrently
        raise EmailTaken() from None
    await remember_address(session, ctx, user)
    await send_verification(session, ctx.settings, user)
    logger.info("account registered", extra={"user_id": user.id, "role": user.role})
    return user


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(
        select(User).where(User.email == normalize_email(email), User.deleted_at.is_(None))
    )


async def authenticate(session: AsyncSession, ctx: AuthContext, email: str, password: str) -> User:
    """The active account with this email and password; the same answer, after the same work,
    for an unknown email and a wrong password."""
    counted = await count_attempt(ctx, email)
    user = await find_by_email(session, email)
    known = await is_known_address(session, ctx, user)
    if not await check_password(ctx, user, email, password, counted, known=known):
        raise InvalidCredentials()
    assert user is not None
    if not user.is_active:
        raise InvalidCredentials()
    if user.suspended_at is not None:
        # Said only to someone who knows the password: it reveals nothing to a guesser.
        raise AccountSuspended()
    user.last_login_at = datetime.now(UTC)
    await remember_address(session, ctx, user)
    return user
