"""/api/uploads (announce, the filesystem backend's upload URL, complete) and /api/files (the
filesystem backend's downloads)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request, Response, status
from fastapi.responses import FileResponse, RedirectResponse

from app.core.db import SessionDep
from app.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    error_responses,
)
from app.core.ids import IdPath
from app.core.ratelimit import RateLimiterDep
from app.core.routing import Router
from app.files import links, rules, uploads
from app.files.deps import StorageDep
from app.files.models import Purpose
from app.files.schemas import FileRead, UploadRequest, UploadTicket
from app.files.storage import ORIGINAL, FileSystemStorage
from app.identity.deps import CurrentUser

router = Router(tags=["files"])

# The one path whose body is bounded by its own route (the purpose's limit), not MAX_BODY_BYTES.
UPLOAD_CONTENT_PATH = r"^/api/uploads/[0-9]+/content$"

Expires = Annotated[int | None, Query(ge=0, le=2**62, description="Link expiry (epoch s).")]
Signature = Annotated[str | None, Query(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")]


def _filesystem(storage: object) -> FileSystemStorage:
    # These routes exist for the filesystem backend; with S3 the bucket plays their part.
    if not isinstance(storage, FileSystemStorage):
        raise NotFound("Uploads and downloads go to the object storage directly.")
    return storage


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    summary="Announce an upload and get where to send it",
    responses=error_responses(Unauthorized, PayloadTooLarge, uploads.QuotaExceeded, RateLimited),
)
async def announce_upload(
    body: UploadRequest,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    limiter: RateLimiterDep,
    response: Response,
) -> UploadTicket:
    file, target = await uploads.announce(session, limiter, storage, user.id, body)
    response.headers["Location"] = f"/api/uploads/{file.id}"
    response.headers["Cache-Control"] = "no-store"
    return UploadTicket(
        id=file.id,
        url=target.url,
        method=target.method,
        fields=target.fields,
        headers=target.headers,
        expires_at=file.expires_at,
    )


@router.put(
    "/uploads/{file_id}/content",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Send the bytes of an announced upload (filesystem backend)",
    responses=error_responses(links.LinkInvalid, NotFound, Conflict, PayloadTooLarge),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file's raw bytes, sent with the headers the ticket gives (its "
            "Content-Type is the announced one: application/pdf, image/png, ...).",
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "<the bytes>",
                }
            },
        }
    },
)
async def upload_content(
    file_id: IdPath,
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    expires: Annotated[int, Query(ge=0, le=2**62)],
    signature: Annotated[str, Query(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")],
) -> None:
    """The upload URL `POST /api/uploads` gives on the filesystem backend: signed, so it needs
    no bearer token (like a presigned POST)."""
    filesystem = _filesystem(storage)
    data = await uploads.read_upload(filesystem, file_id, expires, signature, request.stream())
    await uploads.store_upload(session, filesystem, file_id, data)


@router.post(
    "/uploads/{file_id}/complete",
    summary="Check the uploaded bytes and keep the file",
    responses=error_responses(Unauthorized, NotFound, Conflict, PayloadTooLarge),
)
async def complete_upload(
    file_id: IdPath, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> FileRead:
    """Judged by the bytes: PDF or DOCX for a résumé, PNG, JPEG or WebP for an image (which is
    re-encoded without its metadata). Refused bytes are deleted (422 `FILE_REFUSED`)."""
    file = await uploads.complete(session, storage, user.id, file_id)
    return links.describe(storage, file)


@router.get(
    "/files/{file_id}/content",
    summary="Download a file",
    response_class=FileResponse,
    responses={
        200: {"description": "The file's bytes.", "content": {t: {} for t in rules.EXTENSIONS}},
        307: {"description": "On object storage: to a short-lived presigned GET."},
        **error_responses(links.LinkInvalid, NotFound),
    },
)
async def download_file(
    file_id: IdPath,
    session: SessionDep,
    storage: StorageDep,
    expires: Expires = None,
    signature: Signature = None,
    variant: Annotated[Literal["original", "thumbnail"], Query()] = ORIGINAL,
) -> Response:
    """Avatars and logos to anyone (their lasting URL). A résumé only through the signed,
    short-lived link its owner or the employer it was sent to was given (filesystem backend;
    expired: 403 `LINK_EXPIRED`, altered: 403 `LINK_INVALID`, no link: 404)."""
    file, key = await links.served_file(session, storage, file_id, variant, expires, signature)
    if not isinstance(storage, FileSystemStorage):
        return RedirectResponse(
            links.download_url(storage, file, variant, lasting=False), status_code=307
        )
    public = rules.RULES[Purpose(file.purpose)].public
    headers = {"Cache-Control": "public, max-age=86400" if public else "private, no-store"}
    # A résumé is downloaded, never rendered inline on our origin.
    filename = None if public else links.download_name(file)
    path = storage.path(key)
    if not path.is_file():  # the row outlived its bytes (removed by hand): nothing to serve
        raise NotFound("No such file.")
    return FileResponse(path, media_type=file.content_type, headers=headers, filename=filename)
