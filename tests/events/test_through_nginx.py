"""Live events as production serves them: through nginx (deploy/nginx/nginx.conf), round robin
over two instances. A buffering proxy would hold the stream's bytes back; each write below
goes to one instance or the other, and the stream hears of both."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.events.harness import hiring, open_stream, register
from tests.support.cluster import Cluster

pytestmark = pytest.mark.slow


async def test_a_stream_through_nginx_hears_writes_made_on_either_instance(
    cluster: Cluster, database_url: str
) -> None:
    employer, first, job_id = await hiring(cluster.base_url, database_url)
    seekers = [first, await register(cluster.base_url)]
    async with (
        httpx.AsyncClient(base_url=cluster.base_url, timeout=30) as client,
        open_stream(cluster.base_url, employer.headers) as stream,
    ):
        served = set()
        applications = []
        for seeker in seekers:
            applied = await client.post(
                f"/api/jobs/{job_id}/applications", json={}, headers=seeker.headers
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
