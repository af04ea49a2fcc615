"""Sessions: access and refresh tokens issued at sign-in, rotated on refresh, revoked on
sign-out, and every session of an account ended at once (`end_sessions`)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.account_links import void_account_links
from app.auth.context import AuthContext
from app.auth.errors import InvalidRefreshToken
from app.auth.models import RefreshToken
from app.core.ratelimit import Limit
from app.core.security import create_access_token, hash_refresh_token, new_refresh_token
from app.events.models import EventKind
from app.events.service import record
from app.identity.known_callers import forget_on_commit
from app.identity.models import User

logger = logging.getLogger("app.auth")

REFRESHES_PER_ADDRESS = Limit("30/minute")


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    expires_in: int
    refresh_token: str


async def _lock_account_sessions(session: AsyncSession, user_id: int) -> None:
    """Take the account's row lock before touching its refresh tokens. Every change to an
    account's sessions (sign-in, refresh, logout, logout-all) does, so they happen one at a
    time and in one lock order: a refresh racing a logout can neither outlive it nor deadlock
    with it."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def issue_tokens(
    session: AsyncSession, ctx: AuthContext, user: User, family_id: uuid.UUID | None = None
) -> IssuedTokens:
    """An access token and a refresh token, the latter in the given login family or a new one
    (a sign-in, which is also when the account's expired refresh tokens are cleared away)."""
    if family_id is None:
        family_id = uuid.uuid4()
        await _lock_account_sessions(session, user.id)
        await session.execute(
            delete(RefreshToken).where(
                RefreshToken.user_id == user.id, RefreshToken.expires_at < datetime.now(UTC)
            )
        )
    raw = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_refresh_token(raw),
            expires_at=datetime.now(UTC) + timedelta(days=ctx.settings.refresh_token_ttl_days),
            created_ip=ctx.client_ip[:45],
            user_agent=ctx.user_agent[:255] if ctx.user_agent else None,
        )
    )
    await session.flush()
    access, expires_in = create_access_token(
        ctx.settings,
        user_id=user.id,
        role=user.role,
        token_version=user.token_version,
        session_id=family_id,
    )
    return IssuedTokens(user, access, expires_in, raw)


async def _find_token(
    session: AsyncSession, raw: str, *, lock: bool = False
) -> RefreshToken | None:
    query = select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(raw))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def rotate(session: AsyncSession, ctx: AuthContext, raw: str) -> IssuedTokens:
    """Spend a refresh token for a new pair in the same family.

    The token's row is locked, so of two concurrent refreshes with one token the second waits,
    then finds it spent. A spent token presented again means it was copied: the whole family
    is revoked, including the newest token its rightful holder has.
    """
    await ctx.limiter.hit(REFRESHES_PER_ADDRESS, "refresh", ctx.client_ip)
    token = await _find_token(session, raw)
    if token is None:
        raise InvalidRefreshToken()
    await _lock_account_sessions(session, token.user_id)
    token = await _find_token(session, raw, lock=True)  # re-read under the locks
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        raise InvalidRefreshToken()
    if token.used_at is not None:
        await _revoke(session, RefreshToken.family_id == token.family_id)
        # Committed here because the request fails: the revocation must outlive the 401.
        await session.commit()
        logger.warning(
            "refresh token reused; login family revoked",
            extra={"user_id": token.user_id, "family_id": str(token.family_id)},
        )
        raise InvalidRefreshToken()
    if token.expires_at <= now:
        raise InvalidRefreshToken()
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active or user.deleted_at is not None or user.suspended_at:
        raise InvalidRefreshToken()
    token.used_at = now
    return await issue_tokens(session, ctx, user, token.family_id)


async def _revoke(session: AsyncSession, *where: ColumnElement[bool]) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_(None), *where)
        .values(revoked_at=datetime.now(UTC))
    )


async def logout(session: AsyncSession, raw: str) -> None:
    """End the login family this refresh token belongs to; unknown tokens change nothing."""
    token = await _find_token(session, raw)
    if token is None:
        return
    await _lock_account_sessions(session, token.user_id)
    await _revoke(session, RefreshToken.family_id == token.family_id)


async def end_sessions(
    session: AsyncSession, user: User, keep_family: uuid.UUID | None = None
) -> None:
    """Every outstanding access token stops working (the token version moves on), every
    refresh token is revoked, except those of `keep_family` when given, and every emailed
    link that could take the account over dies (`void_account_links`). Password reset and
    change, logout-all, suspension, deletion and an admin's demotion all come through here."""
    await session.flush()
    await _lock_account_sessions(session, user.id)
    # Incremented in SQL, under the lock: two concurrent calls move it on twice.
    version = await session.scalar(
        update(User)
        .where(User.id == user.id)
        .values(token_version=User.token_version + 1)
        .returning(User.token_version),
        execution_options={"synchronize_session": False},
    )
    set_committed_value(user, "token_version", version)
    # Every instance forgets the caller it checked (migration 0013's NOTIFY); this one at once.
    forget_on_commit(session, user.id)
    # Open live streams of the account end too, on every instance (app/events).
    record(session, user.id, EventKind.SESSION_ENDED, {})
    where = [RefreshToken.user_id == user.id]
    if keep_family is not None:
        where.append(RefreshToken.family_id != keep_family)
    await _revoke(session, *where)
    await void_account_links(session, user)
