"""The rules of profiles: reading, updating, and deleting an account."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth
from app.auth.schemas import RegisterRequest, normalize_email
from app.core.errors import Conflict, NotFound
from app.core.security import PasswordHasher
from app.users.models import Role, User

DELETED_NAME = "Deleted user"
# Profile columns a deletion clears, with the value each is left at.
_CLEARED_PROFILE = {
    "headline": None,
    "bio": None,
    "phone": None,
    "location": None,
    "island": None,
    "skills": [],
    "years_experience": None,
    "resume_url": None,
    "avatar_url": None,
    "open_to_work": False,
}


async def get_visible_user(session: AsyncSession, user_id: int) -> User:
    """An account others may look at: active and not deleted, else 404."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise NotFound("No such user.")
    return user


async def update_profile(session: AsyncSession, user: User, changes: dict[str, object]) -> User:
    for field, value in changes.items():
        setattr(user, field, value)
    await session.flush()
    return user


async def delete_account(
    session: AsyncSession, ctx: auth.AuthContext, user: User, password: str
) -> None:
    """Soft delete: the account stops working at once and keeps no personal data, while its
    row stays so that other tables' references to it remain valid.

    The email becomes a unique address under `.invalid` (a reserved, undeliverable domain that
    sign-up refuses), so the real address can register again.
    """
    await auth.confirm_password(session, ctx, user, password)
    await auth.end_sessions(session, user)
    user.email = f"deleted-{user.id}-{secrets.token_hex(8)}@deleted.invalid"
    user.full_name = DELETED_NAME
    # Not a bcrypt hash, so no password can ever match it.
    user.password_hash = "!deleted"  # noqa: S105
    user.is_active = False
    user.deleted_at = datetime.now(UTC)
    for field, value in _CLEARED_PROFILE.items():
        setattr(user, field, value)
    await session.flush()


async def _account_for_update(session: AsyncSession, email: str) -> User:
    user = await session.scalar(
        select(User)
        .where(User.email == normalize_email(email), User.deleted_at.is_(None))
        .with_for_update()
    )
    if user is None:
        raise NotFound(f"No account has the email {normalize_email(email)}.")
    return user


async def grant_admin(session: AsyncSession, email: str) -> tuple[User, str]:
    """Make the account with this email an admin; the account and its previous role.
    Only operators reach this, from the command line: no API route leads here."""
    user = await _account_for_update(session, email)
    previous = user.role
    user.role = Role.ADMIN.value
    await session.flush()
    return user, previous


async def create_admin(
    session: AsyncSession, hasher: PasswordHasher, account: RegisterRequest
) -> User:
    """A new administrator account, under the same rules as a sign-up (its `role` aside).
    Only operators reach this, from the command line."""
    if await session.scalar(select(User.id).where(User.email == account.email)) is not None:
        raise auth.EmailTaken(f"An account with the email {account.email} already exists.")
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
    user = await _account_for_update(session, email)
    if user.role != Role.ADMIN.value:
        raise Conflict(f"{user.email} is not an admin (it is a {user.role}).")
    user.role = role.value
    await auth.end_sessions(session, user)
    await session.flush()
    return user
