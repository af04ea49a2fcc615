"""What a completion checked is what is served: bytes sent on the upload's link once the check
is done (a second PUT held open across it, a second POST to the bucket) change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.files import rules
from tests.support import samples
from tests.support.helpers import assert_error
from tests.support.storage import Files

HTML = b"<html><script>alert(document.cookie)</script></html>"
KINDS = [("avatar", rules.PNG, samples.image("PNG")), ("resume", rules.PDF, samples.pdf())]


@pytest.mark.parametrize("backend", ["filesystem"], indirect=True)
@pytest.mark.parametrize(("purpose", "content_type", "data"), KINDS)
async def test_a_put_held_open_across_the_completion_is_refused(
    files: Files, purpose: str, content_type: str, data: bytes
) -> None:
    seeker = await files.user()
    ticket = (await files.announce(seeker, purpose, content_type, len(data))).json()
    release = asyncio.Event()

    async def swapped_body() -> AsyncIterator[bytes]:
        yield HTML[:10]
        await release.wait()
        yield HTML[10:]

    second = asyncio.create_task(
        files.client.put(ticket["url"], content=swapped_body(), headers=ticket["headers"])
    )
    await asyncio.sleep(0.2)  # the second PUT is in its route, waiting for the rest of its body
    assert (await files.send(ticket, data)).status_code == 204
    completed = await files.complete(seeker, ticket["id"])
    assert completed.status_code == 200, completed.text
    checked = completed.json()

    release.set()
    assert_error(await second, 409)

    served = await files.fetch(checked["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert HTML not in served.content
    assert len(served.content) == checked["size"]


@pytest.mark.slow  # the S3 server (moto) is a process of its own
@pytest.mark.parametrize("backend", ["s3"], indirect=True)
@pytest.mark.parametrize(("purpose", "content_type", "data"), KINDS)
async def test_a_post_to_the_bucket_after_the_completion_changes_nothing(
    files: Files, purpose: str, content_type: str, data: bytes
) -> None:
    seeker = await files.user()
    ticket = (await files.announce(seeker, purpose, content_type, len(data))).json()
    assert (await files.send(ticket, data)).status_code in (200, 204)
    completed = await files.complete(seeker, ticket["id"])
    assert completed.status_code == 200, completed.text
    checked = completed.json()

    # The presigned POST still works until it expires: the bucket takes the new bytes.
    assert (await files.send(ticket, HTML)).status_code in (200, 204)

    served = await files.fetch(checked["url"])
    assert served.status_code == 200
    assert HTML not in served.content
    assert len(served.content) == checked["size"]
