"""Live events as production serves them: through nginx (deploy/nginx/nginx.conf), round robin
over two instances. A buffering proxy would hold the stream's bytes back; each write below
goes to one instance or the other, and the stream hears of both."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.cluster import Cluster
from tests.events.harness import open_stream, register
from tests.helpers import mark_email_verified

pytestmark = pytest.mark.slow


async def test_a_stream_through_nginx_hears_writes_made_on_either_instance(
    cluster: Cluster, database_url: str
) -> None:
    employer = await register(cluster.base_url, "employer")
    await mark_email_verified(database_url, employer.email)
    seekers = [await register(cluster.base_url) for _ in range(2)]
    async with httpx.AsyncClient(base_url=cluster.base_url, timeout=30) as client:
        company = await client.post(
            "/api/companies",
            json={"name": "Sea Grape Inn", "island": "Eleuthera"},
            headers=employer.headers,
        )
        job = await client.post(
            "/api/jobs",
            json={
                "company_id": company.json()["id"],
                "title": "Housekeeper",
                "description": "Keep twelve cottages on Governor's Harbour spotless.",
                "location": "Governor's Harbour",
                "island": "Eleuthera",
                "category": "hospitality_tourism",
                "employment_type": "full_time",
                "status": "published",
            },
            headers=employer.headers,
        )
        assert job.status_code == 201, job.text
        async with open_stream(cluster.base_url, employer.headers) as stream:
            served = set()
            applications = []
            for seeker in seekers:
                applied = await client.post(
                    f"/api/jobs/{job.json()['id']}/applications", json={}, headers=seeker.headers
                )
                assert applied.status_code == 201, applied.text
                served.add(cluster.served_by(applied))
                applications.append(applied.json()["id"])
            assert served == {0, 1}, "round robin sent both writes to one instance"
            heard = []
            for _ in applications:
                event = await stream.next_of("notification")
                heard.append(json.loads(event.data)["application_id"])
            assert sorted(heard) == sorted(applications)
