"""Who is calling: the `CurrentUser` family of dependencies every domain uses. It needs only the
User model and the token check in app.core.security, so no domain's service is behind it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database, Record, SessionDep
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.security import TokenError, decode_access_token
from app.core.services import core_services
from app.identity.caller import Caller, SignedIn
from app.identity.known_callers import KNOWN_CALLERS
from app.identity.models import Role, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

_INVALID = "The access token is invalid or has expired."


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, a hop that costs more than the dependency itself (bench/: several per request).
async def get_settings_dep(request: Request) -> Settings:
    return core_services(request).settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def _verified_claims(request: Request, token: str | None) -> dict[str, Any]:
    if not token:
        raise Unauthorized()
    try:
        return decode_access_token(core_services(request).settings, token)
    except TokenError:
        raise Unauthorized(_INVALID) from None


async def get_token_claims(request: Request, token: BearerToken) -> dict[str, Any]:
    """The verified claims of the bearer access token (signature, expiry, issuer, audience)."""
    return _verified_claims(request, token)


TokenClaims = Annotated[dict[str, Any], Depends(get_token_claims)]


def session_id(claims: dict[str, Any]) -> uuid.UUID | None:
    """The login family an access token was issued to, if it says."""
    try:
        return uuid.UUID(hex=claims["sid"]) if claims.get("sid") else None
    except (TypeError, ValueError):
        return None


# The caller check is in the WHERE clause: the account exists, is active, not deleted or
# suspended, and has not ended its sessions since the token was issued (logout-all, password
# change, deletion, suspension bump token_version). Built once, so SQLAlchemy neither rebuilds
# them nor recomputes their cache keys on every signed-in request; of the table's columns, not
# the ORM's attributes, so that the reads of rows skip the ORM's compile and result layers
# (~30 us a statement, bench/layers.py).
_USERS = User.__table__.c
_LIVE = (
    (_USERS.id == bindparam("user_id"))
    & (_USERS.token_version == bindparam("token_version"))
    & _USERS.is_active
    & _USERS.deleted_at.is_(None)
    & _USERS.suspended_at.is_(None)
)
_CALLER = select(_USERS.id, _USERS.role).where(_LIVE)
_ACCOUNT = select(User).where(_LIVE)
# What the account's owner is shown of it: every column but the password hash and the search
# vector, as a row (no ORM object built only to be serialised).
_PROFILE = select(*(c for c in _USERS if c.name not in ("password_hash", "search_vector"))).where(
    _LIVE
)


def _params(claims: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": claims["sub"], "token_version": claims["ver"]}


async def _checked_caller(request: Request, claims: dict[str, Any]) -> SignedIn:
    """The caller behind verified claims, provided the account is still live (`_LIVE`): one
    indexed read of two columns, through the driver (`Database.rows`), unless this instance
    checked the account since anything the check reads changed (app/identity/known_callers.py)."""
    services = core_services(request)
    known = services.of(KNOWN_CALLERS)
    params = _params(claims)
    caller = known.get(params["user_id"], params["token_version"])
    if caller is None:
        mark = known.mark()
        caller = await _caller_of(services.database, params)
        known.put(mark, params["token_version"], caller)
    return caller


async def _caller_of(database: Database, params: dict[str, Any]) -> SignedIn:
    """The caller read from the database (`_LIVE`); 401 unless the account is still live."""
    rows = await database.rows(_CALLER, params)
    if not rows:
        raise Unauthorized(_INVALID)
    return SignedIn(rows[0][0], rows[0][1])


async def _profile_of(request: Request, claims: dict[str, Any]) -> Record:
    """The caller's profile columns (`_PROFILE`), on the same condition as `_caller_of`."""
    rows = await core_services(request).database.rows(_PROFILE, _params(claims))
    if not rows:
        raise Unauthorized(_INVALID)
    return rows[0]


async def _account_of(session: AsyncSession, claims: dict[str, Any]) -> User:
    """The caller's full users row, on the same condition as `_caller_of`."""
    user = (await session.scalars(_ACCOUNT, _params(claims))).one_or_none()
    if user is None:
        raise Unauthorized(_INVALID)
    return user


