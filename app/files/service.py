"""The rules of files: announcing an upload (quotas, limits), receiving it on the filesystem
backend, completing it (the bytes decide), handing out download links, letting other domains
refer to a file, and deleting bytes nobody refers to any more."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from limits import parse
from sqlalchemy import delete, event, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from app.core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, UnprocessableEntity
from app.core.models import Base
from app.core.ratelimit import RateLimiter
from app.files import rules
from app.files.inspect import Refused, inspect
from app.files.models import FileStatus, Purpose, StoredFile
from app.files.schemas import FileRead, UploadRequest
from app.files.storage import ORIGINAL, THUMBNAIL, FileSystemStorage, Storage, UploadTarget

logger = logging.getLogger("app.files")

UPLOAD_ATTEMPTS = parse(rules.UPLOAD_ATTEMPTS)
_DISCARD_KEY = "hmb_files_discard"


class LinkExpired(Forbidden):
    error_code = "LINK_EXPIRED"
    default_message = "This link has expired; ask for a new one."


class LinkInvalid(Forbidden):
    error_code = "LINK_INVALID"
    default_message = "This link is not valid."


class QuotaExceeded(Conflict):
    error_code = "QUOTA_EXCEEDED"
    default_message = "This account has reached its file quota."


class FileRefused(UnprocessableEntity):
    error_code = "FILE_REFUSED"
    default_message = "The uploaded file is not acceptable."


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


async def _lock_owner(session: AsyncSession, owner_id: int) -> None:
    """Serialise one account's quota checks (two parallel announcements cannot both slip under
    the limit), without taking a lock on the users row other requests update."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('hmb-files'), CAST(:owner AS integer))"),
        {"owner": owner_id % 2_147_483_647},
    )


def _new_key(purpose: str) -> str:
    return f"{purpose}/{secrets.token_hex(16)}"


async def announce(
    session: AsyncSession,
    limiter: RateLimiter,
    storage: Storage,
    owner_id: int,
    data: UploadRequest,
) -> tuple[StoredFile, UploadTarget]:
    rule = rules.RULES[data.purpose]
    if data.content_type not in rule.content_types:
        raise UnprocessableEntity(
            f"A {data.purpose} must be one of: {', '.join(sorted(rule.content_types))}.",
            details=[{"loc": ["body", "content_type"], "msg": "not accepted", "type": "enum"}],
        )
    if data.size > rule.max_size:
        raise PayloadTooLarge(f"A {data.purpose} may be at most {rule.max_size:,} bytes.")
    await limiter.hit(
        UPLOAD_ATTEMPTS, "uploads", str(owner_id), message="Too many uploads; try again later."
    )
    await _lock_owner(session, owner_id)
    now = datetime.now(UTC)
    counts = (
        await session.execute(
            select(
                func.count().filter(StoredFile.status == FileStatus.READY),
                func.count().filter(
                    StoredFile.status == FileStatus.PENDING, StoredFile.expires_at > now
                ),
            ).where(StoredFile.owner_id == owner_id)
        )
    ).one()
    if counts[0] >= rules.MAX_READY_FILES:
        raise QuotaExceeded(
            f"An account keeps at most {rules.MAX_READY_FILES} files; replace or delete one."
        )
    if counts[1] >= rules.MAX_PENDING_UPLOADS:
        raise QuotaExceeded(
            f"At most {rules.MAX_PENDING_UPLOADS} uploads may be in progress at once."
        )
    file = StoredFile(
        owner_id=owner_id,
        purpose=data.purpose,
        status=FileStatus.PENDING,
        content_type=data.content_type,
        size=data.size,
        storage_key=_new_key(data.purpose),
        expires_at=now + rules.UPLOAD_TTL,
    )
    session.add(file)
    await session.flush()
    target = storage.upload_target(
        file.id, file.storage_key, data.content_type, rule.max_size, _epoch(file.expires_at)
    )
    return file, target


