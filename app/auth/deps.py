"""Who is calling (the `CurrentUser` family every domain uses, defined in app.users.deps) and
what the auth routes need around it."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse

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
    "WriteAction",
    "get_current_user",
    "get_token_claims",
    "oauth2_scheme",
    "require_role",
    "session_id",
    "write_limit",
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


@cache
def _parsed_limit(text: str) -> RateLimitItem:
    return parse(text)


class WriteAction(StrEnum):
    """The writes each account may make only so often (RATE_LIMIT_<ACTION> in the settings)."""

    JOB_POSTS = "job_posts"
    APPLICATIONS = "applications"
    MESSAGES = "messages"
    REPORTS = "reports"


def write_limit(action: WriteAction) -> Any:
    """A route dependency counting one `action` against the caller's account, shared by every
    instance through Redis: past the limit, 429 with Retry-After."""

    async def dependency(request: Request, user: CurrentUser) -> None:
        state = request.app.state
        item = _parsed_limit(getattr(state.settings, f"rate_limit_{action.value}"))
        await state.rate_limiter.hit(
            item,
            "write",
            action.value,
            str(user.id),
            message=f"Too many {action.value.replace('_', ' ')} from this account; try later.",
        )

    return Depends(dependency)
