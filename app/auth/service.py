"""The rules of accounts and sessions: registration, password checks under rate limits, token
issue and rotation, and ending sessions."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from limits import parse
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import AccountToken, RefreshToken, SignInAddress
from app.auth.schemas import RegisterRequest
from app.core.config import Settings
from app.core.errors import BadRequest, Conflict, Forbidden, Unauthorized, UnprocessableEntity
from app.core.ratelimit import Counted, RateLimiter
from app.core.redis import REDIS_ERRORS
from app.core.security import (
    PasswordHasher,
    create_access_token,
    hash_refresh_token,
    new_refresh_token,
)
from app.email.messages import Email
from app.email.service import already_queued, queue_email
from app.events.models import EventKind
from app.events.service import record
from app.files.storage import Storage
from app.queue.enqueue import enqueue
from app.users.models import Role, User
from app.users.schemas import normalize_email
from app.users.service import account_for_update, anonymise

logger = logging.getLogger("app.auth")

# Failed password checks are counted per client address (trying many accounts) and per
# account (guessing one user's password). The address budget is larger: an office or a phone
# carrier puts many people behind one address. Past its limit, the account's count refuses
# only addresses the account does not know (`SignInAddress`: one it signed in from or was
# recovered from), so a stranger's wrong passwords never lock the owner out; and once it
# passes SLOWDOWN_AFTER, every attempt on the account waits (login_delay), bounded.
FAILED_LOGINS_PER_ACCOUNT = parse("5/15 minutes")
FAILED_LOGINS_PER_ADDRESS = parse("20/15 minutes")
SLOWDOWN_AFTER = 3
SLOWDOWN_MAX_FACTOR = 16
KNOWN_ADDRESS_TTL = timedelta(days=90)
TOO_MANY_FAILURES = "Too many failed sign-in attempts. Try again later."
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


def login_delay(settings: Settings, failures: int) -> float:
    """How long a password attempt on an account waits, given the account's failed attempts
    counted before it in the window: nothing up to SLOWDOWN_AFTER, then LOGIN_DELAY_SECONDS
    doubling with each failure, up to SLOWDOWN_MAX_FACTOR times it."""
    if failures < SLOWDOWN_AFTER:
        return 0.0
    factor = min(2 ** (failures - SLOWDOWN_AFTER), SLOWDOWN_MAX_FACTOR)
    return settings.login_delay_seconds * factor


async def _count_attempt(ctx: AuthContext, email: str) -> Counted:
    """Count a password attempt before bcrypt runs, so parallel guesses cannot slip past a
    limit (a right one is given back): refuse an address past its own limit, and make the
    attempt wait when the account keeps failing. Callers wait here before their first query
    where they can, so a slowed attempt holds no database connection."""
    await ctx.limiter.hit(
        FAILED_LOGINS_PER_ADDRESS, "login-address", ctx.client_ip, message=TOO_MANY_FAILURES
    )
    counted = await ctx.limiter.count(
        FAILED_LOGINS_PER_ACCOUNT, "login-account", _account_key(email)
    )
    delay = login_delay(ctx.settings, counted.value - 1)
    if delay:
        logger.warning(
            "sign-in slowed down: the account keeps failing", extra={"delay_seconds": delay}
        )
        await asyncio.sleep(delay)
    return counted


async def _check_password(
    ctx: AuthContext,
    user: User | None,
    email: str,
    password: str,
    counted: Counted,
    *,
    known: bool,
) -> bool:
    """Verify a password counted by `_count_attempt`. Past the account's limit, only an
    address it knows may still try."""
    if counted.exceeded and not known:
        await counted.refuse(TOO_MANY_FAILURES)
    ok, new_hash = await ctx.hasher.verify(password, user.password_hash if user else None)
    if not ok:
        return False
    assert user is not None
    await ctx.limiter.refund(FAILED_LOGINS_PER_ADDRESS, "login-address", ctx.client_ip)
    await ctx.limiter.refund(FAILED_LOGINS_PER_ACCOUNT, "login-account", _account_key(email))
    if new_hash is not None:
        user.password_hash = new_hash  # the configured bcrypt cost changed
    return True


def _address_digest(ctx: AuthContext) -> str:
    # Keyed, so the table cannot be turned back into addresses by hashing every IPv4 address.
    key = ctx.settings.secret_key.encode()
    return hmac.new(key, ctx.client_ip.encode(), hashlib.sha256).hexdigest()


async def _is_known_address(session: AsyncSession, ctx: AuthContext, user: User | None) -> bool:
    if user is None:
        return False
    found = await session.scalar(
        select(SignInAddress.user_id).where(
            SignInAddress.user_id == user.id,
            SignInAddress.address_digest == _address_digest(ctx),
            SignInAddress.last_seen_at > datetime.now(UTC) - KNOWN_ADDRESS_TTL,
        )
    )
    return found is not None


async def _remember_address(session: AsyncSession, ctx: AuthContext, user: User) -> None:
    """The caller's address is known to the account from now on (for KNOWN_ADDRESS_TTL)."""
    await session.execute(
        insert(SignInAddress)
        .values(user_id=user.id, address_digest=_address_digest(ctx))
        .on_conflict_do_update(
            index_elements=[SignInAddress.user_id, SignInAddress.address_digest],
            set_={"last_seen_at": func.now()},
        )
    )


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
    await _remember_address(session, ctx, user)
    await send_verification(session, ctx.settings, user)
    logger.info("account registered", extra={"user_id": user.id, "role": user.role})
    return user


