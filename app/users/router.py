"""/api/users: the caller's own profile, other people's public profiles, account deletion."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.auth.deps import AuthContextDep, CurrentUser
from app.auth.router import clear_refresh_cookie
from app.auth.schemas import PasswordConfirmation
from app.auth.service import WrongPassword
from app.core.db import SessionDep
from app.core.errors import NotFound, RateLimited, Unauthorized, error_responses
from app.core.ids import IdPath
from app.users import service
from app.users.schemas import ProfileUpdate, UserPrivate, UserPublic

router = APIRouter(tags=["users"])


@router.get("/me", summary="Your own profile", responses=error_responses(Unauthorized))
async def read_me(user: CurrentUser) -> UserPrivate:
    return UserPrivate.model_validate(user)


@router.patch("/me", responses=error_responses(Unauthorized))
async def update_me(body: ProfileUpdate, user: CurrentUser, session: SessionDep) -> UserPrivate:
    """Change profile fields; email, role and account flags cannot be changed here."""
    return UserPrivate.model_validate(await service.update_profile(session, user, body.changes()))


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, WrongPassword, RateLimited),
)
async def delete_me(
    body: PasswordConfirmation,
    user: CurrentUser,
    session: SessionDep,
    ctx: AuthContextDep,
    response: Response,
) -> None:
    """Delete the account (password required). Every session ends at once and the profile is
    anonymised; what the account did elsewhere stays, attributed to "Deleted user"."""
    await service.delete_account(session, ctx, user, body.password)
    clear_refresh_cookie(response, ctx.settings)


@router.get("/{user_id}", responses=error_responses(Unauthorized, NotFound))
async def read_user(user_id: IdPath, _: CurrentUser, session: SessionDep) -> UserPublic:
    """Another account's public profile: never its email or phone."""
    return UserPublic.model_validate(await service.get_visible_user(session, user_id))
