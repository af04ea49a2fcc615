"""Links to files: the download URL of a stored file (a public image's lasting one, a private
file's short-lived signed one), what a file looks like to its reader, and the checks of
`GET /api/files/{id}/content` on the filesystem backend."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Record
from app.core.errors import Forbidden, NotFound
from app.files import rules
from app.files.models import FileStatus, Purpose, StoredFile
from app.files.schemas import FileRead
from app.files.storage import ORIGINAL, THUMBNAIL, FileSystemStorage, Storage

FileRow = StoredFile | Record
"""A stored file as an ORM object or as a row of the files table's columns
(`references.ready_files`): the links read the same attributes of either."""


class LinkExpired(Forbidden):
    error_code = "LINK_EXPIRED"
    default_message = "This link has expired; ask for a new one."


class LinkInvalid(Forbidden):
    error_code = "LINK_INVALID"
    default_message = "This link is not valid."


def download_url(
    storage: Storage, file: FileRow, variant: str = ORIGINAL, *, lasting: bool = True
) -> str:
    """A public image's lasting URL, or a private file's short-lived one. Callers decide who
    may have it; this only makes it."""
    key = file.thumbnail_key if variant == THUMBNAIL and file.thumbnail_key else file.storage_key
    if lasting and rules.RULES[Purpose(file.purpose)].public:
        return storage.download_url(file.id, key, variant, expires_at=None)
    expires = int(time.time() + rules.DOWNLOAD_TTL.total_seconds())
    return storage.download_url(
        file.id, key, variant, expires_at=expires, filename=download_name(file)
    )


def download_name(file: FileRow) -> str:
    return f"{file.purpose}-{file.id}.{rules.EXTENSIONS.get(file.content_type, 'bin')}"


def describe(storage: Storage, file: FileRow) -> FileRead:
    ready = file.status == FileStatus.READY
    return FileRead(
        id=file.id,
        purpose=Purpose(file.purpose),
        status=FileStatus(file.status),
        content_type=file.content_type,
        size=file.size,
        pages=file.pages,
        width=file.width,
        height=file.height,
        url=download_url(storage, file) if ready else None,
        thumbnail_url=download_url(storage, file, THUMBNAIL) if file.thumbnail_key else None,
        created_at=file.created_at,
    )


async def served_file(
    session: AsyncSession,
    storage: Storage,
    file_id: int,
    variant: str,
    expires: int | None,
    signature: str | None,
) -> tuple[StoredFile, str]:
    """`GET /api/files/{id}/content`: a public image to anyone; a private file only with a
    valid, unexpired link signed by the filesystem backend (the route that issued it checked
    the reader; on object storage private links are presigned GETs and never come here)."""
    file = await session.get(StoredFile, file_id)
    if file is None or file.status != FileStatus.READY:
        raise NotFound("No such file.")
    if not rules.RULES[Purpose(file.purpose)].public:
        if expires is None or signature is None or not isinstance(storage, FileSystemStorage):
            raise NotFound("No such file.")
        if not storage.download_allowed(file_id, variant, expires, signature):
            raise LinkInvalid()
        if expires < time.time():
            raise LinkExpired()
    key = file.thumbnail_key if variant == THUMBNAIL else file.storage_key
    if key is None:
        raise NotFound("This file has no thumbnail.")
    return file, key