async def read_upload(
    storage: FileSystemStorage,
    file_id: int,
    expires: int,
    signature: str,
    chunks: AsyncIterator[bytes],
) -> bytes:
    """The filesystem backend's upload URL: the signed link is the authorisation (as a
    presigned POST is on S3). The body is read here, before the database is touched, so a
    client that sends it slowly holds no connection while it does; it is refused past the
    largest limit of any purpose (the 1 MiB limit of other routes does not apply here), and
    `store_upload` applies the file's own."""
    if not storage.upload_allowed(file_id, expires, signature):
        raise LinkInvalid()
    if expires < time.time():
        raise LinkExpired()
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > rules.MAX_UPLOAD_SIZE:
            raise PayloadTooLarge(f"An upload may be at most {rules.MAX_UPLOAD_SIZE:,} bytes.")
    if not body:
        raise UnprocessableEntity("The upload is empty.")
    return bytes(body)


async def store_upload(
    session: AsyncSession, storage: FileSystemStorage, file_id: int, data: bytes
) -> None:
    """Keep what `read_upload` read, under the row's lock: a completion waits for this write,
    and a PUT that finishes after the completion finds the file complete (409) instead of
    replacing the bytes that were checked."""
    file = await session.get(StoredFile, file_id, with_for_update=True)
    if file is None:
        raise NotFound("No such upload.")
    if file.status != FileStatus.PENDING:
        raise Conflict("This upload is already complete.")
    limit = rules.RULES[Purpose(file.purpose)].max_size
    if len(data) > limit:
        raise PayloadTooLarge(f"A {file.purpose} may be at most {limit:,} bytes.")
    await storage.write(file.storage_key, data, file.content_type)


async def _own_file(session: AsyncSession, owner_id: int, file_id: int) -> StoredFile:
    file = await session.get(StoredFile, file_id, with_for_update=True)
    if file is None or file.owner_id != owner_id:
        raise NotFound("No such upload.")
    return file


async def complete(
    session: AsyncSession, storage: Storage, owner_id: int, file_id: int
) -> StoredFile:
    """Check the uploaded bytes (not the name, not the declared type) and keep them, images
    re-encoded without metadata; refused bytes are deleted at once."""
    file = await _own_file(session, owner_id, file_id)
    if file.status == FileStatus.READY:
        return file
    if file.expires_at <= datetime.now(UTC):
        raise Conflict("This upload has expired; announce a new one.")
    rule = rules.RULES[Purpose(file.purpose)]
    data = await storage.read(file.storage_key, rule.max_size)
    if data is None:
        raise Conflict("Nothing has been uploaded for this file yet.")
    if len(data) > rule.max_size:
        await storage.delete(file.storage_key)
        raise PayloadTooLarge(f"A {file.purpose} may be at most {rule.max_size:,} bytes.")
    try:
        checked = await asyncio.to_thread(inspect, data, rule, file.content_type)
    except Refused as exc:
        await storage.delete(file.storage_key)
        raise FileRefused(str(exc)) from None
    # The checked bytes move to a key of their own: the upload's key stays writable by its
    # link until that expires (a second PUT, the bucket's presigned POST), this one by nobody.
    upload_key, file.storage_key = file.storage_key, _new_key(file.purpose)
    await storage.write(file.storage_key, checked.data, checked.content_type)
    if checked.thumbnail is not None:
        file.thumbnail_key = f"{file.storage_key}.thumb"
        await storage.write(file.thumbnail_key, checked.thumbnail, checked.content_type)
    _delete_after_commit(session, storage, [upload_key])
    file.status = FileStatus.READY
    file.content_type = checked.content_type
    file.size = len(checked.data)
    file.pages, file.width, file.height = checked.pages, checked.width, checked.height
    await session.flush()
    return file


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


def download_url(
    storage: Storage, file: StoredFile, variant: str = ORIGINAL, *, lasting: bool = True
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


def download_name(file: StoredFile) -> str:
    return f"{file.purpose}-{file.id}.{rules.EXTENSIONS.get(file.content_type, 'bin')}"


def describe(storage: Storage, file: StoredFile) -> FileRead:
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


async def ready_files(session: AsyncSession, *file_ids: int | None) -> dict[int, StoredFile]:
    """The completed files among these ids, in one query."""
    wanted = {i for i in file_ids if i is not None}
    if not wanted:
        return {}
    stmt = select(StoredFile).where(
        StoredFile.id.in_(wanted), StoredFile.status == FileStatus.READY
    )
    return {f.id: f for f in (await session.scalars(stmt)).all()}


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
    _delete_after_commit(session, storage, keys)


def _delete_after_commit(session: AsyncSession, storage: Storage, keys: list[str]) -> None:
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
