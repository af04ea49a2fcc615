"""HTTP caching (DESIGN 3): anonymous public GETs are publicly cacheable with an ETag and answer
If-None-Match with 304, HEAD included; everything personal or token-bearing is no-store; the
job page is in the Redis cache like the list, and every write that changes it shows at once."""

from __future__ import annotations

import httpx
import pytest

from tests.support.factories import Market


def _public(response: httpx.Response) -> str:
    """The response is publicly cacheable; its ETag."""
    assert response.status_code == 200, response.text
    directives = {d.strip().split("=")[0] for d in response.headers["cache-control"].split(",")}
    assert {"public", "s-maxage", "stale-while-revalidate"} <= directives
    assert "Authorization" in response.headers["vary"]
    return response.headers["etag"]


async def _public_paths(market: Market) -> list[str]:
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    job = (await market.job(employer, company))["id"]
    return [
        "/api/jobs",
        "/api/jobs?q=front&island=New%20Providence",
        f"/api/jobs/{job}",
        "/api/companies",
        f"/api/companies/{company}",
        "/api/stats",
    ]


async def test_anonymous_public_gets_are_cacheable_and_revalidate_with_304(
    market: Market,
) -> None:
    for path in await _public_paths(market):
        first = await market.client.get(path)
        etag = _public(first)
        again = await market.client.get(path)
        assert again.headers["etag"] == etag and again.content == first.content, path

        fresh = await market.client.get(path, headers={"If-None-Match": etag})
        assert fresh.status_code == 304, path
        assert fresh.content == b""
        assert fresh.headers["etag"] == etag
        assert "public" in fresh.headers["cache-control"]
        listed = await market.client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
        assert listed.status_code == 304, path
        stale = await market.client.get(path, headers={"If-None-Match": '"something-else"'})
        assert stale.status_code == 200 and stale.content == first.content, path

        head = await market.client.head(path)
        assert _public(head) == etag, path
        assert head.content == b""
        assert head.headers["content-length"] == str(len(first.content))
        head_fresh = await market.client.head(path, headers={"If-None-Match": etag})
        assert head_fresh.status_code == 304, path


async def test_a_signed_in_read_of_a_public_job_page_is_never_publicly_cached(
    market: Market,
) -> None:
    owner = await market.user("employer")
    reader = await market.user()
    job = (await market.job(owner, (await market.company(owner))["id"]))["id"]
    draft = (await market.job(owner, (await market.company(owner))["id"], status="draft"))["id"]
    for who, job_id in ((reader, job), (owner, job), (owner, draft)):
        response = await market.client.get(f"/api/jobs/{job_id}", headers=who.headers)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        assert "etag" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/auth/login", {"email": "x@example.com", "password": "wrong password"}),
        ("GET", "/api/auth/me", None),
        ("GET", "/api/users/me", None),
        ("GET", "/api/notifications", None),
        ("GET", "/api/jobs/999999999", None),  # an error of a public URL
    ],
)
async def test_personal_token_and_error_responses_are_no_store(
    market: Market, method: str, path: str, body: dict | None
) -> None:
    seeker = await market.user()
    response = await market.client.request(method, path, json=body, headers=seeker.headers)
    assert response.headers["cache-control"] == "no-store", (path, response.status_code)
    assert "etag" not in response.headers


async def test_a_token_pair_is_no_store(market: Market) -> None:
    response = await market.client.post(
        "/api/auth/register",
        json={
            "email": "new-seeker@example.com",
            "password": "a long enough password",
            "full_name": "New Seeker",
            "role": "job_seeker",
        },
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"


async def test_the_cached_job_page_follows_every_write_that_changes_it(market: Market) -> None:
    employer = await market.user("employer")
    h = employer.headers
    company = (await market.company(employer, name="Old Name"))["id"]
    job = (await market.job(employer, company, title="Chef"))["id"]
    page = f"/api/jobs/{job}"

    # Served from the cache: a change behind the API's back is not seen ...
    first = await market.cached_copy(
        page, "UPDATE jobs SET description = :mark WHERE id = :j", j=job
    )

    # ... and every write through the API is, with a new ETag.
    seen = {first.headers["etag"]}
    await market.client.patch(page, json={"title": "Sous Chef"}, headers=h)
    edited = await market.client.get(page)
    assert edited.json()["title"] == "Sous Chef"
    await market.client.patch(f"/api/companies/{company}", json={"name": "New Name"}, headers=h)
    renamed = await market.client.get(page)
    assert renamed.json()["company"]["name"] == "New Name"
    await market.client.post(f"{page}/close", headers=h)
    closed = await market.client.get(page)
    assert closed.json()["status"] == "closed"
    for response in (edited, renamed, closed):
        assert response.headers["etag"] not in seen
        seen.add(response.headers["etag"])
    await market.client.delete(page, headers=h)
    assert (await market.client.get(page)).status_code == 404


async def test_a_public_page_is_gzipped_for_clients_that_accept_it_with_one_etag(
    market: Market,
) -> None:
    """The cached page's gzip is the body's, under the same ETag, and a client that does not
    accept gzip gets the plain body; both vary on Accept-Encoding."""
    employer = await market.user("employer")
    company = (await market.company(employer))["id"]
    job = await market.job(employer, company, description="Reef guide. " * 200)
    page = f"/api/jobs/{job['id']}"
    plain = await market.client.get(page, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    for _ in range(2):  # stored, then a hit: the same bytes
        zipped = await market.client.get(page, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert int(zipped.headers["content-length"]) < len(plain.content)
        assert zipped.content == plain.content  # httpx decodes it
        assert zipped.headers["etag"] == plain.headers["etag"]
        assert "Accept-Encoding" in zipped.headers["vary"]
        assert "Authorization" in zipped.headers["vary"]
    assert "Accept-Encoding" in plain.headers["vary"]
