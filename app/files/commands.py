"""`python -m app cleanup-uploads`: remove uploads announced and never completed in time, now
(the worker does the same every 15 minutes: `app/files/tasks.py`)."""

from __future__ import annotations

import argparse

from app.core.commands import command_session, command_settings, progress
from app.files import references
from app.files.storage import make_storage


def add_file_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "cleanup-uploads",
        help="delete expired, never completed uploads (rows and bytes)",
        description="Delete every upload whose completion window has passed, with its stored "
        "bytes. Safe to run from several machines at once.",
    )
    parser.set_defaults(handler=run_cleanup_uploads)


async def run_cleanup_uploads(_: argparse.Namespace) -> int:
    storage = make_storage(command_settings("clean up uploads"))
    async with command_session("clean up uploads") as session:
        removed = await references.cleanup_expired_uploads(session, storage)
    progress(f"Removed {removed} expired upload(s).")
    return 0
