"""What every `python -m app` command shares: its settings, a database session, one clear
line and an exit code on failure (0 done, 1 refused or failed, 2 unusable configuration or
an unreachable database), and `migrate`, which belongs to no domain.

A command is one block in its domain's commands.py: `commands.add_parser(...)` with its
arguments and `set_defaults(handler=<async function of the Namespace returning an exit
code>)`, registered in app/cli.py. Inside it, `raise CommandError(...)` to stop with a message.
A command that takes arguments it does not parse itself (`serve`, for Gunicorn) sets
`passthrough=[]` in its defaults and gets them there.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

# The settings and the database (pydantic, SQLAlchemy) are imported by the commands that use
# them, not here: `serve` (app/server/commands.py), the web start command, imports this module
# before Gunicorn runs and must not delay every boot by importing them.
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.config import Settings

EXIT_FAILED = 1
EXIT_UNUSABLE = 2


class CommandError(Exception):
    """Stops a command: `message` on stderr, `exit_code` for the shell."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def progress(message: str) -> None:
    print(message, flush=True)


def command_settings(action: str) -> Settings:
    from app.core.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise CommandError(f"Cannot {action}: {exc}", EXIT_UNUSABLE) from None


@asynccontextmanager
async def command_session(action: str) -> AsyncIterator[AsyncSession]:
    """One session in one transaction (committed when the block ends without an error) on
    the database DATABASE_URL names."""
    from app.core.db import DATABASE_UNAVAILABLE_ERRORS, Database

    database = Database(command_settings(action))
    if database.target is None:
        raise CommandError(f"Cannot {action}: {database.config_error}", EXIT_UNUSABLE)
    try:
        async with database.sessionmaker()() as session, session.begin():
            yield session
    except DATABASE_UNAVAILABLE_ERRORS as exc:
        message = f"Cannot {action}: the database is unavailable ({type(exc).__name__}: {exc})"
        raise CommandError(message, EXIT_UNUSABLE) from None
    finally:
        await database.dispose()


def project_file(name: str, action: str) -> Path:
    """`name` in the working directory (the Docker image's /app), else the checkout's."""
    for candidate in (Path.cwd() / name, Path(__file__).parents[2] / name):
        if candidate.is_file():
            return candidate
    raise CommandError(
        f"Cannot {action}: no {name} here; run it from the directory that holds it",
        EXIT_UNUSABLE,
    )


def add_migrate_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "migrate",
        help="bring the database schema up to date (alembic upgrade head)",
        description="Apply every pending migration to MIGRATION_DATABASE_URL (or DATABASE_URL). "
        "Safe to run again: an up-to-date database is left as it is. Exit code 0 when the "
        "schema is at head, 1 when a migration failed, 2 when there is no usable database URL.",
    )
    parser.set_defaults(handler=run_migrate)


async def run_migrate(_: argparse.Namespace) -> int:
    from app.core.db import DatabaseURLError, migration_target

    settings = command_settings("migrate")
    try:
        target = migration_target(settings)
    except DatabaseURLError as exc:
        raise CommandError(f"Cannot migrate: {exc}", EXIT_UNUSABLE) from None
    ini = project_file("alembic.ini", "migrate")
    progress(f"Migrating {target.masked} to the newest revision ...")
    # Alembic's env.py runs its own event loop: a process of its own, its log lines as progress.
    alembic = (sys.executable, "-m", "alembic", "-c", str(ini))
    upgrade = await asyncio.create_subprocess_exec(*alembic, "upgrade", "head", cwd=ini.parent)
    if await upgrade.wait() != 0:
        raise CommandError("Migration failed; the schema is as the last successful one left it")
    current = await asyncio.create_subprocess_exec(
        *alembic, "current", cwd=ini.parent, stdout=asyncio.subprocess.PIPE
    )
    revision = (await current.communicate())[0].decode().split()
    progress(f"The database is at head ({revision[0] if revision else 'no revision'}).")
    return 0