async def _find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(
        select(User).where(User.email == normalize_email(email), User.deleted_at.is_(None))
    )


async def authenticate(session: AsyncSession, ctx: AuthContext, email: str, password: str) -> User:
    """The active account with this email and password; the same answer, after the same work,
    for an unknown email and a wrong password."""
    counted = await _count_attempt(ctx, email)
    user = await _find_by_email(session, email)
    known = await _is_known_address(session, ctx, user)
    if not await _check_password(ctx, user, email, password, counted, known=known):
        raise InvalidCredentials()
    assert user is not None
    if not user.is_active:
        raise InvalidCredentials()
    if user.suspended_at is not None:
        # Said only to someone who knows the password: it reveals nothing to a guesser.
        raise AccountSuspended()
    user.last_login_at = datetime.now(UTC)
    await _remember_address(session, ctx, user)
    return user


async def confirm_password(
    session: AsyncSession, ctx: AuthContext, user: User, password: str
) -> None:
    """A signed-in user re-enters the password (password change, email change, account
    deletion). Under the account's limit whatever the address: a session may be stolen."""
    counted = await _count_attempt(ctx, user.email)
    if not await _check_password(ctx, user, user.email, password, counted, known=False):
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


async def _revoke(session: AsyncSession, *where: ColumnElement[bool]) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.revoked_at.is_(None), *where)
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
    """Every outstanding access token stops working (the token version moves on), every
    refresh token is revoked, except those of `keep_family` when given, and every emailed
    link that could take the account over dies (`void_account_links`). Password reset and
    change, logout-all, suspension, deletion and an admin's demotion all come through here."""
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
    await void_account_links(session, user)


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


# --- Email: password reset and address verification (issue 14) ---

PASSWORD_RESET_TTL = timedelta(minutes=30)
VERIFY_EMAIL_TTL = timedelta(days=2)
RESETS_PER_ADDRESS = parse("10/hour")
RESETS_PER_ACCOUNT = parse("3/hour")
RESET_CONFIRMS_PER_ADDRESS = parse("20/hour")
VERIFICATIONS_PER_ACCOUNT = parse("5/hour")
PASSWORD_RESET_TASK = "auth.password_reset"  # noqa: S105 - a task name


class InvalidEmailToken(BadRequest):
    error_code = "INVALID_TOKEN"
    default_message = "This link is invalid, expired or already used. Ask for a new one."


