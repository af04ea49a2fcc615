"""Both storage backends for the files tests: the filesystem under a temporary folder, and an
S3-speaking server (moto in server mode, a real process on a free port, path-style)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.support.factories import Actor, Market
from tests.support.helpers import make_client
from tests.support.server_process import free_port

BUCKET = "hmb-test-files"


@dataclass
class MotoServer:
    url: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = MotoServer(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(server.url, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto server did not start")
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def bucket(moto_server: MotoServer) -> Iterator[Any]:
    s3 = moto_server.client()
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    if keys:
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
    s3.delete_bucket(Bucket=BUCKET)


class Stored:
    """What a backend holds: the keys of objects (files under the folder, or bucket keys)."""

    def __init__(self, kind: str, root: Path | None = None, s3: Any = None) -> None:
        self.kind, self.root, self.s3 = kind, root, s3

    def keys(self) -> set[str]:
        if self.kind == "filesystem":
            assert self.root is not None
            return {str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file()}
        contents = self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {o["Key"] for o in contents}


@pytest.fixture(params=["filesystem", pytest.param("s3", marks=pytest.mark.slow)])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, make_settings: Callable[..., Settings]
) -> tuple[Settings, Stored]:
    if request.param == "filesystem":
        root = tmp_path / "uploads"
        return make_settings(storage_url=f"file://{root}"), Stored("filesystem", root=root)
    server: MotoServer = request.getfixturevalue("moto_server")
    s3 = request.getfixturevalue("bucket")
    settings = make_settings(
        storage_url=f"s3://{BUCKET}",
        s3_endpoint_url=server.url,
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )
    return settings, Stored("s3", s3=s3)


@pytest.fixture
async def files_app(start_app: Callable[[Settings], Any], backend: tuple[Settings, Stored]):
    return await start_app(backend[0])


@pytest.fixture
def stored(backend: tuple[Settings, Stored]) -> Stored:
    return backend[1]


class Files(Market):
    """The market's helpers plus uploads done the way a browser does them."""

    async def announce(self, actor: Actor, purpose: str, content_type: str, size: int):
        return await self.client.post(
            "/api/uploads",
            json={"purpose": purpose, "content_type": content_type, "size": size},
            headers=actor.headers,
        )

    async def send(self, ticket: dict[str, Any], data: bytes) -> httpx.Response:
        """Send the bytes where the ticket says: a PUT to the API itself, or a multipart POST
        over real HTTP to the bucket (the policy's fields first, then the file)."""
        if ticket["method"] == "PUT":
            return await self.client.put(ticket["url"], content=data, headers=ticket["headers"])
        async with httpx.AsyncClient() as browser:
            return await browser.post(
                ticket["url"],
                data=ticket["fields"],
                files={"file": ("upload.bin", data, ticket["fields"]["Content-Type"])},
            )

    async def upload(
        self, actor: Actor, purpose: str, content_type: str, data: bytes
    ) -> httpx.Response:
        """Announce, send and complete; the completion's response."""
        announced = await self.announce(actor, purpose, content_type, len(data))
        assert announced.status_code == 201, announced.text
        sent = await self.send(announced.json(), data)
        assert sent.status_code in (200, 201, 204), sent.text
        return await self.complete(actor, announced.json()["id"])

    async def complete(self, actor: Actor, file_id: int) -> httpx.Response:
        return await self.client.post(f"/api/uploads/{file_id}/complete", headers=actor.headers)

    async def fetch(self, url: str) -> httpx.Response:
        """GET a download URL as a browser would: the API's own paths in process, anything
        else (a presigned GET to the bucket) over real HTTP."""
        if url.startswith("/"):
            response = await self.client.get(url)
            if response.status_code == 307:
                return await self.fetch(response.headers["location"])
            return response
        async with httpx.AsyncClient() as browser:
            return await browser.get(url)


@pytest.fixture
async def files(files_app: FastAPI) -> AsyncIterator[Files]:
    async with make_client(files_app) as client:
        yield Files(files_app, client)
