"""Files as other domains see them: claiming an upload for a profile, a company or an
application, the one rule for an avatar or a logo in an update, reading completed files in
one query, and deleting bytes nobody refers to any more (a replaced file, an account's files,
uploads never completed), rows at once and bytes once the transaction commits."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Select,
    any_,
    bindparam,
    delete,
    event,
    exists,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from app.core.db import RowSource
from app.core.errors import UnprocessableEntity
from app.core.models import Base
from app.files.links import FileRow, download_url
from app.files.models import FileStatus, Purpose, StoredFile
from app.files.storage import Storage

logger = logging.getLogger("app.files")

_DISCARD_KEY = "hmb_files_discard"


async def claim(
    session: AsyncSession, owner_id: int, file_id: int, purpose: Purpose, field: str
) -> StoredFile:
    """A file another domain may refer to: the caller's own, completed, of this purpose. Any
    other id (someone else's, pending, another purpose, none) is the same 422."""
    file = await session.get(StoredFile, file_id)
    if (
        file is None
        or file.owner_id != owner_id
        or file.status != FileStatus.READY
        or file.purpose != purpose
    ):
        raise UnprocessableEntity(
            f"No completed {purpose} of yours has id {file_id}.",
            details=[{"loc": ["body", field], "msg": "no such file", "type": "value_error"}],
        )
    return file


async def image_change(
    session: AsyncSession,
    storage: Storage,
    owner_id: int,
    changes: dict[str, Any],
    purpose: Purpose,
    current_file_id: int | None,
) -> int | None:
    """The one rule for an avatar or a logo in an update (`changes` holds `<x>_url` and
    `<x>_file_id` as sent): a file sets the URL to its lasting public one; a URL sent alone
    detaches the file. Rewrites `changes` accordingly and returns the id of the file this
    replaces (for `discard_if_unused` once the change is flushed), if any."""
    name = "avatar" if purpose == Purpose.AVATAR else "logo"
    file_field, url_field = f"{name}_file_id", f"{name}_url"
    file_id = changes.get(file_field)
    if file_id is not None and changes.get(url_field):
        raise UnprocessableEntity(
            f"Send {file_field} or {url_field}, not both.",
            details=[
                {"loc": ["body", url_field], "msg": "one or the other", "type": "value_error"}
            ],
        )
    if file_id is not None:
        image = await claim(session, owner_id, file_id, purpose, file_field)
        changes[url_field] = download_url(storage, image)
    elif file_field in changes or url_field in changes:
        changes[file_field] = None
        changes.setdefault(url_field, None)
    else:
        return None
    return current_file_id if current_file_id != file_id else None


async def ready_files(rows_of: RowSource, *file_ids: int | None) -> dict[int, FileRow]:
    """The completed files among these ids, in one query (`_ready`): as rows of the files
    table's columns, which `links.describe` takes as it takes a `StoredFile`."""
    wanted = sorted({i for i in file_ids if i is not None})
    if not wanted:
        return {}
    return {f.id: f for f in await rows_of(_ready(), {"ids": wanted})}


@functools.cache
def _ready() -> Select[Any]:
    files = StoredFile.__table__
    return select(files).where(
        files.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))),
        files.c.status == FileStatus.READY.value,
    )


def _referencing_columns() -> list:
    """Every column of every table that refers to files.id: a file is in use while any does."""
    files_id = StoredFile.__table__.c.id
    return [
        fk.parent
        for table in Base.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column is files_id
    ]


async def discard_if_unused(session: AsyncSession, storage: Storage, file_id: int | None) -> None:
    """Delete a file nothing refers to any more (a replaced avatar, logo or résumé), its row
    now and its bytes once the transaction commits. A résumé an application was sent with is
    still referred to, and stays."""
    if file_id is None:
        return
    await session.flush()
    in_use = or_(*(exists().where(column == file_id) for column in _referencing_columns()))
    if await session.scalar(select(in_use)):
        return
    file = await session.get(StoredFile, file_id)
    if file is not None:
        await _discard(session, storage, [file])


async def discard_all_of(session: AsyncSession, storage: Storage, owner_id: int) -> None:
    """An account's deletion: every file it owns goes, whatever refers to it (the references
    become null), rows now and bytes once the transaction commits."""
    files = (await session.scalars(select(StoredFile).where(StoredFile.owner_id == owner_id))).all()
    await _discard(session, storage, files)


async def _discard(session: AsyncSession, storage: Storage, files: Sequence[StoredFile]) -> None:
    if not files:
        return
    keys = [k for f in files for k in (f.storage_key, f.thumbnail_key) if k]
    await session.execute(delete(StoredFile).where(StoredFile.id.in_([f.id for f in files])))
    for file in files:
        session.expunge(file)
    delete_after_commit(session, storage, keys)


def delete_after_commit(session: AsyncSession, storage: Storage, keys: list[str]) -> None:
    """Delete these stored objects once the transaction commits (never if it rolls back)."""
    sync_session = session.sync_session
    if _DISCARD_KEY not in sync_session.info:
        sync_session.info[_DISCARD_KEY] = []

        def after_commit(sync: Session) -> None:
            pending = sync.info.pop(_DISCARD_KEY, [])
            if pending:
                # Inside SQLAlchemy's greenlet bridge, like the cache's invalidation: done
                # before the response is sent.
                await_only(_delete_bytes(storage, pending))

        event.listen(sync_session, "after_commit", after_commit, once=True)
        event.listen(sync_session, "after_rollback", lambda sync: sync.info.pop(_DISCARD_KEY, None))
    sync_session.info[_DISCARD_KEY].extend(keys)


async def _delete_bytes(storage: Storage, keys: list[str]) -> None:
    try:
        await storage.delete(*keys)
    except Exception:
        # The rows are gone already; bytes left behind cost space, not privacy of a reader.
        logger.exception("Could not delete %d stored objects", len(keys))


async def cleanup_expired_uploads(
    session: AsyncSession, storage: Storage, now: datetime | None = None
) -> int:
    """Delete uploads announced and never completed in time, rows and bytes. Run by
    the worker every 15 minutes (`files.cleanup_uploads`) and by `python -m app cleanup-uploads`;
    returns how many."""
    now = now or datetime.now(UTC)
    expired = (
        await session.scalars(
            select(StoredFile)
            .where(StoredFile.status == FileStatus.PENDING, StoredFile.expires_at <= now)
            .with_for_update(skip_locked=True)
        )
    ).all()
    await _discard(session, storage, expired)
    return len(expired)
