"""Accounts from the command line only (no API route makes an admin):

python -m app unlock --email ...                         lift an account's failed sign-in limit
python -m app create-admin --email ... --full-name ...   (the password: prompted, or stdin)
python -m app revoke-admin --email ... [--role job_seeker|employer]
"""

from __future__ import annotations

import argparse
import getpass
import sys

from pydantic import ValidationError

from app.auth.admins import create_admin, revoke_admin
from app.auth.attempts import clear_failed_logins
from app.auth.schemas import RegisterRequest
from app.core.commands import (
    EXIT_UNUSABLE,
    CommandError,
    command_session,
    command_settings,
    progress,
)
from app.core.errors import AppError
from app.core.ratelimit import RateLimiter
from app.core.redis import RedisState, redis_errors
from app.core.security import PasswordHasher
from app.identity.models import Role
from app.users.schemas import normalize_email


def add_auth_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "unlock",
        help="clear an account's failed sign-in limit",
        description="Forget the failed sign-in attempts counted against this account, on "
        "every instance (the counters live in Redis): it ends the slowdown, and new addresses "
        "may sign in at once (addresses it knows are never refused). "
        "Exit code 1 without REDIS_URL (each instance then counts in its own memory, which "
        "forgets within 15 minutes or at a restart), 2 when Redis does not answer.",
    )
    parser.add_argument("--email", required=True, help="the account's email, in any case")
    parser.set_defaults(handler=run_unlock)

    parser = commands.add_parser(
        "create-admin",
        help="create a new administrator account",
        description="Create an admin account. The password is asked for twice (not echoed); "
        'for scripts, pipe it on stdin instead (`printf %%s "$PASSWORD" | python -m app '
        "create-admin ...`). It follows the sign-up rules. Exit code 1 when the email is "
        "taken or the password is refused.",
    )
    parser.add_argument("--email", required=True, help="the new account's email")
    parser.add_argument("--full-name", required=True, help="the name shown for the account")
    parser.set_defaults(handler=run_create_admin)

    parser = commands.add_parser(
        "revoke-admin",
        help="take the administrator role away from an account",
        description="The account becomes a job seeker (or --role) and every one of its "
        "sessions ends at once. Exit code 1 when there is no such account or it is no admin.",
    )
    parser.add_argument("--email", required=True, help="the account's email, in any case")
    parser.add_argument(
        "--role",
        choices=[Role.JOB_SEEKER.value, Role.EMPLOYER.value],
        default=Role.JOB_SEEKER.value,
        help="the role it keeps (default job_seeker)",
    )
    parser.set_defaults(handler=run_revoke_admin)


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
        await clear_failed_logins(RateLimiter(redis), email)
    except redis_errors() as exc:
        message = f"Cannot unlock: Redis does not answer ({type(exc).__name__}: {exc})"
        raise CommandError(message, EXIT_UNUSABLE) from None
    finally:
        await redis.close()
    progress(f"{email} can sign in again on every instance.")
    return 0


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.read().rstrip("\r\n")
    password = getpass.getpass("Password for the new admin: ")
    if getpass.getpass("The same password again: ") != password:
        raise CommandError("The two passwords differ; nothing was created.")
    return password


async def run_create_admin(args: argparse.Namespace) -> int:
    try:
        account = RegisterRequest(
            email=args.email, password=_read_password(), full_name=args.full_name
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CommandError(f"Cannot create the admin: {problems}") from None
    hasher = PasswordHasher(command_settings("create the admin").bcrypt_rounds)
    progress(f"Creating admin {account.email} ...")
    try:
        async with command_session("create the admin") as session:
            user = await create_admin(session, hasher, account)
    except AppError as exc:
        raise CommandError(exc.message) from None
    progress(f"{user.email} (id {user.id}) is an admin; sign in with that password.")
    return 0


async def run_revoke_admin(args: argparse.Namespace) -> int:
    try:
        async with command_session("revoke admin") as session:
            user = await revoke_admin(session, args.email, Role(args.role))
    except AppError as exc:
        raise CommandError(exc.message) from None
    progress(
        f"{user.email} (id {user.id}) is no longer an admin (now {user.role}); its sessions ended."
    )
    return 0
