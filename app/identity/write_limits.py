"""How often each account may write: `write_limit(WriteAction.X)` on a route counts one X
against the caller, shared by every instance through the rate limiter's store."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from fastapi import Depends, Request

from app.core.config import Settings
from app.core.ratelimit import Limit
from app.core.services import core_services
from app.identity.deps import CurrentUser


@cache
def _limit(text: str) -> Limit:
    return Limit(text)


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
    """A route dependency counting one `action` against the caller's account: past the limit,
    429 with Retry-After."""

    async def dependency(request: Request, user: CurrentUser) -> None:
        services = core_services(request)
        limit = _limit(action.limit(services.settings))
        await services.rate_limiter.hit(
            limit,
            "write",
            action.value,
            str(user.id),
            message=f"Too many {action.value.replace('_', ' ')} from this account; try later.",
        )

    return Depends(dependency)
