"""A signed-in user's own account, behind the password: re-entering it (`confirm_password`),
changing it, and deleting the account."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.attempts import check_password, count_attempt
from app.auth.context import AuthContext
from app.auth.errors import WrongPassword
from app.auth.sessions import end_sessions
from app.core.errors import UnprocessableEntity
from app.files.storage import Storage
from app.identity.models import User
from app.users.schemas import normalize_email
from app.users.service import anonymise


async def confirm_password(
    session: AsyncSession, ctx: AuthContext, user: User, password: str
) -> None:
    """A signed-in user re-enters the password (password change, email change, account
    deletion). Under the account's limit whatever the address: a session may be stolen."""
    counted = await count_attempt(ctx, user.email)
    if not await check_password(ctx, user, user.email, password, counted, known=False):
        raise WrongPassword()
    await session.flush()


async def change_password(
    session: AsyncSession,
    ctx: AuthContext,
    user: User,
    current_password: str,
    new_password: str,
    keep_family: uuid.UUID | None,
) -> None:
    await confirm_password(session, ctx, user, current_password)
    if normalize_email(new_password) == user.email:
        raise UnprocessableEntity("The password must not be your email address.")
    if new_password == current_password:
        raise UnprocessableEntity("The new password must differ from the current one.")
    user.password_hash = await ctx.hasher.hash(new_password)
    await end_sessions(session, user, keep_family)


async def delete_account(
    session: AsyncSession, storage: Storage, ctx: AuthContext, user: User, password: str
) -> None:
    """Soft delete, password required: every session ends and the account is anonymised."""
    await confirm_password(session, ctx, user, password)
    await end_sessions(session, user)
    await anonymise(session, storage, user)
