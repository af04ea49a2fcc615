"""The issue's done-when, tried as new users would through the API, on both backends: a seeker
uploads a PDF résumé and a photo, applies with the résumé, and the employer downloads it through
the application's link; a second employer, another seeker and an anonymous caller cannot. An
employer finds the public seeker by skill and island, and never a hidden one."""

from __future__ import annotations

from app.files import rules
from tests.support import samples
from tests.support.helpers import assert_error
from tests.support.storage import Files


async def test_resume_to_employer_and_candidates_story(files: Files) -> None:
    client = files.client
    seeker = await files.user(full_name="Kendra Rolle")
    employer, second_employer = await files.user("employer"), await files.user("employer")
    other_seeker = await files.user()
    company = await files.company(employer)
    job = await files.job(employer, company["id"], skills=["Customer service"])

    # The seeker's résumé and photo.
    document = samples.pdf(pages=2)
    resume = (await files.upload(seeker, "resume", rules.PDF, document)).json()
    photo = (await files.upload(seeker, "avatar", rules.JPEG, samples.image("JPEG"))).json()
    profile = await client.patch(
        "/api/users/me",
        json={
            "resume_file_id": resume["id"],
            "avatar_file_id": photo["id"],
            "headline": "Front desk supervisor",
            "bio": "Six years welcoming guests on Paradise Island.",
            "skills": ["Customer service", "Opera PMS"],
            "island": "New Providence",
            "years_experience": 6,
            "visibility": "public",
        },
        headers=seeker.headers,
    )
    assert profile.status_code == 200, profile.text
    assert profile.json()["resume"]["id"] == resume["id"]

    # Applies with it.
    applied = await client.post(
        f"/api/jobs/{job['id']}/applications",
        json={"cover_letter": "I would love to join.", "resume_file_id": resume["id"]},
        headers=seeker.headers,
    )
    assert applied.status_code == 201, applied.text
    application_id = applied.json()["id"]

    # The employer downloads it through the application's link.
    seen = await client.get(f"/api/applications/{application_id}", headers=employer.headers)
    assert seen.status_code == 200
    link = seen.json()["resume"]["url"]
    download = await files.fetch(link)
    assert download.status_code == 200
    assert download.content == document

    # Nobody else gets to it.
    for outsider in (second_employer, other_seeker):
        response = await client.get(f"/api/applications/{application_id}", headers=outsider.headers)
        assert_error(response, 404)
        assert_error(
            await client.get(f"/api/files/{resume['id']}/content", headers=outsider.headers), 404
        )
    assert_error(await client.get(f"/api/applications/{application_id}"), 401)
    assert_error(await client.get(f"/api/files/{resume['id']}/content"), 404)

    # The application keeps the résumé it was sent with after the profile's changes.
    newer = (await files.upload(seeker, "resume", rules.DOCX, samples.docx())).json()
    await client.patch(
        "/api/users/me", json={"resume_file_id": newer["id"]}, headers=seeker.headers
    )
    seen = (
        await client.get(f"/api/applications/{application_id}", headers=employer.headers)
    ).json()
    assert seen["resume"]["id"] == resume["id"]
    assert (await files.fetch(seen["resume"]["url"])).content == document

    # A hidden seeker with the same skills and island.
    hidden = await files.user(full_name="Hidden Seeker")
    await client.patch(
        "/api/users/me",
        json={"skills": ["Customer service"], "island": "New Providence", "headline": "Front desk"},
        headers=hidden.headers,
    )

    found = await client.get(
        "/api/candidates",
        params={"skills": "customer service", "island": "New Providence"},
        headers=second_employer.headers,
    )
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert [c["id"] for c in items] == [seeker.id]
    assert items[0]["avatar_url"] == photo["url"]
    assert items[0]["contact"] is None  # the seeker never applied to this employer
    by_text = await client.get(
        "/api/candidates", params={"q": "front desk"}, headers=second_employer.headers
    )
    assert [c["id"] for c in by_text.json()["items"]] == [seeker.id]

    # The employer applied to sees how to reach them, résumé included.
    mine = (await client.get("/api/candidates", headers=employer.headers)).json()["items"]
    assert mine[0]["contact"]["email"] == seeker.email
    assert mine[0]["contact"]["resume"]["id"] == newer["id"]
