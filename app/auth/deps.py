"""Who is calling: the `CurrentUser` family of dependencies every domain uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.core.security import TokenError, decode_access_token
from app.users.models import Role, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

_INVALID = "The access token is invalid or has expired."


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    if not token:
        raise Unauthorized()
    try:
        claims = decode_access_token(settings, token)
    except TokenError:
        raise Unauthorized(_INVALID) from None
    user = await session.get(User, int(claims["sub"]))
    if (
        user is None
        or not user.is_active
        or user.deleted_at is not None
        or user.token_version != claims["ver"]
    ):
        raise Unauthorized(_INVALID)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role):
    allowed = {r.value for r in roles}

    async def dependency(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden(f"This requires a {' or '.join(sorted(allowed))} account.")
        return user

    return dependency


EmployerUser = Annotated[User, Depends(require_role(Role.EMPLOYER))]
JobSeekerUser = Annotated[User, Depends(require_role(Role.JOB_SEEKER))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
