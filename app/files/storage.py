"""Where files' bytes live: one interface, two backends.

- `S3Storage` (STORAGE_URL=s3://bucket[/prefix], S3_* settings; AWS S3, R2, B2, MinIO): the
  browser uploads straight to the bucket through a presigned POST that binds the size range and
  the content type; downloads are presigned GETs. boto3 computes presigned URLs locally; every
  call that does I/O runs in a thread, off the event loop.
- `FileSystemStorage` (the default: a folder under .data/): the API takes the upload itself on
  its own signed URL (`PUT /api/uploads/{id}/content`) and serves downloads through signed,
  expiring links (`GET /api/files/{id}/content`), HMAC-signed with a key derived from
  SECRET_KEY.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import quote, urlencode

from app.core.config import Settings
from app.core.services import ServiceKey

# A stored object's thumbnail, when it has one, is served under the same id.
ORIGINAL: Final = "original"
THUMBNAIL = "thumbnail"


@dataclass(frozen=True)
class UploadTarget:
    url: str
    method: str
    fields: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Storage(Protocol):
    def upload_target(
        self, file_id: int, key: str, content_type: str, max_size: int, expires_at: int
    ) -> UploadTarget: ...

    async def read(self, key: str, limit: int) -> bytes | None:
        """The object's bytes, or None when there is none; at most `limit` + 1 bytes are read,
        so a caller sees an object that is too big without reading all of it."""

    async def write(self, key: str, data: bytes, content_type: str) -> None: ...

    async def delete(self, *keys: str) -> None: ...

    def download_url(
        self,
        file_id: int,
        key: str,
        variant: str,
        *,
        expires_at: int | None,
        filename: str | None = None,
    ) -> str:
        """A URL that serves the object: until `expires_at` (epoch seconds), or for good when
        None (a public image)."""


def api_download_path(file_id: int, variant: str, **signed: object) -> str:
    """The API's own download URL of a file (`GET /api/files/{id}/content`)."""
    params = {**({"variant": variant} if variant != ORIGINAL else {}), **signed}
    base = f"/api/files/{file_id}/content"
    return f"{base}?{urlencode(params)}" if params else base


class LinkSigner:
    """HMAC-SHA256 over what a link grants, with a key derived from SECRET_KEY for this use
    only (a leaked link key says nothing about the token key)."""

    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(secret_key.encode(), b"hmb-file-links-v1", hashlib.sha256).digest()

    def sign(self, *parts: object) -> str:
        message = "|".join(str(p) for p in parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def valid(self, signature: str, *parts: object) -> bool:
        return hmac.compare_digest(self.sign(*parts), signature)


class FileSystemStorage:
    def __init__(self, root: Path, signer: LinkSigner) -> None:
        self.root = root
        self.signer = signer

    def path(self, key: str) -> Path:
        # Keys are made by the service (hex and slashes), never by a client.
        return self.root / key

    def upload_target(
        self, file_id: int, key: str, content_type: str, max_size: int, expires_at: int
    ) -> UploadTarget:
        query = urlencode(
            {"expires": expires_at, "signature": self.signer.sign("put", file_id, expires_at)}
        )
        return UploadTarget(
            url=f"/api/uploads/{file_id}/content?{query}",
            method="PUT",
            headers={"Content-Type": content_type},
        )

    def upload_allowed(self, file_id: int, expires: int, signature: str) -> bool:
        return self.signer.valid(signature, "put", file_id, expires)

    def download_url(
        self,
        file_id: int,
        key: str,
        variant: str,
        *,
        expires_at: int | None,
        filename: str | None = None,
    ) -> str:
        if expires_at is None:
            return api_download_path(file_id, variant)
        signature = self.signer.sign("get", file_id, variant, expires_at)
        return api_download_path(file_id, variant, expires=expires_at, signature=signature)

    def download_allowed(self, file_id: int, variant: str, expires: int, signature: str) -> bool:
        return self.signer.valid(signature, "get", file_id, variant, expires)

    async def read(self, key: str, limit: int) -> bytes | None:
        return await asyncio.to_thread(self._read, self.path(key), limit)

    @staticmethod
    def _read(path: Path, limit: int) -> bytes | None:
        try:
            with path.open("rb") as handle:
                return handle.read(limit + 1)
        except FileNotFoundError:
            return None

    async def write(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    async def delete(self, *keys: str) -> None:
        await asyncio.to_thread(self._delete, [self.path(k) for k in keys])

    @staticmethod
    def _delete(paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)


class S3Storage:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        location = (settings.storage_url or "")[len("s3://") :].strip("/")
        self.bucket, _, prefix = location.partition("/")
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.public_url = (settings.s3_public_url or "").rstrip("/") or None

    @cached_property
    def client(self) -> Any:
        # Made when the first request needs the storage, not at boot: boto3 is slow to load.
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.settings.s3_endpoint_url,
            region_name=self.settings.s3_region,
            aws_access_key_id=self.settings.s3_access_key_id,
            aws_secret_access_key=self.settings.s3_secret_access_key,
            # Path-style: R2, B2, MinIO and moto all speak it; virtual hosts need DNS per bucket.
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def upload_target(
        self, file_id: int, key: str, content_type: str, max_size: int, expires_at: int
    ) -> UploadTarget:
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=self._key(key),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_size]],
            ExpiresIn=max(1, expires_at - int(time.time())),
        )
        return UploadTarget(url=post["url"], method="POST", fields=post["fields"])

    def download_url(
        self,
        file_id: int,
        key: str,
        variant: str,
        *,
        expires_at: int | None,
        filename: str | None = None,
    ) -> str:
        if expires_at is None:
            # A public image: straight from the bucket's public address when there is one,
            # else through the API, which redirects to a fresh presigned GET. Either way the
            # URL lasts, so profiles, companies and job listings can keep it.
            if self.public_url:
                return f"{self.public_url}/{quote(self._key(key))}"
            return api_download_path(file_id, variant)
        params: dict[str, str] = {"Bucket": self.bucket, "Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=max(1, expires_at - int(time.time()))
        )

    async def read(self, key: str, limit: int) -> bytes | None:
        return await asyncio.to_thread(self._read, self._key(key), limit)

    def _read(self, key: str, limit: int) -> bytes | None:
        try:
            # The range bounds what is read whatever the object's real size (moto does not
            # enforce the POST policy's content-length-range; real S3 and R2 do).
            response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{limit}")
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("InvalidRange", "404", "NoSuchKey"):
                return None
            raise
        with response["Body"] as body:
            return body.read()

    async def write(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=content_type,
        )

    async def delete(self, *keys: str) -> None:
        if keys:
            await asyncio.to_thread(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self._key(k)} for k in keys], "Quiet": True},
            )


STORAGE: ServiceKey[Storage] = ServiceKey("storage")


def make_storage(settings: Settings) -> FileSystemStorage | S3Storage:
    if settings.storage_url and settings.storage_url.startswith("s3://"):
        return S3Storage(settings)
    root = (
        Path(settings.storage_url[len("file://") :])
        if settings.storage_url
        else Path(".data") / "uploads"
    )
    return FileSystemStorage(root.resolve(), LinkSigner(settings.secret_key))
