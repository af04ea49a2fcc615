from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.ids import MAX_ID
from app.files import rules
from app.files.models import FileStatus, Purpose

# How other domains' bodies refer to a completed upload.
FileId = Annotated[int, Field(ge=1, le=MAX_ID)]

ContentType = Annotated[str, Field(min_length=3, max_length=100, pattern=r"^[a-z]+/[a-z0-9.+-]+$")]


class UploadRequest(BaseModel):
    """Announce an upload: what it is for, and what the client believes it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"purpose": "resume", "content_type": rules.PDF, "size": 183_204}]
        },
    )

    purpose: Purpose
    content_type: ContentType
    size: Annotated[int, Field(ge=1, le=5 * rules.MB, description="Bytes the file will have.")]


class UploadTicket(BaseModel):
    """Where and how to send the bytes: a presigned POST to the bucket (send `fields` first,
    then the file as `file`, in a multipart form) or, on the filesystem backend, a PUT of the
    raw bytes with `headers`. Then call `POST /api/uploads/{id}/complete` before
    `expires_at`."""

    id: int
    url: str
    method: str
    fields: dict[str, str] | None
    headers: dict[str, str]
    expires_at: datetime


class FileRead(BaseModel):
    """A stored file; `url` is public for images, short-lived for a résumé."""

    id: int
    purpose: Purpose
    status: FileStatus
    content_type: str
    size: int
    pages: int | None
    width: int | None
    height: int | None
    url: str | None
    thumbnail_url: str | None
    created_at: datetime
