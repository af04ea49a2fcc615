"""The rules of accounts and sessions: registration, password checks under rate limits, token
issue and rotation, and ending sessions."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from limits import parse
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import RefreshToken
from app.auth.schemas import RegisterRequest
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, Unauthorized, UnprocessableEntity
from app.core.ratelimit import RateLimiter
from app.core.security import (
    PasswordHasher,
    create_access_token,
    hash_refresh_token,
    new_refresh_token,
)
from app.events.models import EventKind
from app.events.service import record
from app.files.storage import Storage
from app.users.models import Role, User
from app.users.schemas import normalize_email
from app.users.service import account_for_update, anonymise

logger = logging.getLogger("app.auth")

# Failed password checks are counted per account (guessing one user's password) and per client
# address (trying many accounts). The address budget is larger: an office or a phone carrier
# puts many people behind one address.
FAILED_LOGINS_PER_ACCOUNT = parse("5/15 minutes")
FAILED_LOGINS_PER_ADDRESS = parse("20/15 minutes")
REGISTRATIONS_PER_ADDRESS = parse("10/hour")
REFRESHES_PER_ADDRESS = parse("30/minute")


class InvalidCredentials(Unauthorized):
    error_code = "INVALID_CREDENTIALS"
    default_message = "The email or password is incorrect."


class InvalidRefreshToken(Unauthorized):
    error_code = "INVALID_REFRESH_TOKEN"
    default_message = "The refresh token is invalid, expired or already used. Sign in again."


class WrongPassword(Forbidden):
    error_code = "WRONG_PASSWORD"
    default_message = "The password is incorrect."


class AccountSuspended(Forbidden):
    error_code = "ACCOUNT_SUSPENDED"
    default_message = "This account is suspended. Contact support if you think this is wrong."


class EmailTaken(Conflict):
    error_code = "EMAIL_TAKEN"
    default_message = "An account with this email already exists."


@dataclass(frozen=True)
class AuthContext:
    """What the rules need from the request, without the request."""

    settings: Settings
    hasher: PasswordHasher
    limiter: RateLimiter
    client_ip: str
    user_agent: str | None


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    expires_in: int
    refresh_token: str


def _account_key(email: str) -> str:
    # Counters are keyed by a digest so Redis never holds email addresses.
    return hashlib.sha256(email.encode()).hexdigest()


async def clear_failed_logins(limiter: RateLimiter, email: str) -> bool:
    """Lift the failed sign-in limit of one account (not of the addresses that tried);
    False when there is no Redis to clear it in, see RateLimiter.clear."""
    key = _account_key(normalize_email(email))
    return await limiter.clear(FAILED_LOGINS_PER_ACCOUNT, "login-account", key)


async def _check_password(ctx: AuthContext, user: User | None, email: str, password: str) -> bool:
    """Verify under the failed-attempt limits. Every attempt is counted before bcrypt runs, so
    parallel guesses cannot slip past the limit, and a correct one is given back."""
    limits = (
        (FAILED_LOGINS_PER_ACCOUNT, "login-account", _account_key(email)),
        (FAILED_LOGINS_PER_ADDRESS, "login-address", ctx.client_ip),
    )
    message = "Too many failed sign-in attempts. Try again later."
    for item, *identifiers in limits:
        await ctx.limiter.hit(item, *identifiers, message=message)
    ok, new_hash = await ctx.hasher.verify(password, user.password_hash if user else None)
    if not ok:
        return False
    assert user is not None
    for item, *identifiers in limits:
        await ctx.limiter.refund(item, *identifiers)
    if new_hash is not None:
        user.password_hash = new_hash  # the configured bcrypt cost changed
    return True


async def register(session: AsyncSession, ctx: AuthContext, data: RegisterRequest) -> User:
    await ctx.limiter.hit(
        REGISTRATIONS_PER_ADDRESS,
        "register",
        ctx.client_ip,
        message="Too many accounts created from this address. Try again later.",
    )
    if await _find_by_email(session, data.email) is not None:
        raise EmailTaken()
    user = User(
        email=data.email,
        password_hash=await ctx.hasher.hash(data.password),
        full_name=data.full_name,
        role=data.role,
        last_login_at=datetime.now(UTC),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # the same address registered concurrently
        raise EmailTaken() from None
    logger.info("account registered", extra={"user_id": user.id, "role": user.role})
    return user


async def _find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(
        select(User).where(User.email == normalize_email(email), User.deleted_at.is_(None))
    )


async def authenticate(session: AsyncSession, ctx: AuthContext, email: str, password: str) -> User:
    """The active account with this email and password; the same answer, after the same work,
    for an unknown email and a wrong password."""
    user = await _find_by_email(session, email)
    if not await _check_password(ctx, user, email, password) or not user or not user.is_active:
        raise InvalidCredentials()
    if user.suspended_at is not None:
        # Said only to someone who knows the password: it reveals nothing to a guesser.
        raise AccountSuspended()
    user.last_login_at = datetime.now(UTC)
    return user


async def confirm_password(
    session: AsyncSession, ctx: AuthContext, user: User, password: str
) -> None:
    """A signed-in user re-enters the password (password change, account deletion)."""
    if not await _check_password(ctx, user, user.email, password):
        raise WrongPassword()
    await session.flush()


async def _lock_account_sessions(session: AsyncSession, user_id: int) -> None:
    """Take the account's row lock before touching its refresh tokens. Every change to an
    account's sessions (sign-in, refresh, logout, logout-all) does, so they happen one at a
    time and in one lock order: a refresh racing a logout can neither outlive it nor deadlock
    with it."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def issue_tokens(
    session: AsyncSession, ctx: AuthContext, user: User, family_id: uuid.UUID | None = None
) -> IssuedTokens:
    """An access token and a refresh token, the latter in the given login family or a new one
    (a sign-in, which is also when the account's expired refresh tokens are cleared away)."""
    if family_id is None:
        family_id = uuid.uuid4()
        await _lock_account_sessions(session, user.id)
        await session.execute(
            delete(RefreshToken).where(
                RefreshToken.user_id == user.id, RefreshToken.expires_at < datetime.now(UTC)
            )
        )
    raw = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_refresh_token(raw),
            expires_at=datetime.now(UTC) + timedelta(days=ctx.settings.refresh_token_ttl_days),
            created_ip=ctx.client_ip[:45],
            user_agent=ctx.user_agent[:255] if ctx.user_agent else None,
        )
    )
    await session.flush()
    access, expires_in = create_access_token(
        ctx.settings,
        user_id=user.id,
        role=user.role,
        token_version=user.token_version,
        session_id=family_id,
    )
    return IssuedTokens(user, access, expires_in, raw)


