"""The thread of an application: who may read and write it, what a message may hold, unread
counts and read markers, notifications, pages, and the per-account write limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.support.factories import Actor, Market
from tests.support.helpers import assert_error, make_client


@dataclass
class Thread:
    market: Market
    employer: Actor
    seeker: Actor
    job_id: int
    application_id: int

    @property
    def path(self) -> str:
        return f"/api/applications/{self.application_id}/messages"

    async def send(self, actor: Actor, body: Any) -> Any:
        return await self.market.client.post(self.path, json=body, headers=actor.headers)

    async def get(self, actor: Actor, path: str, **params: Any) -> dict[str, Any]:
        response = await self.market.client.get(path, params=params, headers=actor.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def count(self) -> int:
        [[n]] = await self.market.sql("SELECT count(*) FROM messages")
        return n


async def _thread(market: Market) -> Thread:
    employer = await market.user("employer", "Ava Employer")
    seeker = await market.user("job_seeker", "Sam Seeker")
    company = await market.company(employer)
    job = await market.job(employer, company["id"])
    applied = await market.client.post(
        f"/api/jobs/{job['id']}/applications", json={}, headers=seeker.headers
    )
    assert applied.status_code == 201, applied.text
    return Thread(market, employer, seeker, job["id"], applied.json()["id"])


@pytest.fixture
async def thread(market: Market) -> Thread:
    return await _thread(market)


async def _notifications(thread: Thread, actor: Actor) -> list[dict[str, Any]]:
    body = await thread.get(actor, "/api/notifications", unread_only="true")
    return [n for n in body["items"] if n["kind"] == "new_message"]


async def test_a_conversation_between_applicant_and_employer(thread: Thread) -> None:
    sent = await thread.send(thread.seeker, {"body": "  Hello, is the role still open?\n  "})
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["body"] == "Hello, is the role still open?"
    assert message["sender"] == "applicant"
    assert message["sender_id"] == thread.seeker.id

    # The employer sees it, unread, in their conversations and in the thread.
    listed = await thread.get(thread.employer, "/api/conversations")
    assert listed["total_unread"] == 1
    [conversation] = listed["items"]
    assert conversation["id"] == thread.application_id
    assert conversation["unread"] == 1
    assert conversation["other_party"] == {"id": thread.seeker.id, "full_name": "Sam Seeker"}
    assert conversation["last_message"]["id"] == message["id"]
    assert conversation["job"]["id"] == thread.job_id
    assert conversation["application_status"] == "submitted"
    page = await thread.get(thread.employer, thread.path)
    assert [m["id"] for m in page["items"]] == [message["id"]]

    # The sender's own message is never unread for them.
    mine = await thread.get(thread.seeker, "/api/conversations")
    assert mine["total_unread"] == 0
    assert mine["items"][0]["unread"] == 0
    assert mine["items"][0]["other_party"]["full_name"] == "Ava Employer"

    reply = await thread.send(thread.employer, {"body": "It is. Can you come Thursday at 10?"})
    assert reply.json()["sender"] == "employer"
    assert (await thread.get(thread.seeker, "/api/conversations"))["total_unread"] == 1

    marked = await thread.market.client.post(
        f"/api/conversations/{thread.application_id}/read", headers=thread.employer.headers
    )
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"id": thread.application_id, "unread": 0, "total_unread": 0}
    listed = await thread.get(thread.employer, "/api/conversations")
    assert listed["total_unread"] == 0
    assert listed["items"][0]["unread"] == 0
    assert listed["items"][0]["last_message"]["id"] == reply.json()["id"]


async def test_unread_counts_add_up_across_conversations(market: Market) -> None:
    first = await _thread(market)
    second = await _thread(market)
    for _ in range(2):
        await first.send(first.seeker, {"body": "About the first job"})
    await second.send(second.seeker, {"body": "About the second job"})
    # The same employer name is unrelated: each thread has its own owner.
    assert (await first.get(first.employer, "/api/conversations"))["total_unread"] == 2
    assert (await second.get(second.employer, "/api/conversations"))["total_unread"] == 1


async def test_a_new_message_notifies_the_other_side_once_while_unread(thread: Thread) -> None:
    await thread.send(thread.seeker, {"body": "First"})
    await thread.send(thread.seeker, {"body": "Second"})
    [notification] = await _notifications(thread, thread.employer)
    assert notification["application_id"] == thread.application_id
    assert notification["title"] == "New message about Front Desk Agent"
    assert await _notifications(thread, thread.seeker) == []

    # Reading the thread reads its notification; the next message notifies again.
    await thread.market.client.post(
        f"/api/conversations/{thread.application_id}/read", headers=thread.employer.headers
    )
    assert await _notifications(thread, thread.employer) == []
    await thread.send(thread.seeker, {"body": "Third"})
    assert len(await _notifications(thread, thread.employer)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"body": ""},
        {"body": "   \n\t "},
        {"body": "x" * 4001},
        {"body": "bell \x07 in the middle"},
        {"body": "nul \x00"},
        {"body": 42},
        {"body": "fine", "sender_id": 1},
    ],
    ids=["missing", "empty", "blank", "too-long", "control", "nul", "not-text", "extra-field"],
)
async def test_bad_messages_are_refused_and_nothing_is_written(thread: Thread, body: Any) -> None:
    assert_error(await thread.send(thread.seeker, body), 422, "VALIDATION_ERROR")
    assert await thread.count() == 0
    assert await _notifications(thread, thread.employer) == []


async def test_the_longest_message_and_multi_line_text_are_kept(thread: Thread) -> None:
    longest = "y" * 4000
    assert (await thread.send(thread.seeker, {"body": longest})).json()["body"] == longest
    lines = "Line one\n\tindented line two"
    assert (await thread.send(thread.seeker, {"body": lines})).json()["body"] == lines


@pytest.mark.parametrize("close", ["withdraw", "reject"])
async def test_writing_closes_with_the_application_but_reading_stays_open(
    thread: Thread, close: str
) -> None:
    await thread.send(thread.seeker, {"body": "Before"})
    client = thread.market.client
    if close == "withdraw":
        response = await client.post(
            f"/api/applications/{thread.application_id}/withdraw", headers=thread.seeker.headers
        )
    else:
        response = await client.patch(
            f"/api/applications/{thread.application_id}",
            json={"status": "rejected"},
            headers=thread.employer.headers,
        )
    assert response.status_code == 200, response.text
    for actor in (thread.seeker, thread.employer):
        assert_error(await thread.send(actor, {"body": "After"}), 409, "CONFLICT")
        assert [m["body"] for m in (await thread.get(actor, thread.path))["items"]] == ["Before"]
    assert await thread.count() == 1


async def test_messages_come_newest_first_in_keyset_pages(thread: Thread) -> None:
    sent = [(await thread.send(thread.seeker, {"body": f"m{i}"})).json()["id"] for i in range(5)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await thread.get(thread.employer, thread.path, **params)
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A message sent while paging comes on no later page: it sorts before the cursor.
        await thread.send(thread.employer, {"body": "meanwhile"})
    assert seen == sorted(sent, reverse=True)
    bad = await thread.market.client.get(
        thread.path, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=thread.seeker.headers
    )
    assert_error(bad, 422, "VALIDATION_ERROR")


async def test_ids_out_of_range_are_a_422(thread: Thread) -> None:
    for path in ("/api/applications/0/messages", f"/api/applications/{2**63}/messages"):
        response = await thread.market.client.get(path, headers=thread.seeker.headers)
        assert_error(response, 422, "VALIDATION_ERROR")
    response = await thread.market.client.post(
        "/api/conversations/99999/read", headers=thread.seeker.headers
    )
    assert_error(response, 404, "NOT_FOUND")


async def test_message_writes_are_limited_per_account_across_instances(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    redis: Any,
) -> None:
    """Two app instances on one Redis count against the same per-account window."""
    settings = make_settings(rate_limit_messages="3/hour")
    one: FastAPI = await start_app(settings)
    other: FastAPI = await start_app(settings)
    async with make_client(one) as client:
        thread = await _thread(Market(one, client))
        for _ in range(2):
            assert (await thread.send(thread.seeker, {"body": "hi"})).status_code == 201
        async with make_client(other) as second:
            third = await second.post(
                thread.path, json={"body": "hi"}, headers=thread.seeker.headers
            )
            assert third.status_code == 201
            refused = await second.post(
                thread.path, json={"body": "hi"}, headers=thread.seeker.headers
            )
        assert_error(refused, 429, "RATE_LIMITED")
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert_error(await thread.send(thread.seeker, {"body": "hi"}), 429, "RATE_LIMITED")
        assert await thread.count() == 3
        # The limit is the account's: the other side still writes.
        assert (await thread.send(thread.employer, {"body": "hello"})).status_code == 201
