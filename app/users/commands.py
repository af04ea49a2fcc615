"""`python -m app grant-admin --email ...`: the only way an existing account becomes an admin
(no API route makes one; `create-admin` and `revoke-admin` are in app/auth/commands.py)."""

from __future__ import annotations

import argparse

from app.core.commands import CommandError, command_session, progress
from app.core.errors import AppError
from app.users import service


def add_user_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "grant-admin",
        help="make an existing account an administrator",
        description="Give the admin role to the account with this email (it must exist: "
        "register it through the API first). Exit code 1 when there is no such account.",
    )
    parser.add_argument("--email", required=True, help="the account's email, in any case")
    parser.set_defaults(handler=run_grant_admin)


async def run_grant_admin(args: argparse.Namespace) -> int:
    try:
        async with command_session("grant admin") as session:
            user, previous = await service.grant_admin(session, args.email)
    except AppError as exc:
        raise CommandError(exc.message) from None
    if previous == user.role:
        progress(f"{user.email} (id {user.id}) is already an admin.")
    else:
        progress(f"{user.email} (id {user.id}) is now an admin (was {previous}).")
    return 0