async def request_password_reset(session: AsyncSession, ctx: AuthContext, email: str) -> None:
    """The same work for every address, known or not: count it, and hand it to the worker,
    which looks the account up and mails it. Nothing the caller sees depends on the account."""
    message = "Too many password reset requests. Try again later."
    await ctx.limiter.hit(RESETS_PER_ADDRESS, "reset-address", ctx.client_ip, message=message)
    await ctx.limiter.hit(RESETS_PER_ACCOUNT, "reset-account", _account_key(email), message=message)
    await enqueue(session, PASSWORD_RESET_TASK, email=normalize_email(email))


async def _issue_email_token(
    session: AsyncSession, user: User, purpose: str, email: str, ttl: timedelta
) -> tuple[AccountToken, str]:
    raw = new_refresh_token()
    token = AccountToken(
        user_id=user.id,
        purpose=purpose,
        token_hash=hash_refresh_token(raw),
        email=email,
        expires_at=datetime.now(UTC) + ttl,
    )
    session.add(token)
    await session.flush()
    return token, raw


def _link(settings: Settings, path: str, raw: str) -> str:
    return f"{settings.link_base}/{path}?token={raw}"


async def mail_password_reset(
    session: AsyncSession, settings: Settings, email: str, key: str
) -> bool:
    """The worker's half of a reset request: a token and its email for an active account with
    this address, once per `key` (the job); False when there is nothing to send."""
    if await already_queued(session, key):
        return False
    user = await _find_by_email(session, email)
    if user is None or not user.is_active:
        return False
    _, raw = await _issue_email_token(
        session, user, "password_reset", user.email, PASSWORD_RESET_TTL
    )
    text = (
        f"Hello {user.full_name},\n\n"
        "Someone asked to reset the password of your HireMeBahamas account. If it was you, "
        "open the link below within 30 minutes to choose a new password. If it was not, "
        "ignore this email: your password stays as it is."
    )
    subject = "Reset your HireMeBahamas password"
    link = _link(settings, "reset-password", raw)
    return await queue_email(
        session, settings, key, Email(user.email, subject, text, link, "Choose a new password")
    )


async def _spend_email_token(session: AsyncSession, purpose: str, raw: str) -> AccountToken:
    token = await session.scalar(
        select(AccountToken)
        .where(AccountToken.token_hash == hash_refresh_token(raw), AccountToken.purpose == purpose)
        .with_for_update()
    )
    if token is None or token.used_at is not None or token.expires_at <= datetime.now(UTC):
        raise InvalidEmailToken()
    token.used_at = datetime.now(UTC)
    return token


