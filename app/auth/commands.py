"""`python -m app unlock --email ...`: lift an account's failed sign-in limit."""

from __future__ import annotations

import argparse

from app.auth import service
from app.auth.schemas import normalize_email
from app.core.cli import EXIT_UNUSABLE, CommandError, command_settings, progress
from app.core.ratelimit import RateLimiter
from app.core.redis import REDIS_ERRORS, RedisState


def add_auth_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "unlock",
        help="clear an account's failed sign-in limit",
        description="Forget the failed sign-in attempts counted against this account, on "
        "every instance (the counters live in Redis), so its owner can sign in again at once. "
        "Exit code 1 without REDIS_URL (each instance then counts in its own memory, which "
        "forgets within 15 minutes or at a restart), 2 when Redis does not answer.",
    )
    parser.add_argument("--email", required=True, help="the account's email, in any case")
    parser.set_defaults(handler=run_unlock)


async def run_unlock(args: argparse.Namespace) -> int:
    settings = command_settings("unlock")
    email = normalize_email(args.email)
    if settings.redis_url is None:
        raise CommandError(
            "Cannot unlock: REDIS_URL is not set, so each instance counts failed sign-ins in its "
            "own memory; they expire within 15 minutes, or restart the instances"
        )
    redis = RedisState(settings.redis_url, settings.redis_timeout)
    progress(f"Clearing the failed sign-in limit of {email} ...")
    try:
        await service.clear_failed_logins(RateLimiter(redis), email)
    except REDIS_ERRORS as exc:
        message = f"Cannot unlock: Redis does not answer ({type(exc).__name__}: {exc})"
        raise CommandError(message, EXIT_UNUSABLE) from None
    finally:
        await redis.close()
    progress(f"{email} can sign in again on every instance.")
    return 0
