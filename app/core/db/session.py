"""The session dependencies: one request, one session, one transaction (`Database.session`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.services import core_services

_SAFE_METHODS = frozenset(("GET", "HEAD"))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """GET and HEAD, which must not write (HTTP's safe methods), get a read-only session."""
    read_only = request.scope["method"] in _SAFE_METHODS
    async with core_services(request).database.session(read_only=read_only) as session:
        yield session


async def get_public_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The session of a page that is the same for every anonymous reader (the `public_get`
    pages): an anonymous GET or HEAD may be served by the read replica; a signed-in caller (any
    Authorization header) reads from the primary, so an owner sees their own writes at once."""
    read_only = request.scope["method"] in _SAFE_METHODS
    public = read_only and "authorization" not in request.headers
    database = core_services(request).database
    async with database.session(read_only=read_only, public=public) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success reply for a write that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
PublicReadSessionDep = Annotated[AsyncSession, Depends(get_public_read_session, scope="function")]
