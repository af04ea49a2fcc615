"""The rules of profiles: reading, updating, and deleting an account."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.files import references as files
from app.files.models import Purpose
from app.files.storage import Storage
from app.identity.models import Role, User, Visibility
from app.users.schemas import normalize_email

DELETED_NAME = "Deleted user"
# Profile columns a deletion clears, with the value each is left at.
_CLEARED_PROFILE: dict[str, object] = {
    "headline": None,
    "bio": None,
    "phone": None,
    "location": None,
    "island": None,
    "skills": [],
    "years_experience": None,
    "resume_url": None,
    "avatar_url": None,
    "resume_file_id": None,
    "avatar_file_id": None,
    "open_to_work": False,
    "visibility": Visibility.HIDDEN.value,
    "preferred_categories": [],
    "preferred_employment_types": [],
    "preferred_work_modes": [],
    "relocation_islands": [],
    "min_pay_amount": None,
    "min_pay_period": None,
}


async def get_visible_user(session: AsyncSession, user_id: int) -> User:
    """An account others may look at: active, not deleted, not suspended, else 404."""
    user = await session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or user.deleted_at is not None
        or user.suspended_at is not None
    ):
        raise NotFound("No such user.")
    return user


async def update_profile(
    session: AsyncSession, storage: Storage, user: User, changes: dict[str, Any]
) -> User:
    """Change the profile; a résumé or avatar file replaced (or detached) is deleted unless
    something else still refers to it (an application keeps the résumé it was sent with)."""
    replaced: list[int | None] = []
    if "resume_file_id" in changes:
        if changes["resume_file_id"] is not None:
            await files.claim(
                session, user.id, int(changes["resume_file_id"]), Purpose.RESUME, "resume_file_id"
            )
        replaced.append(user.resume_file_id)
    replaced.append(
        await files.image_change(
            session, storage, user.id, changes, Purpose.AVATAR, user.avatar_file_id
        )
    )
    for field, value in changes.items():
        setattr(user, field, value)
    await session.flush()
    for file_id in replaced:
        if file_id not in (user.resume_file_id, user.avatar_file_id):
            await files.discard_if_unused(session, storage, file_id)
    return user


async def anonymise(session: AsyncSession, storage: Storage, user: User) -> None:
    """What deleting an account does to its row: it stops working at once and keeps no
    personal data, while the row stays so that other tables' references to it remain valid.

    The email becomes a unique address under `.invalid` (a reserved, undeliverable domain that
    sign-up refuses), so the real address can register again. Every file the account owns
    goes with it, the bytes too, including résumés sent with applications.
    """
    user.email = f"deleted-{user.id}-{secrets.token_hex(8)}@deleted.invalid"
    user.full_name = DELETED_NAME
    # Not a bcrypt hash, so no password can ever match it.
    user.password_hash = "!deleted"  # noqa: S105
    user.is_active = False
    user.deleted_at = datetime.now(UTC)
    for field, value in _CLEARED_PROFILE.items():
        setattr(user, field, value)
    await session.flush()
    await files.discard_all_of(session, storage, user.id)


async def account_for_update(session: AsyncSession, email: str) -> User:
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
    user = await account_for_update(session, email)
    previous = user.role
    user.role = Role.ADMIN.value
    await session.flush()
    return user, previous
