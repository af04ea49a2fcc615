"""Who gets which bytes: signed links on the filesystem backend (the service enforces expiry
and signatures there; moto does not for presigned GETs), replacement and deletion of bytes on
both backends, and the cleanup of uploads never completed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from app.files import rules
from app.files.storage import STORAGE
from tests.support import samples
from tests.support.helpers import assert_error
from tests.support.server_process import ROOT, TEST_SECRET
from tests.support.storage import Files, Stored

filesystem_only = pytest.mark.parametrize("backend", ["filesystem"], indirect=True)


def _with(url: str, **params: object) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | params
    return f"{parts.path}?{urlencode(query)}"


async def _resume(files: Files):
    seeker = await files.user()
    response = await files.upload(seeker, "resume", rules.PDF, samples.pdf())
    assert response.status_code == 200, response.text
    return seeker, response.json()


@filesystem_only
async def test_a_resume_link_works_until_it_expires_and_not_once_altered(files: Files) -> None:
    _, resume = await _resume(files)
    url = resume["url"]
    assert (await files.client.get(url)).status_code == 200
    served = await files.client.get(url)
    assert served.headers["cache-control"] == "private, no-store"
    assert served.headers["content-disposition"].startswith("attachment")

    query = parse_qs(urlsplit(url).query)
    signature = query["signature"][0]
    tampered = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert_error(await files.client.get(_with(url, signature=tampered)), 403, "LINK_INVALID")
    later = int(query["expires"][0]) + 3600
    assert_error(await files.client.get(_with(url, expires=later)), 403, "LINK_INVALID")
    # The same signature on another file's id grants nothing.
    other_path = url.replace(f"/files/{resume['id']}/", f"/files/{resume['id'] + 1}/")
    assert (await files.client.get(other_path)).status_code in (403, 404)
    # Without a link, a résumé does not exist.
    assert_error(await files.client.get(f"/api/files/{resume['id']}/content"), 404)

    # A link the service signed whose time has passed.
    storage = files.app.state.services.of(STORAGE)
    expired = storage.download_url(
        resume["id"], "ignored", "original", expires_at=int(time.time()) - 1
    )
    assert_error(await files.client.get(expired), 403, "LINK_EXPIRED")


@filesystem_only
async def test_the_upload_url_is_signed_and_one_use(files: Files) -> None:
    seeker = await files.user()
    ticket = (await files.announce(seeker, "resume", rules.PDF, 1000)).json()
    signature = parse_qs(urlsplit(ticket["url"]).query)["signature"][0]
    forged = _with(ticket["url"], signature="0" * 64 if signature != "0" * 64 else "1" * 64)
    response = await files.client.put(forged, content=samples.pdf(), headers=ticket["headers"])
    assert_error(response, 403, "LINK_INVALID")
    longer = _with(ticket["url"], expires=int(time.time()) + 86400)
    response = await files.client.put(longer, content=samples.pdf(), headers=ticket["headers"])
    assert_error(response, 403, "LINK_INVALID")

    assert (await files.send(ticket, samples.pdf())).status_code == 204
    assert (await files.complete(seeker, ticket["id"])).status_code == 200
    assert_error(await files.send(ticket, samples.pdf()), 409)


@filesystem_only
async def test_other_routes_keep_the_one_mebibyte_body_limit(files: Files) -> None:
    seeker = await files.user()
    response = await files.client.patch(
        "/api/users/me", content=b"{" + b" " * 1_100_000 + b"}", headers=seeker.headers
    )
    assert_error(response, 413)


async def test_a_replaced_avatar_and_a_deleted_account_take_their_bytes_along(
    files: Files, stored: Stored
) -> None:
    seeker = await files.user()
    first = (await files.upload(seeker, "avatar", rules.PNG, samples.image("PNG"))).json()
    second = (await files.upload(seeker, "avatar", rules.JPEG, samples.image("JPEG"))).json()
    me = await files.client.patch(
        "/api/users/me", json={"avatar_file_id": first["id"]}, headers=seeker.headers
    )
    assert me.status_code == 200, me.text
    assert me.json()["avatar_url"] == first["url"]
    assert len(stored.keys()) == 4  # two images, two thumbnails

    me = await files.client.patch(
        "/api/users/me", json={"avatar_file_id": second["id"]}, headers=seeker.headers
    )
    assert me.json()["avatar_url"] == second["url"]
    assert len(stored.keys()) == 2
    assert (await files.fetch(first["url"])).status_code == 404
    public = await files.client.get(f"/api/users/{seeker.id}", headers=seeker.headers)
    assert public.json()["avatar_url"] == second["url"]

    resume = (await files.upload(seeker, "resume", rules.PDF, samples.pdf())).json()
    await files.client.patch(
        "/api/users/me", json={"resume_file_id": resume["id"]}, headers=seeker.headers
    )
    assert len(stored.keys()) == 3
    deleted = await files.client.request(
        "DELETE",
        "/api/users/me",
        json={"password": "correct horse battery"},
        headers=seeker.headers,
    )
    assert deleted.status_code == 204
    assert stored.keys() == set()
    assert await files.sql("SELECT id FROM files") == []


async def test_a_profile_refers_only_to_its_owners_completed_files_of_the_right_purpose(
    files: Files,
) -> None:
    seeker, other = await files.user(), await files.user()
    theirs = (await files.upload(other, "resume", rules.PDF, samples.pdf())).json()
    avatar = (await files.upload(seeker, "avatar", rules.PNG, samples.image("PNG"))).json()
    pending = (await files.announce(seeker, "resume", rules.PDF, 1000)).json()
    for body in (
        {"resume_file_id": theirs["id"]},  # someone else's
        {"resume_file_id": avatar["id"]},  # an image is not a résumé
        {"resume_file_id": pending["id"]},  # never completed
        {"avatar_file_id": 10**12},  # no such file
        {"avatar_file_id": avatar["id"], "avatar_url": "https://example.com/me.png"},
    ):
        response = await files.client.patch("/api/users/me", json=body, headers=seeker.headers)
        assert_error(response, 422)
    me = (await files.client.get("/api/users/me", headers=seeker.headers)).json()
    assert me["resume"] is None and me["avatar_file_id"] is None


async def test_a_company_logo_is_public_and_shown_on_its_jobs(files: Files) -> None:
    employer = await files.user("employer")
    logo = (await files.upload(employer, "company_logo", rules.PNG, samples.image("PNG"))).json()
    company = await files.company(employer, logo_file_id=logo["id"])
    assert company["logo_url"] == logo["url"]
    job = await files.job(employer, company["id"])
    listed = (await files.client.get("/api/jobs")).json()["items"]
    assert [j["company"]["logo_url"] for j in listed if j["id"] == job["id"]] == [logo["url"]]
    image = await files.fetch(logo["url"])
    assert image.status_code == 200 and image.headers["content-type"] == rules.PNG


@filesystem_only
async def test_cleanup_removes_uploads_never_completed(
    files: Files, stored: Stored, database_url: str
) -> None:
    seeker = await files.user()
    abandoned = (await files.announce(seeker, "resume", rules.PDF, 1000)).json()
    await files.send(abandoned, samples.pdf())
    kept = (await files.upload(seeker, "resume", rules.PDF, samples.pdf())).json()
    fresh = (await files.announce(seeker, "resume", rules.PDF, 1000)).json()
    await files.sql(
        "UPDATE files SET expires_at = now() - interval '1 minute' WHERE id = :id",
        id=abandoned["id"],
    )
    assert len(stored.keys()) == 2

    result = subprocess.run(
        [sys.executable, "-m", "app", "cleanup-uploads"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET,
            "STORAGE_URL": f"file://{stored.root}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Removed 1 expired upload(s)." in result.stdout
    remaining = {row[0] for row in await files.sql("SELECT id FROM files")}
    assert remaining == {kept["id"], fresh["id"]}
    assert len(stored.keys()) == 1
    assert_error(await files.complete(seeker, abandoned["id"]), 404)
