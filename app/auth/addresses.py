"""The addresses an account knows (one it signed in from or was recovered from, for
KNOWN_ADDRESS_TTL): past the account's failed sign-in limit, only they may still try."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.context import AuthContext
from app.auth.models import SignInAddress
from app.identity.models import User

KNOWN_ADDRESS_TTL = timedelta(days=90)


def _address_digest(ctx: AuthContext) -> str:
    # Keyed, so the table cannot be turned back into addresses by hashing every IPv4 address.
    key = ctx.settings.secret_key.encode()
    return hmac.new(key, ctx.client_ip.encode(), hashlib.sha256).hexdigest()


async def is_known_address(session: AsyncSession, ctx: AuthContext, user: User | None) -> bool:
    if user is None:
        return False
    found = await session.scalar(
        select(SignInAddress.user_id).where(
            SignInAddress.user_id == user.id,
            SignInAddress.address_digest == _address_digest(ctx),
            SignInAddress.last_seen_at > datetime.now(UTC) - KNOWN_ADDRESS_TTL,
        )
    )
    return found is not None


async def remember_address(session: AsyncSession, ctx: AuthContext, user: User) -> None:
    """The caller's address is known to the account from now on (for KNOWN_ADDRESS_TTL)."""
    await session.execute(
        insert(SignInAddress)
        .values(user_id=user.id, address_digest=_address_digest(ctx))
        .on_conflict_do_update(
            index_elements=[SignInAddress.user_id, SignInAddress.address_digest],
            set_={"last_seen_at": func.now()},
        )
    )