async def _find_token(
    session: AsyncSession, raw: str, *, lock: bool = False
) -> RefreshToken | None:
    query = select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(raw))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def rotate(session: AsyncSession, ctx: AuthContext, raw: str) -> IssuedTokens:
    """Spend a refresh token for a new pair in the same family.

    The token's row is locked, so of two concurrent refreshes with one token the second waits,
    then finds it spent. A spent token presented again means it was copied: the whole family
    is revoked, including the newest token its rightful holder has.
    """
    await ctx.limiter.hit(REFRESHES_PER_ADDRESS, "refresh", ctx.client_ip)
    token = await _find_token(session, raw)
    if token is None:
        raise InvalidRefreshToken()
    await _lock_account_sessions(session, token.user_id)
    token = await _find_token(session, raw, lock=True)  # re-read under the locks
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        raise InvalidRefreshToken()
    if token.used_at is not None:
        await _revoke(session, RefreshToken.family_id == token.family_id)
        # Committed here because the request fails: the revocation must outlive the 401.
        await session.commit()
        logger.warning(
            "refresh token reused; login family revoked",
            extra={"user_id": token.user_id, "family_id": str(token.family_id)},
        )
        raise InvalidRefreshToken()
    if token.expires_at <= now:
        raise InvalidRefreshToken()
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active or user.deleted_at is not None or user.suspended_at:
        raise InvalidRefreshToken()
    token.used_at = now
    return await issue_tokens(session, ctx, user, token.family_id)


async def _revoke(session: AsyncSession, *where: object) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_(None), *where)  # type: ignore[arg-type]
        .values(revoked_at=datetime.now(UTC))
    )


async def logout(session: AsyncSession, raw: str) -> None:
    """End the login family this refresh token belongs to; unknown tokens change nothing."""
    token = await _find_token(session, raw)
    if token is None:
        return
    await _lock_account_sessions(session, token.user_id)
    await _revoke(session, RefreshToken.family_id == token.family_id)


async def end_sessions(
    session: AsyncSession, user: User, keep_family: uuid.UUID | None = None
) -> None:
    """Every outstanding access token stops working (the token version moves on) and every
    refresh token is revoked, except those of `keep_family` when given."""
    await session.flush()
    await _lock_account_sessions(session, user.id)
    # Incremented in SQL, under the lock: two concurrent calls move it on twice.
    version = await session.scalar(
        update(User)
        .where(User.id == user.id)
        .values(token_version=User.token_version + 1)
        .returning(User.token_version),
        execution_options={"synchronize_session": False},
    )
    set_committed_value(user, "token_version", version)
    # Open live streams of the account end too, on every instance (app/events).
    record(session, user.id, EventKind.SESSION_ENDED, {})
    where = [RefreshToken.user_id == user.id]
    if keep_family is not None:
        where.append(RefreshToken.family_id != keep_family)
    await _revoke(session, *where)


async def change_password(
    session: AsyncSession,
    ctx: AuthContext,
    user: User,
    current_password: str,
    new_password: str,
    keep_family: uuid.UUID | None,
) -> None:
    await confirm_password(session, ctx, user, current_password)
    if normalize_email(new_password) == user.email:
        raise UnprocessableEntity("The password must not be your email address.")
    if new_password == current_password:
        raise UnprocessableEntity("The new password must differ from the current one.")
    user.password_hash = await ctx.hasher.hash(new_password)
    await end_sessions(session, user, keep_family)


async def delete_account(
    session: AsyncSession, storage: Storage, ctx: AuthContext, user: User, password: str
) -> None:
    """Soft delete, password required: every session ends and the account is anonymised."""
    await confirm_password(session, ctx, user, password)
    await end_sessions(session, user)
    await anonymise(session, storage, user)


async def create_admin(
    session: AsyncSession, hasher: PasswordHasher, account: RegisterRequest
) -> User:
    """A new administrator account, under the same rules as a sign-up (its `role` aside).
    Only operators reach this, from the command line."""
    if await session.scalar(select(User.id).where(User.email == account.email)) is not None:
        raise EmailTaken(f"An account with the email {account.email} already exists.")
    user = User(
        email=account.email,
        password_hash=await hasher.hash(account.password),
        full_name=account.full_name,
        role=Role.ADMIN.value,
    )
    session.add(user)
    await session.flush()
    return user


async def revoke_admin(session: AsyncSession, email: str, role: Role) -> User:
    """Take the admin role away (the account keeps `role`) and end its sessions at once, so
    no access token issued while it was an admin outlives the change."""
    user = await account_for_update(session, email)
    if user.role != Role.ADMIN.value:
        raise Conflict(f"{user.email} is not an admin (it is a {user.role}).")
    user.role = role.value
    await end_sessions(session, user)
    await session.flush()
    return user
