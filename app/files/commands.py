"""`python -m app cleanup-uploads`: remove uploads announced and never completed in time (run it
from cron, e.g. every 15 minutes; the background worker will call the same function)."""

from __future__ import annotations

import argparse
import sys

from app.core.config import ConfigError, load_settings
from app.core.db import Database
from app.core.errors import DATABASE_UNAVAILABLE_ERRORS
from app.files import service
from app.files.storage import make_storage


def add_file_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "cleanup-uploads",
        help="delete expired, never completed uploads (rows and bytes)",
        description="Delete every upload whose completion window has passed, with its stored "
        "bytes. Safe to run from several machines at once.",
    )
    parser.set_defaults(handler=run_cleanup_uploads)


async def run_cleanup_uploads(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    database = Database(settings)
    if database.target is None:
        print(f"Cannot clean up uploads: {database.config_error}", file=sys.stderr)
        return 2
    try:
        async with database.sessionmaker()() as session, session.begin():
            removed = await service.cleanup_expired_uploads(session, make_storage(settings))
    except DATABASE_UNAVAILABLE_ERRORS as exc:
        print(f"Cannot clean up uploads: the database is unavailable ({exc})", file=sys.stderr)
        return 2
    finally:
        await database.dispose()
    print(f"Removed {removed} expired upload(s).")
    return 0
