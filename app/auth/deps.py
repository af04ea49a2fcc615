"""Who is calling: the `CurrentUser` family of dependencies every domain uses."""

from __future__ import annotations

import uuid
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from limits import RateLimitItem, parse

from app.auth.service import AuthContext
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.security import TokenError, decode_access_token
from app.users.models import Role, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

_INVALID = "The access token is invalid or has expired."


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, a hop that costs more than the dependency itself (bench/: several per request).
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


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


async def get_token_claims(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> dict[str, Any]:
    """The verified claims of the bearer access token (signature, expiry, issuer, audience)."""
    if not token:
        raise Unauthorized()
    try:
        return decode_access_token(settings, token)
    except TokenError:
        raise Unauthorized(_INVALID) from None


TokenClaims = Annotated[dict[str, Any], Depends(get_token_claims)]


def session_id(claims: dict[str, Any]) -> uuid.UUID | None:
    """The login family an access token was issued to, if it says."""
    try:
        return uuid.UUID(hex=claims["sid"]) if claims.get("sid") else None
    except (TypeError, ValueError):
        return None


async def get_current_user(session: SessionDep, claims: TokenClaims) -> User:
    """The account behind the access token, provided it still exists, is active and not
    suspended, and has not ended its sessions since the token was issued (logout-all, password
    change, deletion, suspension)."""
    user = await session.get(User, int(claims["sub"]))
    if (
        user is None
        or not user.is_active
        or user.deleted_at is not None
        or user.suspended_at is not None
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


async def get_admin(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """An admin, for the admin API, which to everyone else (signed in or not) is a 404 like
    any unknown route: nobody learns that it exists or what it holds."""
    try:
        user = await get_current_user(session, await get_token_claims(settings, token))
    except Unauthorized:
        raise NotFound("No such route.") from None
    if user.role != Role.ADMIN:
        raise NotFound("No such route.")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


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
