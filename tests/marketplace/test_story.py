"""The whole marketplace story, told through HTTP only."""

from __future__ import annotations

from tests.support.factories import Market

PIPELINE = ["reviewing", "shortlisted", "interviewing", "offered", "hired"]


async def test_employer_posts_seeker_applies_and_is_hired(market: Market) -> None:
    http = market.client
    employer = await market.user("employer", "Marguerite Rolle")
    seeker = await market.user("job_seeker", "Dwayne Ferguson")

    company = await market.company(
        employer, name="Sapphire Bay Resort & Spa", industry="tourism_hospitality"
    )
    assert company["slug"] == "sapphire-bay-resort-spa"

    draft = await market.job(
        employer,
        company["id"],
        status="draft",
        title="Dive Instructor",
        description="Lead guests on reef and wall dives around Exuma's cays.",
        location="George Town",
        island="Exuma",
        category="hospitality_tourism",
        skills=["padi", "scuba"],
        salary_min=2400,
        salary_max=3600,
        salary_period="month",
    )
    assert draft["status"] == "draft"
    search = {"q": "dive instructor", "island": "Exuma", "salary_min": 3000}
    assert (await http.get("/api/jobs", params=search)).json()["items"] == []
    assert (await http.get(f"/api/jobs/{draft['id']}")).status_code == 404

    published = await http.post(f"/api/jobs/{draft['id']}/publish", headers=employer.headers)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    edited = await http.patch(
        f"/api/jobs/{draft['id']}",
        json={"title": "PADI Dive Instructor", "salary_max": 3900},
        headers=employer.headers,
    )
    assert edited.status_code == 200, edited.text

    found = (await http.get("/api/jobs", params=search)).json()["items"]
    assert [j["id"] for j in found] == [draft["id"]]
    assert found[0]["title"] == "PADI Dive Instructor"
    assert found[0]["salary_max"] == 3900
    assert found[0]["company"]["name"] == "Sapphire Bay Resort & Spa"

    job_id = draft["id"]
    assert (await http.put(f"/api/jobs/{job_id}/save", headers=seeker.headers)).status_code == 204
    applied = await http.post(
        f"/api/jobs/{job_id}/applications",
        json={
            "cover_letter": "Dive master for six years in Exuma.",
            "resume_url": "https://cv.example.com/d.pdf",
        },
        headers=seeker.headers,
    )
    assert applied.status_code == 201, applied.text
    application_id = applied.json()["id"]

    inbox = (await http.get("/api/notifications", headers=employer.headers)).json()["items"]
    assert [n["kind"] for n in inbox] == ["application_received"]
    assert "Dwayne Ferguson" in inbox[0]["body"]

    for n, step in enumerate(PIPELINE, 1):
        moved = await http.patch(
            f"/api/applications/{application_id}",
            json={"status": step, "note": f"step {n}"},
            headers=employer.headers,
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == step
        count = (await http.get("/api/notifications/unread-count", headers=seeker.headers)).json()
        assert count == {"unread": n}
        latest = (await http.get("/api/notifications?limit=1", headers=seeker.headers)).json()
        assert latest["items"][0]["kind"] == "application_status_changed"
        assert latest["items"][0]["application_id"] == application_id

    seen = (await http.get(f"/api/applications/{application_id}", headers=seeker.headers)).json()
    assert [h["to_status"] for h in seen["history"]] == ["submitted", *PIPELINE]
    assert all(h["note"] is None for h in seen["history"])  # employer notes stay private
    owner_view = await http.get(f"/api/applications/{application_id}", headers=employer.headers)
    assert [h["note"] for h in owner_view.json()["history"]][1:] == [
        f"step {n}" for n in range(1, 6)
    ]

    closed = await http.post(f"/api/jobs/{job_id}/close", headers=employer.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (await http.get("/api/jobs", params=search)).json()["items"] == []
    assert (await http.get("/api/jobs")).json()["items"] == []
    saved = (await http.get("/api/users/me/saved-jobs", headers=seeker.headers)).json()["items"]
    assert [(s["job"]["id"], s["job"]["status"]) for s in saved] == [(job_id, "closed")]
    mine = (await http.get("/api/users/me/applications", headers=seeker.headers)).json()["items"]
    assert [(a["id"], a["status"], a["job"]["status"]) for a in mine] == [
        (application_id, "hired", "closed")
    ]
    listing = (await http.get("/api/employer/jobs", headers=employer.headers)).json()["items"]
    assert [(j["id"], j["status"], j["application_count"]) for j in listing] == [
        (job_id, "closed", 1)
    ]
