"""Administrators: made and unmade by operators from the command line (app/auth/commands.py),
never through the API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.errors import EmailTaken
from app.auth.schemas import RegisterRequest
from app.auth.sessions import end_sessions
from app.core.errors import Conflict
from app.core.security import PasswordHasher
from app.identity.models import Role, User
from app.users.service import account_for_update


async def create_admin(
    session: AsyncSession, hasher: PasswordHasher, account: RegisterRequest
) -> User:
    """A new administrator account, under the same rules as a sign-up (its `role` aside).
    Only operators reach this, from the command line."""
    if await session.scalar(select(User.id).where(User.email == account.email)) is not None:
        raise EmailTaken(f"An account with the email {account.email} already exists.")
    user = User(
        email=account.email,
        password_hash=await hasher.hash(account.password),
        full_name=account.full_name,
        role=Role.ADMIN.value,
    )
    session.add(user)
    await session.flush()
    return user


async def revoke_admin(session: AsyncSession, email: str, role: Role) -> User:
    """Take the admin role away (the account keeps `role`) and end its sessions at once, so
    no access token issued while it was an admin outlives the change."""
    user = await account_for_update(session, email)
    if user.role != Role.ADMIN.value:
        raise Conflict(f"{user.email} is not an admin (it is a {user.role}).")
    user.role = role.value
    await end_sessions(session, user)
    await session.flush()
    return user
