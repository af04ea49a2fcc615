"""Who is calling (the `CurrentUser` family every domain uses, defined in app.users.deps) and
what the auth routes need around it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth.service import AuthContext
from app.users.deps import (
    AdminUser,
    CurrentUser,
    EmployerUser,
    JobSeekerUser,
    OptionalUser,
    SettingsDep,
    TokenClaims,
    get_current_user,
    get_token_claims,
    oauth2_scheme,
    require_role,
    session_id,
)

__all__ = [
    "AdminUser",
    "AuthContextDep",
    "CurrentUser",
    "EmployerUser",
    "JobSeekerUser",
    "OptionalUser",
    "SettingsDep",
    "TokenClaims",
    "get_current_user",
    "get_token_claims",
    "oauth2_scheme",
    "require_role",
    "session_id",
]


async def get_auth_context(request: Request) -> AuthContext:
    state = request.app.state
    return AuthContext(
        settings=state.settings,
        hasher=state.password_hasher,
        limiter=state.rate_limiter,
        client_ip=request.state.client_ip,
        user_agent=request.headers.get("user-agent"),
    )


AuthContextDep = Annotated[AuthContext, Depends(get_auth_context)]
