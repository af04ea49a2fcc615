"""What the auth routes need around the caller: the settings, hasher and limiter of a sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth.context import AuthContext
from app.core.services import core_services


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
