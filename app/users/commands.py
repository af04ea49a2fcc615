"""`python -m app grant-admin --email ...`: the only way an account becomes an admin."""

from __future__ import annotations

import argparse
import sys

from app.core.config import ConfigError, load_settings
from app.core.db import DATABASE_UNAVAILABLE_ERRORS, Database
from app.core.errors import NotFound
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
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    database = Database(settings)
    if database.target is None:
        print(f"Cannot grant admin: {database.config_error}", file=sys.stderr)
        return 2
    try:
        async with database.sessionmaker()() as session, session.begin():
            user, previous = await service.grant_admin(session, args.email)
    except NotFound as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except DATABASE_UNAVAILABLE_ERRORS as exc:
        print(f"Cannot grant admin: the database is unavailable ({exc})", file=sys.stderr)
        return 2
    finally:
        await database.dispose()
    if previous == user.role:
        print(f"{user.email} (id {user.id}) is already an admin.")
    else:
        print(f"{user.email} (id {user.id}) is now an admin (was {previous}).")
    return 0
