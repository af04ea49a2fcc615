"""/api/users: the caller's own profile and other people's public profiles. Deleting the
account (DELETE /api/users/me) needs the password and ends every session: it is auth's
(app/auth/signin_router.py, account_router)."""

from __future__ import annotations

from app.core.db import DatabaseDep, RowSource, SessionDep, session_rows
from app.core.errors import NotFound, Unauthorized, error_responses
from app.core.ids import IdPath
from app.core.routing import Router
from app.files import links
from app.files import references as files
from app.files.deps import StorageDep
from app.files.storage import Storage
from app.identity.deps import CurrentAccount, CurrentProfile, CurrentUser
from app.users import service
from app.users.schemas import ProfileUpdate, UserPrivate, UserPublic

router = Router(tags=["users"])


async def _private(
    rows_of: RowSource, storage: Storage, profile: UserPrivate, resume_file_id: int | None
) -> UserPrivate:
    resume = (await files.ready_files(rows_of, resume_file_id)).get(resume_file_id or 0)
    if resume is not None:
        profile.resume = links.describe(storage, resume)
    return profile


@router.get("/me", responses=error_responses(Unauthorized))
async def read_me(
    account: CurrentProfile, database: DatabaseDep, storage: StorageDep
) -> UserPrivate:
    """The caller's profile, with a short-lived download link to its résumé file."""
    profile = UserPrivate.of_row(account)
    return await _private(database.rows, storage, profile, account.resume_file_id)


@router.patch("/me", responses=error_responses(Unauthorized))
async def update_me(
    body: ProfileUpdate, user: CurrentAccount, session: SessionDep, storage: StorageDep
) -> UserPrivate:
    """Change profile fields; email, role and account flags cannot be changed here. Files are
    referred to by the id of a completed upload of the caller's."""
    await service.update_profile(session, storage, user, body.changes())
    profile = UserPrivate.model_validate(user)
    return await _private(session_rows(session), storage, profile, user.resume_file_id)


@router.get("/{user_id}", responses=error_responses(Unauthorized, NotFound))
async def read_user(user_id: IdPath, _: CurrentUser, session: SessionDep) -> UserPublic:
    """Another account's public profile: never its email or phone."""
    return UserPublic.model_validate(await service.get_visible_user(session, user_id))
