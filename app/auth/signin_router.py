"""/api/auth: registration, sign-in, token refresh, sign-out, password change; and deleting the
account (DELETE /api/users/me, `account_router`). The emailed links' routes (password reset,
verification, email change) are in app/auth/recovery_router.py."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Cookie, Depends, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from app.auth import account, errors, sessions, signin
from app.auth.deps import AuthContextDep
from app.auth.schemas import (
    ChangePasswordRequest,
    LoginRequest,
    PasswordConfirmation,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)
from app.core.config import Settings
from app.core.db import SessionDep
from app.core.errors import RateLimited, Unauthorized, error_responses
from app.core.routing import Router
from app.files.deps import StorageDep
from app.identity.deps import CurrentAccount, SettingsDep, TokenClaims, session_id
from app.users.schemas import UserPrivate

router = Router(tags=["auth"])
# Mounted at /api/users: deleting the account is a credential and session matter.
account_router = Router(tags=["users"])

REFRESH_COOKIE = "refresh_token"
COOKIE_PATH = "/api/auth"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


def _set_refresh_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=settings.refresh_token_ttl_days * 86400,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.is_production,
        samesite="lax",
    )


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.is_production,
        samesite="lax",
    )


def _reply(response: Response, settings: Settings, issued: sessions.IssuedTokens) -> TokenPair:
    _set_refresh_cookie(response, settings, issued.refresh_token)
    return TokenPair(
        user=UserPrivate.model_validate(issued.user),
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


def _presented_refresh_token(body: RefreshRequest | None, cookie: str | None) -> str | None:
    """The refresh token from the JSON body, else from the httpOnly cookie."""
    if body is not None and body.refresh_token:
        return body.refresh_token
    if cookie and _TOKEN_SHAPE.match(cookie):
        return cookie
    return None


RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, include_in_schema=False)]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(errors.EmailTaken, RateLimited),
)
async def register(
    body: RegisterRequest, session: SessionDep, ctx: AuthContextDep, response: Response
) -> TokenPair:
    """Create a job seeker or employer account and sign it in."""
    user = await signin.register(session, ctx, body)
    return _reply(response, ctx.settings, await sessions.issue_tokens(session, ctx, user))


@router.post(
    "/login",
    responses=error_responses(errors.InvalidCredentials, errors.AccountSuspended, RateLimited),
)
async def login(
    body: LoginRequest, session: SessionDep, ctx: AuthContextDep, response: Response
) -> TokenPair:
    """Sign in with email and password. Also sets the refresh token as an httpOnly cookie."""
    user = await signin.authenticate(session, ctx, body.email, body.password)
    return _reply(response, ctx.settings, await sessions.issue_tokens(session, ctx, user))


@router.post(
    "/token",
    responses=error_responses(errors.InvalidCredentials, errors.AccountSuspended, RateLimited),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {"username": "ann@example.com", "password": "correct horse battery"}
                }
            }
        }
    },
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    ctx: AuthContextDep,
    response: Response,
) -> TokenPair:
    """OAuth2 password flow for the docs' Authorize button: `username` is the email."""
    try:
        credentials = LoginRequest(email=form.username, password=form.password)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    user = await signin.authenticate(session, ctx, credentials.email, credentials.password)
    return _reply(response, ctx.settings, await sessions.issue_tokens(session, ctx, user))


@router.post("/refresh", responses=error_responses(errors.InvalidRefreshToken, RateLimited))
async def refresh(
    session: SessionDep,
    ctx: AuthContextDep,
    response: Response,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> TokenPair:
    """Spend a refresh token (body or cookie) for a new pair. A spent token presented again
    revokes its whole login family."""
    raw = _presented_refresh_token(body, cookie)
    if raw is None:
        raise errors.InvalidRefreshToken("No refresh token was sent.")
    return _reply(response, ctx.settings, await sessions.rotate(session, ctx, raw))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses())
async def logout(
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    cookie: RefreshCookie = None,
    body: RefreshRequest | None = None,
) -> None:
    """End this login session (the refresh token's family) and clear the cookie."""
    raw = _presented_refresh_token(body, cookie)
    if raw is not None:
        await sessions.logout(session, raw)
    clear_refresh_cookie(response, settings)


@router.post(
    "/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(Unauthorized)
)
async def logout_all(
    user: CurrentAccount, session: SessionDep, settings: SettingsDep, response: Response
) -> None:
    """End every session of this account: all refresh tokens and all access tokens."""
    await sessions.end_sessions(session, user)
    clear_refresh_cookie(response, settings)


@router.get("/me", summary="The signed-in account", responses=error_responses(Unauthorized))
async def me(user: CurrentAccount) -> UserPrivate:
    return UserPrivate.model_validate(user)


@router.post(
    "/change-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, errors.WrongPassword, RateLimited),
)
async def change_password(
    body: ChangePasswordRequest,
    user: CurrentAccount,
    claims: TokenClaims,
    session: SessionDep,
    ctx: AuthContextDep,
) -> None:
    """Set a new password. Every other session ends at once. This session's access token stops
    working too (all access tokens are invalidated together), but its refresh token stays
    valid: the client refreshes once and carries on."""
    await account.change_password(
        session, ctx, user, body.current_password, body.new_password, session_id(claims)
    )


@account_router.delete(
    "/me",
    summary="Delete my account",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(Unauthorized, errors.WrongPassword, RateLimited),
)
async def delete_me(
    body: PasswordConfirmation,
    user: CurrentAccount,
    session: SessionDep,
    ctx: AuthContextDep,
    storage: StorageDep,
    response: Response,
) -> None:
    """Delete the account (password required). Every session ends at once and the profile is
    anonymised; what the account did elsewhere stays, attributed to "Deleted user"."""
    await account.delete_account(session, storage, ctx, user, body.password)
    clear_refresh_cookie(response, ctx.settings)