class _Bearer(OAuth2PasswordBearer):
    """The bearer token's security scheme (documented in OpenAPI as `oauth2_scheme` is) and the
    caller behind the token in one dependency node: FastAPI solves every node on every request
    (bench/layers.py measures it), and this one is on every signed-in request."""

    def __init__(self) -> None:
        super().__init__(
            tokenUrl="/api/auth/token", auto_error=False, scheme_name=oauth2_scheme.scheme_name
        )

    async def claims(self, request: Request) -> dict[str, Any]:
        """The verified claims of the request's token (`_verified_claims`: 401 unless valid)."""
        return _verified_claims(request, await super().__call__(request))


class _SignedInCaller(_Bearer):
    """The caller read with `read` (401 unless the account is still live), without a session."""

    def __init__(self, read: Callable[[Request, dict[str, Any]], Awaitable[Any]]) -> None:
        super().__init__()
        self.read = read

    async def __call__(self, request: Request) -> Any:
        return await self.read(request, await self.claims(request))


class _SignedInAccount(_Bearer):
    """The caller's ORM `User`, in the session the route writes with (FastAPI reads this
    signature for the node's dependencies)."""

    async def __call__(self, request: Request, session: SessionDep) -> User:  # type: ignore[override]
        return await _account_of(session, await self.claims(request))


CurrentUser = Annotated[SignedIn, Depends(_SignedInCaller(_checked_caller))]
"""The signed-in caller's id and role (`_checked_caller`); 401 otherwise."""

CurrentAccount = Annotated[User, Depends(_SignedInAccount())]
"""The signed-in caller's full users row, for the routes that change the account (loaded in the
session the route writes with); 401 otherwise."""

CurrentProfile = Annotated[Record, Depends(_SignedInCaller(_profile_of))]
"""The signed-in caller's profile as a row of the users table's columns (not the password
hash), for the routes that only show the account; 401 otherwise."""


async def get_optional_user(request: Request, token: BearerToken) -> SignedIn | None:
    """The caller on public pages that show more to some: None without a bearer token (and no
    read); a token that is sent must be valid (401 otherwise), its account read from the
    primary."""
    if not token:
        return None
    return await _checked_caller(request, _verified_claims(request, token))


OptionalUser = Annotated[SignedIn | None, Depends(get_optional_user)]


_C = TypeVar("_C", bound=Caller)


def _with_role(user: _C, allowed: frozenset[str]) -> _C:
    if user.role not in allowed:
        raise Forbidden(f"This requires a {' or '.join(sorted(allowed))} account.")
    return user


def require_role(*roles: Role) -> Callable[[SignedIn], Awaitable[SignedIn]]:
    allowed = frozenset(r.value for r in roles)

    async def dependency(user: CurrentUser) -> SignedIn:
        return _with_role(user, allowed)

    return dependency


EmployerUser = Annotated[SignedIn, Depends(require_role(Role.EMPLOYER))]
JobSeekerUser = Annotated[SignedIn, Depends(require_role(Role.JOB_SEEKER))]

_JOB_SEEKER = frozenset((Role.JOB_SEEKER.value,))


async def get_job_seeker_account(account: CurrentAccount) -> User:
    """A job seeker's full users row (applying copies the profile's name and résumé)."""
    return _with_role(account, _JOB_SEEKER)


JobSeekerAccount = Annotated[User, Depends(get_job_seeker_account)]


async def _admin(request: Request, token: str | None) -> SignedIn | None:
    """The admin behind the bearer token, or None for anyone else (signed in or not)."""
    try:
        claims = _verified_claims(request, token)
        user = await _caller_of(core_services(request).database, _params(claims))
    except Unauthorized:
        return None
    return user if user.role == Role.ADMIN else None


async def get_admin(request: Request, token: BearerToken) -> SignedIn:
    """An admin, for the admin API, which to everyone else (signed in or not) is a 404 like
    any unknown route: nobody learns that it exists or what it holds."""
    admin = await _admin(request, token)
    if admin is None:
        raise NotFound("No such route.")
    return admin


async def caller_is_admin(request: Request) -> bool:
    """Whether the caller is an admin, asked before FastAPI reads the body or checks the method
    (the admin API's route class); no read when anonymous."""
    token = await oauth2_scheme(request)
    if not token:
        return False
    return await _admin(request, token) is not None


AdminUser = Annotated[SignedIn, Depends(get_admin)]
