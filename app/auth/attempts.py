"""The failed sign-in limits: every password check is counted before bcrypt runs, per client
address and per account, and a failing account's attempts are slowed down."""

from __future__ import annotations

import asyncio
import logging

from app.auth.context import AuthContext, account_key
from app.core.config import Settings
from app.core.ratelimit import Counted, Limit, RateLimiter
from app.identity.models import User
from app.users.schemas import normalize_email

logger = logging.getLogger("app.auth")

# Failed password checks are counted per client address (trying many accounts) and per
# account (guessing one user's password). The address budget is larger: an office or a phone
# carrier puts many people behind one address. Past its limit, the account's count refuses
# only addresses the account does not know (`SignInAddress`, app/auth/addresses.py: one it
# signed in from or was recovered from), so a stranger's wrong passwords never lock the owner
# out; and once it passes SLOWDOWN_AFTER, every attempt on the account waits (login_delay),
# bounded.
FAILED_LOGINS_PER_ACCOUNT = Limit("5/15 minutes")
FAILED_LOGINS_PER_ADDRESS = Limit("20/15 minutes")
SLOWDOWN_AFTER = 3
SLOWDOWN_MAX_FACTOR = 16
TOO_MANY_FAILURES = "Too many failed sign-in attempts. Try again later."


async def clear_failed_logins(limiter: RateLimiter, email: str) -> bool:
    """Lift the failed sign-in limit of one account (not of the addresses that tried);
    False when there is no Redis to clear it in, see RateLimiter.clear."""
    key = account_key(normalize_email(email))
    return await limiter.clear(FAILED_LOGINS_PER_ACCOUNT, "login-account", key)


def login_delay(settings: Settings, failures: int) -> float:
    """How long a password attempt on an account waits, given the account's failed attempts
    counted before it in the window: nothing up to SLOWDOWN_AFTER, then LOGIN_DELAY_SECONDS
    doubling with each failure, up to SLOWDOWN_MAX_FACTOR times it."""
    if failures < SLOWDOWN_AFTER:
        return 0.0
    factor = min(2 ** (failures - SLOWDOWN_AFTER), SLOWDOWN_MAX_FACTOR)
    return settings.login_delay_seconds * factor


async def count_attempt(ctx: AuthContext, email: str) -> Counted:
    """Count a password attempt before bcrypt runs, so parallel guesses cannot slip past a
    limit (a right one is given back): refuse an address past its own limit, and make the
    attempt wait when the account keeps failing. Callers wait here before their first query
    where they can, so a slowed attempt holds no database connection."""
    await ctx.limiter.hit(
        FAILED_LOGINS_PER_ADDRESS, "login-address", ctx.client_ip, message=TOO_MANY_FAILURES
    )
    counted = await ctx.limiter.count(
        FAILED_LOGINS_PER_ACCOUNT, "login-account", account_key(email)
    )
    delay = login_delay(ctx.settings, counted.value - 1)
    if delay:
        logger.warning(
            "sign-in slowed down: the account keeps failing", extra={"delay_seconds": delay}
        )
        await asyncio.sleep(delay)
    return counted


async def check_password(
    ctx: AuthContext,
    user: User | None,
    email: str,
    password: str,
    counted: Counted,
    *,
    known: bool,
) -> bool:
    """Verify a password counted by `count_attempt`. Past the account's limit, only an
    address it knows may still try."""
    if counted.exceeded and not known:
        await counted.refuse(TOO_MANY_FAILURES)
    ok, new_hash = await ctx.hasher.verify(password, user.password_hash if user else None)
    if not ok:
        return False
    assert user is not None
    await ctx.limiter.refund(FAILED_LOGINS_PER_ADDRESS, "login-address", ctx.client_ip)
    await ctx.limiter.refund(FAILED_LOGINS_PER_ACCOUNT, "login-account", account_key(email))
    if new_hash is not None:
        user.password_hash = new_hash  # the configured bcrypt cost changed
    return True
