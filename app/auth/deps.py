"""Who is calling (the `CurrentUser` family every domain uses, defined in app.users.deps) and
what the auth routes need around it."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse

from app.auth.context import AuthContext
from app.core.config import Settings
from app.core.services import core_services
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
    services = core_services(request)
    return AuthContext(
        settings=services.settings,
        hasher=services.password_hasher,
        limiter=services.rate_limiter,
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

    def limit(self, settings: Settings) -> str:
        """This action's RATE_LIMIT_<ACTION> setting (`10/hour`)."""
        return {
            WriteAction.JOB_POSTS: settings.rate_limit_job_posts,
            WriteAction.APPLICATIONS: settings.rate_limit_applications,
            WriteAction.MESSAGES: settings.rate_limit_messages,
            WriteAction.REPORTS: settings.rate_limit_reports,
        }[self]


def write_limit(action: WriteAction) -> Any:
    """A route dependency counting one `action` against the caller's account, shared by every
    instance through Redis: past the limit, 429 with Retry-After."""

    async def dependency(request: Request, user: CurrentUser) -> None:
        services = core_services(request)
        item = _parsed_limit(action.limit(services.settings))
        await services.rate_limiter.hit(
            item,
            "write",
            action.value,
            str(user.id),
            message=f"Too many {action.value.replace('_', ' ')} from this account; try later.",
        )

    return Depends(dependency)
