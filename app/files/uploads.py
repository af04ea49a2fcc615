"""Uploads: announcing one (quotas, limits), receiving its body on the filesystem backend,
and completing it (the bytes decide)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound, PayloadTooLarge, UnprocessableEntity
from app.core.ratelimit import Limit, RateLimiter
from app.files import rules
from app.files.inspect import Refused, inspect
from app.files.links import LinkExpired, LinkInvalid
from app.files.models import FileStatus, Purpose, StoredFile
from app.files.references import delete_after_commit
from app.files.schemas import UploadRequest
from app.files.storage import FileSystemStorage, Storage, UploadTarget

UPLOAD_ATTEMPTS = Limit(rules.UPLOAD_ATTEMPTS)


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
    delete_after_commit(session, storage, [upload_key])
    file.status = FileStatus.READY
    file.content_type = checked.content_type
    file.size = len(checked.data)
    file.pages, file.width, file.height = checked.pages, checked.width, checked.height
    await session.flush()
    return file
