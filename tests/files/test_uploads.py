"""Uploads on both backends, the same way: announce, send as a browser does, complete; the bytes
decide what a file is, limits hold, refused bytes are gone."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.files import rules
from tests.support import samples
from tests.support.helpers import assert_error
from tests.support.storage import Files, Stored


async def test_a_pdf_resume_is_stored_checked_and_downloadable_by_its_owner(
    files: Files, stored: Stored
) -> None:
    seeker = await files.user()
    # Over the 1 MiB limit of every other route: the upload path has the résumé's own limit.
    document = samples.pdf(pages=2, padding=1_300_000)
    assert len(document) > 1_048_576

    response = await files.upload(seeker, "resume", rules.PDF, document)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body | {"url": None, "created_at": None} == {
        "id": body["id"],
        "purpose": "resume",
        "status": "ready",
        "content_type": rules.PDF,
        "size": len(document),
        "pages": 2,
        "width": None,
        "height": None,
        "url": None,
        "thumbnail_url": None,
        "created_at": None,
    }
    download = await files.fetch(body["url"])
    assert download.status_code == 200
    assert download.content == document
    assert len(stored.keys()) == 1


async def test_a_docx_resume_is_accepted(files: Files) -> None:
    seeker = await files.user()
    response = await files.upload(seeker, "resume", rules.DOCX, samples.docx())
    assert response.status_code == 200, response.text
    assert response.json()["content_type"] == rules.DOCX


@pytest.mark.parametrize(
    ("declared", "data", "why"),
    [
        (rules.PDF, samples.SCRIPT, "not one of"),  # a shell script renamed résumé.pdf
        (rules.PDF, samples.image("PNG"), "not one of"),  # a PNG announced as a PDF
        (rules.PDF, b"%PDF-1.7\nnot really a pdf at all\n", "cannot be read"),
        (rules.DOCX, b"PK\x03\x04 not a zip", "not a readable"),
    ],
)
async def test_spoofed_files_are_refused_at_completion_and_their_bytes_deleted(
    files: Files, stored: Stored, declared: str, data: bytes, why: str
) -> None:
    seeker = await files.user()
    announced = (await files.announce(seeker, "resume", declared, len(data))).json()
    assert (await files.send(announced, data)).status_code in (200, 201, 204)
    assert len(stored.keys()) == 1

    refused = await files.complete(seeker, announced["id"])

    assert why in assert_error(refused, 422, "FILE_REFUSED")["message"]
    assert stored.keys() == set()
    again = await files.complete(seeker, announced["id"])
    assert_error(again, 409)


async def test_an_image_declared_as_another_image_type_is_refused(files: Files) -> None:
    seeker = await files.user()
    response = await files.upload(seeker, "avatar", rules.PNG, samples.image("JPEG"))
    assert "announced as image/png" in assert_error(response, 422, "FILE_REFUSED")["message"]


@pytest.mark.parametrize(("fmt", "content_type"), [("JPEG", rules.JPEG), ("WEBP", rules.WEBP)])
async def test_images_are_reencoded_without_metadata_bounded_and_thumbnailed(
    files: Files, stored: Stored, fmt: str, content_type: str
) -> None:
    seeker = await files.user()
    original = samples.image(fmt, size=(3000, 1500))
    assert Image.open(io.BytesIO(original)).getexif().get(samples.GPS_IFD) is not None

    response = await files.upload(seeker, "avatar", content_type, original)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (2048, 1024)
    served = await files.fetch(body["url"])
    assert served.status_code == 200
    picture = Image.open(io.BytesIO(served.content))
    assert picture.size == (2048, 1024)
    assert picture.format == fmt
    assert dict(picture.getexif()) == {}
    assert b"Jane Seeker" not in served.content
    thumbnail = Image.open(io.BytesIO((await files.fetch(body["thumbnail_url"])).content))
    assert max(thumbnail.size) == rules.THUMBNAIL_SIDE
    assert len(stored.keys()) == 2  # the image and its thumbnail


async def test_a_picture_claiming_too_many_pixels_is_refused(files: Files) -> None:
    seeker = await files.user()
    huge = io.BytesIO()
    Image.new("1", (8000, 8000)).save(huge, format="PNG")  # 64 Mpx in a few kB
    response = await files.upload(seeker, "avatar", rules.PNG, huge.getvalue())
    assert "pixels" in assert_error(response, 422, "FILE_REFUSED")["message"]


async def test_bytes_over_the_purpose_limit_never_become_a_file(
    files: Files, stored: Stored
) -> None:
    seeker = await files.user()
    too_big = samples.image("PNG") + b"\0" * (rules.RULES["avatar"].max_size + 1)
    announced = (await files.announce(seeker, "avatar", rules.PNG, 1000)).json()

    sent = await files.send(announced, too_big)
    if announced["method"] == "PUT":
        # The API reads the body and stops past the limit.
        assert_error(sent, 413)
    else:
        # moto ignores the policy's content-length-range (real S3 and R2 refuse it); the
        # completion measures the stored object and deletes it.
        assert sent.status_code in (200, 204)
    response = await files.complete(seeker, announced["id"])

    assert response.status_code in (409, 413), response.text
    assert stored.keys() == set()


async def test_announcements_are_checked_against_the_purpose(files: Files) -> None:
    seeker = await files.user()
    assert_error(await files.announce(seeker, "resume", rules.PNG, 100), 422)
    assert_error(await files.announce(seeker, "avatar", rules.PDF, 100), 422)
    assert_error(await files.announce(seeker, "avatar", rules.PNG, 3 * rules.MB), 413)
    assert_error(await files.announce(seeker, "resume", rules.PDF, 0), 422)
    assert_error(await files.announce(seeker, "payslip", rules.PDF, 100), 422)
    anonymous = await files.client.post(
        "/api/uploads", json={"purpose": "resume", "content_type": rules.PDF, "size": 10}
    )
    assert_error(anonymous, 401)


async def test_only_the_owner_completes_an_upload(files: Files) -> None:
    seeker, other = await files.user(), await files.user()
    announced = (await files.announce(seeker, "resume", rules.PDF, 1000)).json()
    await files.send(announced, samples.pdf())
    assert_error(await files.complete(other, announced["id"]), 404)
    assert (await files.complete(seeker, announced["id"])).status_code == 200


async def test_uploads_in_progress_are_limited_per_account(files: Files) -> None:
    seeker = await files.user()
    for _ in range(rules.MAX_PENDING_UPLOADS):
        assert (await files.announce(seeker, "resume", rules.PDF, 1000)).status_code == 201
    response = await files.announce(seeker, "resume", rules.PDF, 1000)
    assert_error(response, 409, "QUOTA_EXCEEDED")
    # Another account has its own quota.
    other = await files.user()
    assert (await files.announce(other, "resume", rules.PDF, 1000)).status_code == 201


async def test_files_kept_are_limited_per_account(files: Files) -> None:
    seeker = await files.user()
    await files.sql(
        "INSERT INTO files (owner_id, purpose, status, content_type, size, storage_key,"
        " expires_at) SELECT :owner, 'resume', 'ready', 'application/pdf', 10,"
        " 'resume/seeded-' || n, now() FROM generate_series(1, :count) AS n",
        owner=seeker.id,
        count=rules.MAX_READY_FILES,
    )
    response = await files.announce(seeker, "resume", rules.PDF, 1000)
    assert_error(response, 409, "QUOTA_EXCEEDED")


async def test_upload_attempts_are_rate_limited_per_account(files: Files, redis) -> None:
    seeker = await files.user()
    limit = int(rules.UPLOAD_ATTEMPTS.split("/")[0])
    statuses = []
    for _ in range(limit + 1):
        response = await files.announce(seeker, "resume", rules.PDF, 1000)
        statuses.append(response.status_code)
        # Keep the in-progress quota out of the way: these uploads are abandoned at once.
        await files.sql("UPDATE files SET expires_at = now() WHERE owner_id = :o", o=seeker.id)
    assert statuses[:limit] == [201] * limit
    assert statuses[limit] == 429
    assert await redis.keys("hmb:ratelimit*")


@pytest.mark.parametrize("backend", ["filesystem"], indirect=True)
@pytest.mark.parametrize(("kind", "data"), list(samples.active_pdfs().items()))
async def test_a_resume_pdf_with_active_content_is_refused(
    files: Files, stored: Stored, kind: str, data: bytes
) -> None:
    seeker = await files.user()
    response = await files.upload(seeker, "resume", rules.PDF, data)
    body = assert_error(response, 422, "FILE_REFUSED")
    assert "PDF" in body["message"], (kind, body)
    assert stored.keys() == set()