async def void_account_links(session: AsyncSession, user: User) -> None:
    """Every outstanding password reset link of the account dies, and every link that would
    change its address (a verification link to an address other than its current one). Run
    whenever the account is secured again or its address changes: a link asked for before
    must not undo it (an email change requested by someone who knew the old password, or a
    reset mailed to an address the account no longer has)."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.used_at.is_(None),
            or_(AccountToken.purpose == "password_reset", AccountToken.email != user.email),
        )
        .values(used_at=datetime.now(UTC))
    )


async def confirm_password_reset(
    session: AsyncSession, ctx: AuthContext, raw: str, new_password: str
) -> None:
    await ctx.limiter.hit(RESET_CONFIRMS_PER_ADDRESS, "reset-confirm", ctx.client_ip)
    token = await _spend_email_token(session, "password_reset", raw)
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise InvalidEmailToken()
    if normalize_email(new_password) == user.email:
        raise UnprocessableEntity("The password must not be your email address.")
    user.password_hash = await ctx.hasher.hash(new_password)
    await end_sessions(session, user)
    # The mailbox is proven: the account's lock is lifted, and this address is known to it.
    await _remember_address(session, ctx, user)
    try:
        await clear_failed_logins(ctx.limiter, user.email)
    except REDIS_ERRORS:
        # This instance forgot the count; the shared one in Redis expires by itself.
        logger.warning("the failed sign-in limit was not cleared in Redis after a reset")
    text = (
        f"Hello {user.full_name},\n\n"
        "The password of your HireMeBahamas account was just changed through a reset link, "
        "and every device was signed out. If this was not you, reset your password again "
        "at once and contact us."
    )
    await queue_email(
        session,
        ctx.settings,
        f"password-changed:{token.id}",
        Email(user.email, "Your HireMeBahamas password was changed", text),
    )
    logger.info("password reset completed", extra={"user_id": user.id})


async def send_verification(
    session: AsyncSession, settings: Settings, user: User, email: str | None = None
) -> None:
    """Mail a verification link to the account's address, or to `email`, the address it is
    changing to (which takes effect once the link is followed)."""
    address = email or user.email
    token, raw = await _issue_email_token(session, user, "verify_email", address, VERIFY_EMAIL_TTL)
    text = (
        f"Hello {user.full_name},\n\n"
        "Confirm that this is your email address by opening the link below. Until you do, "
        "an employer account cannot publish jobs."
    )
    link = _link(settings, "verify-email", raw)
    await queue_email(
        session,
        settings,
        f"verify-email:{token.id}",
        Email(address, "Confirm your email address", text, link, "Confirm my address"),
    )


async def _limit_verifications(ctx: AuthContext, user: User) -> None:
    await ctx.limiter.hit(
        VERIFICATIONS_PER_ACCOUNT,
        "verify-email",
        str(user.id),
        message="Too many verification emails asked for. Try again later.",
    )


async def request_verification(session: AsyncSession, ctx: AuthContext, user: User) -> None:
    await _limit_verifications(ctx, user)
    if not user.email_verified:
        await send_verification(session, ctx.settings, user)


async def request_email_change(
    session: AsyncSession, ctx: AuthContext, user: User, password: str, new_email: str
) -> None:
    """Verify the new address before it takes effect (a link mailed to it), and tell the
    current one, so a stolen session cannot quietly take the account over."""
    await confirm_password(session, ctx, user, password)
    await _limit_verifications(ctx, user)
    if new_email == user.email:
        raise UnprocessableEntity("This is already your email address.")
    if await _find_by_email(session, new_email) is not None:
        raise EmailTaken()
    await send_verification(session, ctx.settings, user, new_email)
    text = (
        f"Hello {user.full_name},\n\n"
        f"Someone signed in to your HireMeBahamas account asked to change its email address to "
        f"{new_email}. It changes only once that address is confirmed. If this was not you, "
        "change your password now: that signs every device out."
    )
    await queue_email(
        session,
        ctx.settings,
        f"email-change-requested:{user.id}:{uuid.uuid4().hex}",
        Email(user.email, "Your HireMeBahamas email address is being changed", text),
    )


async def confirm_verification(session: AsyncSession, settings: Settings, raw: str) -> None:
    """Mark the address verified; a link sent to a new address also makes it the account's
    (and the links `void_account_links` names die: resets mailed to the old address, other
    pending changes)."""
    token = await _spend_email_token(session, "verify_email", raw)
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise InvalidEmailToken()
    now = datetime.now(UTC)
    if token.email != user.email:
        old_email = user.email
        if await _find_by_email(session, token.email) is not None:
            raise EmailTaken()
        user.email = token.email
        try:
            await session.flush()
        except IntegrityError:  # taken by a sign-up at the same moment
            raise EmailTaken() from None
        await void_account_links(session, user)
        text = (
            f"Hello {user.full_name},\n\n"
            f"The email address of your HireMeBahamas account is now {user.email}; this "
            "address no longer signs in. If this was not you, contact us at once."
        )
        await queue_email(
            session,
            settings,
            f"email-changed:{token.id}",
            Email(old_email, "Your HireMeBahamas email address was changed", text),
        )
    user.email_verified_at = now
