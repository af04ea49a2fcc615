"""The session dependencies: one request, one session, one transaction (`Database.session`);
and the database itself, for the reads through the driver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db.database import Database
from app.core.services import core_services

_SAFE_METHODS = frozenset(("GET", "HEAD"))


async def get_database(request: Request) -> Database:
    """The app's primary database, for the reads through the driver (`Database.rows`)."""
    return core_services(request).database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """GET and HEAD, which must not write (HTTP's safe methods), get a read-only session."""
    read_only = request.scope["method"] in _SAFE_METHODS
    async with core_services(request).database.session(read_only=read_only) as session:
        yield session


class PublicReader:
    """The session of a page that is the same for every anonymous reader (the `public_get`
    pages), made on first use: a page the cache answers makes no session and takes no
    connection. An anonymous GET or HEAD may be served by the read replica; a signed-in caller
    (any Authorization header) reads from the primary, so an owner sees their own writes at
    once. Used or not, it ends with the request, as `get_session`'s does."""

    def __init__(self, database: Database, stack: AsyncExitStack, *, read_only: bool, public: bool):
        self._database = database
        self._stack = stack
        self._read_only = read_only
        self._public = public
        self._session: AsyncSession | None = None

    async def session(self) -> AsyncSession:
        if self._session is None:
            self._session = await self._stack.enter_async_context(
                self._database.session(read_only=self._read_only, public=self._public)
            )
        return self._session


async def get_public_reader(request: Request) -> AsyncIterator[PublicReader]:
    read_only = request.scope["method"] in _SAFE_METHODS
    public = read_only and "authorization" not in request.headers
    database = core_services(request).database
    async with AsyncExitStack() as stack:
        yield PublicReader(database, stack, read_only=read_only, public=public)


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success reply for a write that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]
PublicReaderDep = Annotated[PublicReader, Depends(get_public_reader, scope="function")]
