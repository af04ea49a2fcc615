"""/api/users: the caller's own profile and other people's public profiles. Deleting the
account (DELETE /api/users/me) needs the password and ends every session: it is auth's
(app/auth/router.py, account_router)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.core.db import SessionDep
from app.core.errors import NotFound, Unauthorized, error_responses
from app.users import service
from app.users.deps import CurrentUser
from app.users.schemas import ProfileUpdate, UserPrivate, UserPublic

router = APIRouter(tags=["users"])


@router.get("/me", responses=error_responses(Unauthorized))
async def read_me(user: CurrentUser) -> UserPrivate:
    return UserPrivate.model_validate(user)


@router.patch("/me", responses=error_responses(Unauthorized))
async def update_me(body: ProfileUpdate, user: CurrentUser, session: SessionDep) -> UserPrivate:
    """Change profile fields; email, role and account flags cannot be changed here."""
    return UserPrivate.model_validate(await service.update_profile(session, user, body.changes()))


@router.get("/{user_id}", responses=error_responses(Unauthorized, NotFound))
async def read_user(
    user_id: Annotated[int, Path(ge=1, le=2**63 - 1)], _: CurrentUser, session: SessionDep
) -> UserPublic:
    """Another account's public profile: never its email or phone."""
    return UserPublic.model_validate(await service.get_visible_user(session, user_id))
