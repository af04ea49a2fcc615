"""GET /api/events on real Gunicorn instances: an event raised through one instance reaches a
stream open on another; a reconnect with Last-Event-ID replays what it missed; heartbeats;
logout-all and suspension end open streams everywhere; the stream limits; an idle stream holds
no pooled connection; SIGTERM ends streams so the graceful shutdown does not wait on them."""

from __future__ import annotations

import asyncio
import json
import signal

import httpx
import pytest

from tests.events.harness import (
    Account,
    hiring,
    instances,
    open_stream,
    register,
    sql,
)
from tests.support.helpers import assert_error
from tests.support.server_process import StartServer

pytestmark = pytest.mark.slow


async def _post(base_url: str, path: str, account: Account, body: object = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        return await client.post(path, json=body, headers=account.headers)


async def test_an_event_raised_through_one_instance_reaches_a_stream_on_the_other(
    server_factory: StartServer, database_url: str, redis_url: str | None
) -> None:
    one, other = instances(server_factory, database_url, redis_url, EVENTS_HEARTBEAT_SECONDS="1")
    employer, seeker, job_id = await hiring(one.base_url, database_url)
    async with open_stream(one.base_url, employer.headers) as stream:
        applied = await _post(other.base_url, f"/api/jobs/{job_id}/applications", seeker, {})
        assert applied.status_code == 201, applied.text
        application_id = applied.json()["id"]

        notification = await stream.next_of("notification")
        body = json.loads(notification.data)
        assert body["kind"] == "application_received"
        assert body["application_id"] == application_id

        sent = await _post(
            other.base_url,
            f"/api/applications/{application_id}/messages",
            seeker,
            {"body": "When can I start?"},
        )
        assert sent.status_code == 201, sent.text
        message = await stream.next_of("message")
        assert json.loads(message.data)["body"] == "When can I start?"
        unread = await stream.next_of("unread")
        assert json.loads(unread.data) == {"messages": 1, "notifications": 2}
        assert notification.id is not None and message.id is not None
        assert notification.id < message.id < (unread.id or 0)

        # An idle stream still says it is alive.
        for _ in range(60):
            if stream.comments:
                break
            await asyncio.sleep(0.1)
        assert ": heartbeat" in stream.comments


async def test_a_reconnect_with_last_event_id_replays_what_it_missed(
    server_factory: StartServer, database_url: str, redis_url: str | None
) -> None:
    one, other = instances(server_factory, database_url, redis_url)
    employer, seeker, job_id = await hiring(one.base_url, database_url)
    async with open_stream(one.base_url, employer.headers) as stream:
        applied = await _post(other.base_url, f"/api/jobs/{job_id}/applications", seeker, {})
        first = await stream.next_of("notification")
    application_id = applied.json()["id"]
    path = f"/api/applications/{application_id}/messages"
    for text in ("one", "two"):
        assert (await _post(other.base_url, path, seeker, {"body": text})).status_code == 201

    async with open_stream(
        one.base_url, employer.headers, **{"Last-Event-ID": str(first.id)}
    ) as stream:
        replayed = [await stream.next() for _ in range(5)]
    kinds = [e.kind for e in replayed if e]
    # The first message notifies (once while unread), then comes, then the counts change.
    assert kinds == ["notification", "message", "unread", "message", "unread"]
    assert [json.loads(e.data)["body"] for e in replayed if e and e.kind == "message"] == [
        "one",
        "two",
    ]
    ids = [e.id for e in replayed if e]
    assert ids == sorted(ids) and ids[0] > first.id  # type: ignore[operator]

    # Without Last-Event-ID a stream starts from now: nothing old comes back.
    async with open_stream(one.base_url, employer.headers) as stream:
        assert (await _post(other.base_url, path, seeker, {"body": "three"})).status_code == 201
        assert json.loads((await stream.next_of("message")).data)["body"] == "three"

    async with httpx.AsyncClient(base_url=one.base_url, timeout=10) as client:
        for bad in ("-1", "abc", str(2**63)):
            response = await client.get(
                "/api/events", headers={**employer.headers, "Last-Event-ID": bad}
            )
            assert_error(response, 422, "VALIDATION_ERROR")
        assert_error(await client.get("/api/events"), 401, "UNAUTHORIZED")


async def test_logout_all_and_suspension_end_open_streams_on_every_instance(
    server_factory: StartServer, database_url: str, redis_url: str | None
) -> None:
    one, other = instances(server_factory, database_url, redis_url)
    user = await register(one.base_url)
    async with (
        open_stream(one.base_url, user.headers) as here,
        open_stream(other.base_url, user.headers) as there,
    ):
        assert (await _post(other.base_url, "/api/auth/logout-all", user)).status_code == 204
        for stream in (here, there):
            assert [e.kind for e in await stream.until_end()] == ["session_ended"]
            assert stream.ended_cleanly

    # A stream opened after a past logout-all is not ended by that old event.
    async with httpx.AsyncClient(base_url=one.base_url, timeout=30) as client:
        login = await client.post(
            "/api/auth/login", json={"email": user.email, "password": "live-events-0123"}
        )
    fresh = {"Authorization": f"Bearer {login.json()['access_token']}"}
    admin = await register(one.base_url, "employer")
    await sql(database_url, "UPDATE users SET role = 'admin' WHERE id = $1", admin.id)
    async with open_stream(one.base_url, fresh, **{"Last-Event-ID": "0"}) as stream:
        suspended = await _post(
            other.base_url, f"/api/admin/users/{user.id}/suspend", admin, {"reason": "Spam"}
        )
        assert suspended.status_code == 200, suspended.text
        assert [e.kind for e in await stream.until_end()] == ["session_ended"]


async def test_streams_are_limited_per_user_and_per_instance(
    server_factory: StartServer, database_url: str, redis_url: str | None
) -> None:
    [one] = instances(
        server_factory,
        database_url,
        redis_url,
        count=1,
        EVENTS_MAX_STREAMS_PER_USER="2",
        EVENTS_MAX_STREAMS="3",
    )
    alice, bob = await register(one.base_url), await register(one.base_url)
    async with httpx.AsyncClient(base_url=one.base_url, timeout=10) as client:
        async with (
            open_stream(one.base_url, alice.headers),
            open_stream(one.base_url, alice.headers),
        ):
            refused = await client.get("/api/events", headers=alice.headers)
            body = assert_error(refused, 429, "TOO_MANY_STREAMS")
            assert "2" in body["message"]
            assert int(refused.headers["retry-after"]) >= 1
            async with open_stream(one.base_url, bob.headers):
                full = await client.get("/api/events", headers=bob.headers)
                assert_error(full, 429, "TOO_MANY_STREAMS")
        # Closed streams give their slots back.
        async with open_stream(one.base_url, alice.headers), open_stream(one.base_url, bob.headers):
            pass


async def test_idle_streams_hold_no_pooled_connection(
    server_factory: StartServer, database_url: str, redis_url: str | None
) -> None:
    [one] = instances(
        server_factory,
        database_url,
        redis_url,
        count=1,
        DB_POOL_SIZE="1",
        DB_MAX_OVERFLOW="0",
        DB_POOL_TIMEOUT="2",
    )
    user = await register(one.base_url)
    async with (
        open_stream(one.base_url, user.headers),
        open_stream(one.base_url, user.headers),
        open_stream(one.base_url, user.headers),
        httpx.AsyncClient(base_url=one.base_url, timeout=10) as client,
    ):
        for _ in range(3):
            response = await client.get("/api/notifications", headers=user.headers)
            assert response.status_code == 200, response.text
        metrics = (await client.get("/metrics")).text
    assert 'db_pool_connections{state="in_use"} 0.0' in metrics, metrics


async def test_sigterm_ends_open_streams_and_the_worker_exits_cleanly(
    server_factory: StartServer, database_url: str, redis_url: str | None
) -> None:
    [one] = instances(
        server_factory, database_url, redis_url, count=1, GUNICORN_GRACEFUL_TIMEOUT="20"
    )
    user = await register(one.base_url)
    async with open_stream(one.base_url, user.headers) as stream:
        one.send_signal(signal.SIGTERM)
        assert await stream.until_end() == []
        assert stream.ended_cleanly
    assert one.wait_exit() == 0
    log = one.log()
    assert "was sent SIGKILL" not in log and "was sent SIGTERM" not in log, log
    assert "Application shutdown complete" in log
