"""What every operator command (`python -m app <command>`) does around its work: read the
settings, open the database, run the work in one transaction, close the database; a setting
or a database the command cannot use is one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import ConfigError, Settings, load_settings
from app.core.db import DATABASE_UNAVAILABLE_ERRORS, Database

T = TypeVar("T")


class CommandFailed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


async def in_transaction(action: str, work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction; raise CommandFailed(2) after saying why it
    could not (`action` completes "Cannot ...")."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise CommandFailed(2) from None
    database = Database(settings)
    if database.target is None:
        print(f"Cannot {action}: {database.config_error}", file=sys.stderr)
        raise CommandFailed(2)
    try:
        async with database.sessionmaker()() as session, session.begin():
            return await work(session, settings)
    except DATABASE_UNAVAILABLE_ERRORS as exc:
        print(f"Cannot {action}: the database is unavailable ({exc})", file=sys.stderr)
        raise CommandFailed(2) from None
    finally:
        await database.dispose()
